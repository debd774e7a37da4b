"""Calls from the simulators to the product (ring-ins, CPE events, texts).

Uses urllib only. Proxies from the environment are ignored (the product is
always reached directly) and redirects are not followed, so a wrong product
URL shows up as a 3xx status instead of being silently papered over.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("simulators.outbound")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass(frozen=True)
class OutboundResult:
    """Outcome of one POST: an HTTP status, or `error` when none was received."""

    status_code: int | None
    body: Any
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Connection failures, timeouts and 5xx may succeed later; 4xx will not."""
        return self.status_code is None or self.status_code >= 500


def _decode(raw: bytes) -> Any:
    """The product's answer as JSON when it is JSON, else as (truncated) text."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text[:2000]


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> OutboundResult:
    """POST already-encoded JSON `body` once. Never raises for network trouble."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return OutboundResult(response.status, _decode(response.read()))
    except urllib.error.HTTPError as exc:
        return OutboundResult(exc.code, _decode(exc.read()))
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return OutboundResult(None, None, f"{type(exc).__name__}: {reason}")


class KeyedSerialQueue:
    """Runs submitted jobs one at a time per key, in submission order; jobs of
    different keys run in parallel. A texter's messages must reach the product
    in the order the texter sent them even while one of them is being retried.

    Each key with pending work has one daemon worker thread, which exits as
    soon as its queue is empty. A job that raises is logged and skipped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, deque[Callable[[], None]]] = {}

    def submit(self, key: str, job: Callable[[], None]) -> None:
        with self._lock:
            queue = self._pending.get(key)
            if queue is not None:
                # A worker is already draining this key and will reach the job.
                queue.append(job)
                return
            self._pending[key] = deque([job])
        threading.Thread(target=self._drain, args=(key,), name=f"sim-queue-{key}", daemon=True).start()

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._pending[key]
                if not queue:
                    del self._pending[key]
                    return
                job = queue.popleft()
            try:
                job()
            except Exception:  # a broken job must not wedge the key's queue
                logger.exception("simulator job for %s failed", key)
