from django.urls import path

from pscc.consumers import SERVER_SEND, FloorConsumer

websocket_urlpatterns = [path("ws/floor/", FloorConsumer.as_asgi())]


class ServerSend:
    """Keeps the ASGI server's own `send` in the scope (`SERVER_SEND`) for the floor's event frames.

    Channels' session middleware wraps `send` to save a modified HTTP session on `http.response.*`
    messages; on a WebSocket it only reads the session's state on every frame, which was about a tenth
    of the server's work per frame in the fan-out profile (docs/performance.md). The floor consumer
    writes its event frames through this `send`; accept and close still go through Channels.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        return await self.app({**scope, SERVER_SEND: send}, receive, send)
