"""Fixtures for the simulator tests: a fresh simulator per test, an HTTP
client for it, and a tiny stand-in for the product that records what the
simulators POST to it and can be told to fail.

Everything listens on 127.0.0.1 with OS-chosen ports. Test modules cannot
import this file (tests/ is not a package), so shared values are fixtures.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from simulators import RunningSimulators, start_simulators

TCC_SECRET = "test-tcc-secret"
CPE_TOKEN = "test-cpe-token"


@dataclass(frozen=True)
class Received:
    """One request the product stand-in received."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw.decode("utf-8"))


class ProductStandIn:
    """Records every request; answers 200 `{"ok": true}` unless told to fail."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._failures: list[int] = []
        self._condition = threading.Condition()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = stand_in._record(Received("POST", self.path, headers, raw))
                body = json.dumps({"ok": status < 400, "path": self.path}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def _record(self, request: Received) -> int:
        with self._condition:
            self.received.append(request)
            self._condition.notify_all()
            return self._failures.pop(0) if self._failures else 200

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order."""
        with self._condition:
            self._failures.extend(statuses)

    def wait_for(self, count: int, path: str = "", timeout: float = 3.0) -> list[Received]:
        """Block until `count` requests whose path starts with `path` arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                matching = [r for r in self.received if r.path.startswith(path)]
                remaining = deadline - time.monotonic()
                if len(matching) >= count or remaining <= 0:
                    return matching
                self._condition.wait(remaining)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def cpe_token() -> str:
    return CPE_TOKEN


@pytest.fixture
def tcc_secret() -> str:
    return TCC_SECRET


@pytest.fixture
def product() -> Iterator[ProductStandIn]:
    stand_in = ProductStandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def sim(product: ProductStandIn) -> Iterator[RunningSimulators]:
    simulators = start_simulators(
        port=0, product_url=product.url, tcc_secret=TCC_SECRET, cpe_token=CPE_TOKEN
    )
    yield simulators
    simulators.stop()


@pytest.fixture
def client(sim: RunningSimulators) -> Iterator[httpx.Client]:
    # trust_env=False: an HTTP(S)_PROXY in the environment must not capture 127.0.0.1.
    with httpx.Client(base_url=sim.base_url, timeout=5.0, trust_env=False) as http:
        yield http


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """`eventually(fn, timeout=3)`: poll `fn` until it returns something truthy."""

    def poll(fn: Callable[[], Any], timeout: float = 3.0, interval: float = 0.02) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = fn()
            if value or time.monotonic() >= deadline:
                return value
            time.sleep(interval)

    return poll
