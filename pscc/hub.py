"""The floor hub: one Redis subscription per server process, writing to that process's own sockets.

Every console connection in this process registers here. The hub receives journal events from the
relay over Redis pub/sub, checks that the sequence is contiguous (fetching any missing number from
PostgreSQL, the record), and hands each event, in order, to every connection whose audience matches.
One subscription per process and one JSON encoding per event keep fan-out close to a raw WebSocket
server; a Channels group per consumer would cost a channel-layer round trip per socket.

When Redis is down the hub polls PostgreSQL for the head sequence, so consoles still catch up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Listener:
    """A connection's registration: which audiences it hears and how to hand it a message."""

    audiences: frozenset[str]
    deliver: Callable[[dict, str], Awaitable[None]]
    last_sent: int = 0
    buffering: bool = True
    buffer: list[tuple[dict, str]] = field(default_factory=list)
    # Whose socket this is, and how to end it when the account is disabled (`account.disabled`).
    user_id: int | None = None
    close: Callable[[int], Awaitable[None]] | None = None

    def hears(self, message: dict) -> bool:
        return not self.audiences.isdisjoint(message.get("audience") or ())


class FloorHub:
    def __init__(self) -> None:
        self.listeners: set[Listener] = set()
        self.last_seq: int | None = None
        self._task: asyncio.Task | None = None
        self._poll_task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.redis_ok = False

    # -- lifecycle ---------------------------------------------------------------------------
    def ensure_started(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A new event loop (tests run several): the old tasks died with theirs.
            self._loop = loop
            self._task = self._poll_task = None
            self._lock = asyncio.Lock()
            self.last_seq = None
            self.listeners = set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._subscribe_forever(), name="floor-hub")
        if self._poll_task is None or self._poll_task.done():
            self._poll_task = asyncio.get_running_loop().create_task(self._poll_forever(), name="floor-hub-poll")

    async def stop(self) -> None:
        for task in (self._task, self._poll_task):
            if task is not None:
                task.cancel()
        self._task = self._poll_task = None

    def register(self, listener: Listener) -> None:
        self.ensure_started()
        self.listeners.add(listener)

    def unregister(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    # -- input -------------------------------------------------------------------------------
    async def _subscribe_forever(self) -> None:
        channel = f"{settings.PSCC_CHANNEL_PREFIX}:journal"
        backoff = 0.5
        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, health_check_interval=5)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(channel)
                self.redis_ok = True
                backoff = 0.5
                # Anything published while we were not subscribed is fetched from PostgreSQL.
                await self.catch_up()
                async for raw in pubsub.listen():
                    if raw.get("type") != "message":
                        continue
                    try:
                        message = json.loads(raw["data"])
                    except (ValueError, TypeError):
                        log.warning("hub: unreadable message ignored")
                        continue
                    await self.receive(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis gone: poll PostgreSQL until it is back
                if self.redis_ok:
                    log.warning("hub: Redis subscription lost (%s)", exc)
                self.redis_ok = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                try:
                    await client.aclose()
                except Exception:
                    pass

    async def _poll_forever(self) -> None:
        # Slow when Redis is healthy (it only guards against a lost push), fast when it is not.
        while True:
            await asyncio.sleep(2.0 if self.redis_ok else 0.5)
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("hub: catch-up from PostgreSQL failed (%s)", exc)

    async def catch_up(self) -> None:
        head = await head_seq()
        if self.last_seq is None:
            self.last_seq = head
            return
        if head > self.last_seq:
            for message in await events_after(self.last_seq, head):
                await self.receive(message)

    async def receive(self, message: dict) -> None:
        """Hand one event on, in order; fill any gap before it from PostgreSQL."""
        async with self._lock:
            seq = message.get("seq")
            if not isinstance(seq, int):
                return
            if self.last_seq is None:
                self.last_seq = seq - 1
            if seq <= self.last_seq:
                return
            if seq > self.last_seq + 1:
                missing = await events_after(self.last_seq, seq - 1)
                for earlier in missing:
                    await self._fan_out(earlier)
                    self.last_seq = earlier["seq"]
            await self._fan_out(message)
            self.last_seq = seq

    # -- output ------------------------------------------------------------------------------
    async def _fan_out(self, message: dict) -> None:
        if message.get("type") == ACCOUNT_DISABLED:
            await self._close_sockets_of_disabled_account(message)
        text = json.dumps(message, separators=(",", ":"))
        for listener in list(self.listeners):
            if not listener.hears(message):
                continue
            if listener.buffering:
                listener.buffer.append((message, text))
                continue
            if message["seq"] <= listener.last_sent:
                continue
            try:
                await listener.deliver(message, text)
            except Exception as exc:  # one broken socket must not stop the others
                log.info("hub: delivery to a console failed (%s)", exc)
                self.unregister(listener)

    async def _close_sockets_of_disabled_account(self, message: dict) -> None:
        """A disabled account's sockets in this process close at once (every process hears this)."""
        user_id = (message.get("data") or {}).get("user_id")
        targets = [listener for listener in self.listeners if user_id is not None and listener.user_id == user_id]
        # A replayed old event must not close the socket of an account enabled again since.
        if not targets or await _user_is_active(user_id):
            return
        for listener in targets:
            self.unregister(listener)
            if listener.close is not None:
                try:
                    await listener.close(CLOSE_ACCOUNT_DISABLED)
                except Exception as exc:
                    log.info("hub: closing a disabled account's socket failed (%s)", exc)


ACCOUNT_DISABLED = "account.disabled"
CLOSE_ACCOUNT_DISABLED = 4401  # the console stops reconnecting and asks for a new sign-in

hub = FloorHub()


@database_sync_to_async
def _user_is_active(user_id: int) -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


@database_sync_to_async
def head_seq() -> int:
    from pscc.models import JournalEvent

    value = JournalEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", flat=True).first()
    return value or 0


@database_sync_to_async
def events_after(after: int, through: int | None = None, limit: int | None = None) -> list[dict]:
    from pscc.models import JournalEvent

    qs = JournalEvent.objects.filter(seq__gt=after).order_by("seq")
    if through is not None:
        qs = qs.filter(seq__lte=through)
    if limit is not None:
        qs = qs[:limit]
    return [event.as_message() for event in qs]
