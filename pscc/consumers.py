"""The floor socket, /ws/floor/: one per console, fed by the process's floor hub.

Protocol (JSON text frames):
- server → `{"type": "snapshot", "seq": N, "data": {...}}` on connect (and when a resume is too old);
- server → `{"seq": N, "type": "<event kind>", "data": {...}, "prev": M}` for each event, in order
  (`prev` is the previous sequence number this connection was sent, omitted when it is N-1; a
  console whose last number differs has missed something and resumes);
- server → `{"type": "heartbeat", "head": N}` every few seconds; client → `{"type": "ping"}`;
- `/ws/floor/?after=N` on reconnect: replay instead of a snapshot (same rules as resume);
- client → `{"type": "resume", "after": N}`: the server replays N+1.. from the journal, or sends a
  fresh snapshot when N is older than the replay limit.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from pscc.floor import build_snapshot
from pscc.hub import Listener, events_after, head_seq, hub
from pscc.roles import audiences_for

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
SERVER_SEND = "pscc.server_send"  # the ASGI server's send, set by pscc.routing.ServerSend
CLOSE_TOO_FAR_BEHIND = 4408  # the console stopped reading; it reconnects with ?after=N and catches up


def _after_from_query(query: bytes) -> int | None:
    """`/ws/floor/?after=N`: a reconnecting console asks for what it missed instead of a snapshot."""
    from urllib.parse import parse_qs

    values = parse_qs(query.decode("latin-1")).get("after")
    if not values:
        return None
    try:
        after = int(values[0])
    except ValueError:
        return None
    return after if after >= 0 else None


def _second_factor_ok(user, session) -> bool:
    """A user who must use MFA needs a verified session for the socket too (pscc.mfa)."""
    from pscc.mfa import mfa_required, session_is_verified

    return not mfa_required(user) or session_is_verified(user, session)


class FloorConsumer(AsyncWebsocketConsumer):
    """Every frame to the console goes through this connection's own outbox and writer task.

    The hub hands an event to each console of the process in turn; a send that waited for a console
    that has stopped reading (a frozen tab, a dead link: the ASGI server pauses writes once the
    socket's buffers are full) would hold every other console back. So the hub only appends to the
    outbox, and the writer waits for the socket alone. An outbox that reaches
    PSCC_CONSOLE_OUTBOX_MAX frames is dropped and the socket closed (4408): the console reconnects
    with `?after=N` and is replayed from the journal, so nothing is lost and memory stays bounded.
    """

    listener: Listener | None = None
    heartbeat_task: asyncio.Task | None = None
    writer_task: asyncio.Task | None = None
    overflowed = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        audiences = await database_sync_to_async(audiences_for)(user)
        if not audiences:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await database_sync_to_async(_second_factor_ok)(user, self.scope.get("session")):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.audiences = audiences
        await self.accept()
        self._outbox: deque[str] = deque()
        self._outbox_ready = asyncio.Event()
        self.writer_task = asyncio.get_running_loop().create_task(self._writer())
        # Register before the snapshot so that nothing published meanwhile is missed.
        self.listener = Listener(audiences=audiences, deliver=self._deliver, user_id=user.pk, close=self._close_now)
        hub.register(self.listener)
        after = _after_from_query(self.scope.get("query_string", b""))
        if after is None:
            await self._send_snapshot()
        else:
            await self._resume(after)
        self.heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeat())

    async def disconnect(self, code) -> None:
        if self.listener is not None:
            hub.unregister(self.listener)
        for task in (self.heartbeat_task, self.writer_task):
            if task is not None:
                task.cancel()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            await self._send_json({"type": "error", "error": "frames must be JSON"})
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            await self._send_json({"type": "pong", "head": self.listener.last_sent})
        elif kind == "resume":
            after = message.get("after")
            if not isinstance(after, int) or after < 0:
                await self._send_json({"type": "error", "field": "after", "error": "after must be a sequence number"})
                return
            await self._resume(after)
        else:
            await self._send_json({"type": "error", "field": "type", "error": "expected ping or resume"})

    # -- internals ---------------------------------------------------------------------------
    async def _close_now(self, code: int) -> None:
        """The hub ends this socket (the account was disabled)."""
        await self.close(code=code)

    async def _send_snapshot(self) -> None:
        self.listener.buffering = True
        # Read-only and self-contained: build it on the thread pool, so that 500 consoles reconnecting
        # at once do not queue behind one another on Channels' single database thread.
        snapshot = await database_sync_to_async(build_snapshot, thread_sensitive=False)(self.user, self.audiences)
        await self._send_json(snapshot)
        await self._activate(snapshot["seq"])

    async def _resume(self, after: int) -> None:
        self.listener.buffering = True
        head = await head_seq()
        if after > head:
            # A number from another database or a future we do not know: start over.
            await self._send_snapshot()
            return
        if head - after > settings.PSCC_JOURNAL_REPLAY_LIMIT:
            await self._send_snapshot()
            return
        prev = after
        for message in await events_after(after, head):
            if self.listener.hears(message):
                await self._send_event(message, prev)
                prev = message["seq"]
        await self._activate(head, prev=prev)

    async def _activate(self, seq: int, prev: int | None = None) -> None:
        """Flush what the hub buffered during a snapshot or replay, then go live."""
        async with hub._lock:
            self.listener.last_sent = seq
            self._prev = seq if prev is None else prev
            pending, self.listener.buffer = self.listener.buffer, []
            for message, _text in pending:
                if message["seq"] > self.listener.last_sent:
                    await self._send_event(message, self._prev)
                    self._prev = message["seq"]
                    self.listener.last_sent = message["seq"]
            self.listener.buffering = False

    async def _deliver(self, message: dict, text: str) -> None:
        if self._prev == message["seq"] - 1:
            # The common case on the floor: the hub's one encoding serves every console.
            self._push(text)
        else:
            await self._send_event(message, self._prev)
        self._prev = message["seq"]
        self.listener.last_sent = message["seq"]

    async def _send_event(self, message: dict, prev: int) -> None:
        self._push(json.dumps({**message, "prev": prev}, separators=(",", ":")))

    async def _send_json(self, data: dict) -> None:
        self._push(json.dumps(data, separators=(",", ":")))

    def _push(self, frame: str) -> None:
        """Queue a frame for this console without waiting for its socket (see the class docstring)."""
        if self.overflowed:
            return
        if len(self._outbox) >= settings.PSCC_CONSOLE_OUTBOX_MAX:
            self.overflowed = True
            self._outbox.clear()
            if self.listener is not None:
                hub.unregister(self.listener)
            log.warning("floor: console of user %s stopped reading (%s frames waiting); closing it to resume",
                        getattr(self.user, "pk", None), settings.PSCC_CONSOLE_OUTBOX_MAX)
            asyncio.get_running_loop().create_task(self.close(code=CLOSE_TOO_FAR_BEHIND))
            return
        self._outbox.append(frame)
        self._outbox_ready.set()

    async def _writer(self) -> None:
        """Send the outbox in order; only this task ever waits for the console's socket."""
        server_send = self.scope.get(SERVER_SEND)
        try:
            while True:
                await self._outbox_ready.wait()
                while self._outbox and not self.overflowed:
                    frame = self._outbox.popleft()
                    if server_send is not None:  # past Channels' per-frame session check (pscc/routing.py)
                        await server_send({"type": "websocket.send", "text": frame})
                    else:
                        await self.send(text_data=frame)
                self._outbox_ready.clear()
        except asyncio.CancelledError:
            pass

    async def _heartbeat(self) -> None:
        try:
            while True:
                await asyncio.sleep(settings.PSCC_HEARTBEAT_SECONDS)
                await self._send_json({"type": "heartbeat", "head": self.listener.last_sent})
        except asyncio.CancelledError:
            pass
        except Exception:
            log.info("floor: heartbeat to a closed socket stopped")
