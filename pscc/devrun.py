"""`make run`: the whole center on one machine.

Starts PostgreSQL and Redis (embedded, unless DATABASE_URL / REDIS_URL are set), migrates, loads the
demo center, then runs the ASGI server (daphne), a Celery worker, one Celery beat, the journal relay
and the simulators. Prints the URL and the demo logins. Ctrl-C stops every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pscc.embedded import ROOT, VAR, EmbeddedServices

PORT = int(os.environ.get("PSCC_PORT", "8000"))
SIM_PORT = int(os.environ.get("PSCC_SIMULATOR_PORT", "8100"))
PY = sys.executable
BIN = Path(PY).parent


def _spawn(name: str, args: list[str], env: dict) -> tuple[str, subprocess.Popen]:
    log = open(VAR / "log" / f"{name}.log", "ab")
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return name, proc


def _stop(children: list[tuple[str, subprocess.Popen]]) -> None:
    for _, proc in children:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 3
    for name, proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def main() -> int:
    (VAR / "log").mkdir(parents=True, exist_ok=True)
    services = EmbeddedServices()
    children: list[tuple[str, subprocess.Popen]] = []
    stopping = {"flag": False}

    def request_stop(*_):
        stopping["flag"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        env = {**os.environ, **services.start_missing()}
        env.setdefault("PSCC_ENV", "development")
        env.setdefault("PSCC_SIMULATOR_URL", f"http://127.0.0.1:{SIM_PORT}")
        env.setdefault("PSCC_CPE_TOKEN", "demo-cpe-token")
        env.setdefault("PSCC_TCC_SECRET", "demo-tcc-secret")
        manage = [PY, str(ROOT / "manage.py")]
        print("run: migrating the database", flush=True)
        subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, stdout=subprocess.DEVNULL)
        print("run: loading the demo center", flush=True)
        subprocess.run([*manage, "load_demo_center"], env=env, check=True)
        children.append(_spawn("web", [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(PORT), "pscc.asgi:application"], env))
        children.append(_spawn("relay", [*manage, "run_relay"], env))
        children.append(_spawn("worker", [str(BIN / "celery"), "-A", "pscc", "worker", "-l", "INFO", "-c", "2",
                                          "-n", f"worker-{os.getpid()}@%h"], env))
        children.append(_spawn("beat", [str(BIN / "celery"), "-A", "pscc", "beat", "-l", "INFO",
                                        "-s", str(VAR / "celerybeat-schedule")], env))
        if (ROOT / "simulators" / "__main__.py").exists():
            children.append(_spawn("simulators", [PY, "-m", "simulators", "--host", "127.0.0.1", "--port", str(SIM_PORT),
                                                  "--product-url", f"http://127.0.0.1:{PORT}",
                                                  "--cpe-token", env["PSCC_CPE_TOKEN"],
                                                  "--tcc-secret", env["PSCC_TCC_SECRET"], "--demo"], env))
        from pscc.demo import DEMO_PASSWORD

        print(
            "\n"
            f"  PSCC CAD is running at http://127.0.0.1:{PORT}/\n"
            f"  Demo logins (password for all: {DEMO_PASSWORD}):\n"
            "    telecom      telecommunicator console\n"
            "    supervisor   shift supervisor (live board)\n"
            "    admin        administrator (Django admin at /admin/)\n"
            "    partner-cpd  partner agency (REST API, Casper Police Department)\n"
            f"  Logs: {VAR / 'log'}/   Health: http://127.0.0.1:{PORT}/healthz\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping["flag"]:
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"run: {name} exited with {proc.returncode}; see var/log/{name}.log — stopping", flush=True)
                    stopping["flag"] = True
                    break
            time.sleep(0.5)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"run: a start-up step failed: {exc}", flush=True)
        return 1
    finally:
        print("run: stopping", flush=True)
        _stop(children)
        services.stop()
        print("run: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
