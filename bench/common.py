"""What every benchmark shares: Django set-up, the processes it starts, the driver, statistics, output.

Processes are started in their own session (process group) and stopped with the group, so nothing a
benchmark starts outlives it: use `Processes` as a context manager.
"""

from __future__ import annotations

import json
import os
import platform
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
UPDATE_KIND = "bench.update"
LATENCY_TARGET_MS = 250.0


# --- Django -------------------------------------------------------------------------------------
def setup_django() -> None:
    """Set Django up in this process (a no-op when it already is, as under pytest)."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pscc.settings")
    django.setup()


def require_migrated() -> None:
    """Refuse to measure a database whose schema is behind the code (the server would fail on it)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(
            f"the database has {len(plan)} unapplied migrations: run `python manage.py migrate` "
            "(or `python -m bench`, which migrates first)"
        )


# The tables the write-path benchmarks insert into, update and delete from (the journal's rows are
# updated once each by the relay; the calls and texts a run rings in are deleted at its end).
HOT_TABLES = ("pscc_journalevent", "pscc_relaycursor", "pscc_idempotencyrecord", "calltaking_call",
              "calltaking_alirecord", "text911_textsession", "text911_textmessage")


def vacuum_hot_tables() -> float:
    """VACUUM (ANALYZE) the tables earlier runs churned, so that each run starts from the same state
    whatever ran before it; returns the seconds it took.

    Without it, a database whose autovacuum is off (this machine's PostgreSQL has it off) or has not
    caught up keeps every dead row of every earlier run: after a few runs the calls table held 40,000
    dead rows for 2 live ones and intake slowed by a quarter. Production relies on autovacuum."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(HOT_TABLES))
    return round(time.monotonic() - started, 2)


def child_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the server, relay and clients: this process's database, Redis and prefix."""
    from django.conf import settings

    env = {**os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "pscc.settings",
            "REDIS_URL": settings.REDIS_URL,
            "PSCC_CHANNEL_PREFIX": settings.PSCC_CHANNEL_PREFIX,
            "PSCC_ENV": "development",
            "DJANGO_DEBUG": "false",  # as in production: no query log, no debug pages
            "PSCC_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # As docker-compose.yml runs the web server: a connection pool per process.
            "DATABASE_POOL": os.environ.get("DATABASE_POOL", "true"),
        }
    )
    env.update(overrides or {})
    return env


def floor_session_cookies(count: int, *, username: str = "bench-console") -> list[str]:
    """`count` signed-in sessions of one telecommunicator, as Cookie header values.

    One account with many sessions: creating hundreds of accounts would spend minutes hashing
    passwords and measures nothing the floor socket does (it reads one session and one user).
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from pscc.services import roles_ensure, staff_account_ensure

    roles_ensure()
    user = staff_account_ensure(
        username=username, role="telecommunicator", password="bench-correct-horse-battery",
        first_name="Bench", last_name="Console",
    )
    cookies = []
    for _ in range(count):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return cookies


# --- Processes ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on {port} within {timeout:.0f} s")


def stop_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not gone within `timeout`."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class Processes:
    """Every process a benchmark starts, stopped (newest first) when the `with` block ends."""

    def __init__(self, log_dir: Path | None = None) -> None:
        self._tmp = None if log_dir else tempfile.TemporaryDirectory(prefix="pscc-bench-")
        self.log_dir = Path(log_dir or self._tmp.name)
        self.running: list[tuple[str, subprocess.Popen]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
        if self._tmp is not None:
            self._tmp.cleanup()

    def start(self, name: str, args: Sequence[str], env: dict[str, str], **popen) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        popen.setdefault("stdout", log)
        popen.setdefault("stderr", log)
        proc = subprocess.Popen(list(args), cwd=ROOT, env=env, start_new_session=True, **popen)
        log.close()
        self.running.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        stop_group(proc)
        self.running = [(n, p) for n, p in self.running if p is not proc]

    def stop_all(self) -> None:
        while self.running:
            _name, proc = self.running.pop()
            stop_group(proc)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


SERVERS = ("daphne", "uvicorn")


def server_command(kind: str, port: int) -> list[str]:
    """The product's ASGI application under one server, one process, as it would run in production."""
    if kind == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", "pscc.asgi:application"]
    if kind == "uvicorn":
        # Channels' router has no lifespan handler; uvicorn picks uvloop, httptools and websockets.
        return [sys.executable, "-m", "uvicorn", "pscc.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                "--lifespan", "off", "--log-level", "warning", "--no-access-log"]
    raise ValueError(f"unknown server {kind!r}: expected one of {SERVERS}")


def start_product_server(procs: Processes, kind: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """One server process (profile it with `bench.profiling.spy` on its pid)."""
    port = free_port()
    command = server_command(kind, port)
    proc = procs.start(f"server-{kind}", command, env)
    try:
        wait_port(port, 60, proc, kind)
    except Exception as exc:
        raise RuntimeError(f"{exc}\n{procs.log_tail(f'server-{kind}')}") from None
    return proc, port


def start_raw_server(procs: Processes, env: dict[str, str], channel: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = procs.start(
        "server-raw",
        [sys.executable, "-m", "bench.rawserver", "--port", str(port), "--redis-url", env["REDIS_URL"], "--channel", channel],
        env,
    )
    try:
        wait_port(port, 30, proc, "raw server")
    except Exception as exc:
        raise RuntimeError(f"{exc}\n{procs.log_tail('server-raw')}") from None
    return proc, port


def start_relay(procs: Processes, env: dict[str, str]) -> subprocess.Popen:
    return procs.start("relay", [sys.executable, "manage.py", "run_relay"], env)


def raw_channel() -> str:
    from django.conf import settings

    return f"{settings.PSCC_CHANNEL_PREFIX}:bench-raw"


# --- The console clients (a separate process) --------------------------------------------------
class Clients:
    """N WebSocket consoles held by one `python -m <module>` process, driven over its stdin/stdout."""

    module = "bench.clients"

    def __init__(self, procs: Processes, env: dict[str, str], *, url: str, origin: str, cookies: list[str],
                 count: int, name: str = "clients") -> None:
        self.procs = procs
        self.name = name
        cookie_file = procs.log_dir / f"{name}-cookies.json"
        cookie_file.write_text(json.dumps(cookies))
        self.proc = procs.start(
            name,
            [sys.executable, "-m", self.module, "--url", url, "--origin", origin, "--cookies", str(cookie_file),
             "--count", str(count)],
            env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name=f"{name}-reader").start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line.decode())
        self._lines.put(None)

    def _next(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no answer within {timeout:.0f} s\n{self.procs.log_tail(self.name)}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.name} exited ({self.proc.poll()})\n{self.procs.log_tail(self.name)}")
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)

    def ready(self, timeout: float = 180.0) -> dict:
        answer = self._next(timeout)
        if answer.get("event") != "ready":
            raise RuntimeError(f"{self.name}: unexpected {answer}")
        if answer["failed"]:
            raise RuntimeError(f"{self.name}: {answer['failed']} consoles could not connect: {answer.get('errors')}")
        return answer

    def collect(self, phase: str, expected: int, timeout: float) -> dict:
        """Wait until every console has `expected` updates of `phase` (or `timeout`); its statistics."""
        self.proc.stdin.write((json.dumps({"cmd": "wait", "phase": phase, "expected": expected,
                                           "timeout": timeout}) + "\n").encode())
        self.proc.stdin.flush()
        return self._next(timeout + 60)

    def close(self) -> None:
        try:
            self.proc.stdin.write(b'{"cmd": "quit"}\n')
            self.proc.stdin.flush()
            self.proc.wait(timeout=15)
        except Exception:
            pass
        self.procs.stop(self.proc)


# --- The driver: updates at a paced rate --------------------------------------------------------
INCIDENT_STATE = {
    # Roughly the size and shape of an incident's full state as the journal carries it.
    "number": "2025-00012345",
    "status": "dispatched",
    "priority": 1,
    "call_type": {"code": "911M", "label": "Medical emergency"},
    "location": {"address": "1234 E 2ND ST", "city": "CASPER", "lat": 42.8489, "lon": -106.2981,
                 "beat": "C3", "esz": "101", "cross_streets": "S BEVERLY ST / S WASHINGTON ST"},
    "caller": {"name": "DOE, JANE", "callback": "3075550123", "class_of_service": "WPH2"},
    "units": [{"id": "M12", "status": "enroute", "agency": "CFD"}, {"id": "E5", "status": "dispatched", "agency": "CFD"}],
    "narrative_count": 4,
    "opened_at": "2025-11-21T02:25:00+00:00",
}


@dataclass
class DriveResult:
    phase: str
    target_rate: float
    sent: int
    achieved_rate: float
    seconds: float


def drive(send, phase: str, rate: float, seconds: float) -> DriveResult:
    """Call `send(phase, i)` `rate * seconds` times, paced to start i at i / rate seconds."""
    count = max(1, round(rate * seconds))
    start = time.perf_counter()
    last_start = start
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        last_start = time.perf_counter()
        send(phase, i)
    elapsed = time.perf_counter() - start
    achieved = (count - 1) / (last_start - start) if count > 1 and last_start > start else rate
    return DriveResult(phase=phase, target_rate=rate, sent=count, achieved_rate=achieved, seconds=elapsed)


def product_sender():
    """An update through the service layer's path: one transaction appending one journal event."""
    from django.db import transaction

    from pscc.journal import journal_append

    def send(phase: str, i: int) -> None:
        with transaction.atomic():
            # Stamped inside the transaction, just before the commit: latency includes the commit.
            journal_append(kind=UPDATE_KIND, payload={"t": time.time(), "p": phase, "i": i, "incident": INCIDENT_STATE},
                           entity="bench:incident", audience=["floor"])

    return send


def raw_sender(channel: str):
    """The same message, published straight to the raw server's Redis channel (no database, no relay)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    seq = {"n": 0}

    def send(phase: str, i: int) -> None:
        seq["n"] += 1
        message = {"seq": seq["n"], "type": UPDATE_KIND, "at": datetime.now(timezone.utc).isoformat(),
                   "actor": "system", "entity": "bench:incident", "audience": ["floor"],
                   "data": {"t": time.time(), "p": phase, "i": i, "incident": INCIDENT_STATE}}
        client.publish(channel, json.dumps(message, separators=(",", ":")))

    return send


def relay_numbering_ms(phase: str) -> dict:
    """For the product path: how long the phase's events waited between insert and their number.

    `created_at` is the insert (just before the commit), `sequenced_at` the relay's numbering: the
    commit, the NOTIFY, the relay waking and its numbering transaction. What remains of the
    latency after this is publishing, the server and the sockets.
    """
    from pscc.models import JournalEvent

    waits = sorted(
        (sequenced - created).total_seconds() * 1000
        for created, sequenced in JournalEvent.objects.filter(kind=UPDATE_KIND, payload__p=phase)
        .exclude(sequenced_at=None).values_list("created_at", "sequenced_at")
    )
    return {"p50": round(percentile(waits, 50), 2), "p99": round(percentile(waits, 99), 2),
            "max": round(waits[-1], 2) if waits else 0.0}


# --- Statistics and output ----------------------------------------------------------------------
def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already-sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def machine_info() -> dict[str, Any]:
    import psutil

    def version(module: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(module)
        except PackageNotFoundError:
            return "-"

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "packages": {m: version(m) for m in ("Django", "channels", "daphne", "uvicorn", "uvloop", "websockets",
                                              "redis", "psycopg")},
    }
    try:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            info["postgresql"] = cur.fetchone()[0]
        import redis
        from django.conf import settings

        info["redis"] = redis.Redis.from_url(settings.REDIS_URL).info("server").get("redis_version")
    except Exception as exc:  # informative only
        info["services_error"] = str(exc)
    return info


def write_result(name: str, result: dict, results_dir: Path | None = None) -> Path:
    directory = Path(results_dir or RESULTS)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = directory / f"{name}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.1f}"
        return "-" if value is None else str(value)

    rows = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    sys.stdout.flush()


@dataclass
class Timer:
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
