"""The HTTP side of the ASGI application: Django's handler with the whole middleware chain and view run
as one synchronous call, and a process whose start-up objects the garbage collector leaves alone.

Every view of the product is synchronous (DRF and the ORM), and several middlewares are sync-only
(ours, WhiteNoise, pghistory, django-otp). Django's stock `ASGIHandler` builds an *async* chain and
adapts each sync piece where the mode changes, so a request crossed between the event loop and its
worker thread about seven times (the sync middlewares, the async-capable ones below them whose
`process_request`/`process_response` run through `sync_to_async` one by one, then the view), each
crossing a hand-off of the GIL and an event-loop turn (measured with py-spy under load:
`docs/performance.md`). Here the chain is built in sync mode, as under WSGI, and run in a single
`sync_to_async` per request, on the request's own thread (`ThreadSensitiveContext`, as before), so
the middleware order, behaviour and thread-local state (pghistory's context) are exactly as in sync
Django. WebSockets are untouched: Channels consumers are routed before this handler.

`gc.freeze()` after start-up moves the objects loaded by then (modules, settings, URL resolvers,
model metadata: a few hundred thousand) out of the collector's reach. They live as long as the
process anyway; without the freeze every full collection walked them all, a pause of tens of
milliseconds for every request and console message in flight, which was most of intake's p99.
"""

from __future__ import annotations

import gc

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


def get_asgi_application() -> SyncChainASGIHandler:
    """Like `django.core.asgi.get_asgi_application`, with the one-hop handler; freezes start-up objects."""
    import django

    django.setup(set_prefix=False)
    handler = SyncChainASGIHandler()
    gc.collect()
    gc.freeze()
    return handler
