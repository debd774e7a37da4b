"""ASGI entry point: HTTP through Django, /ws/floor/ through Channels (session auth, origin check)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pscc.settings")

from pscc.handlers import get_asgi_application  # noqa: E402

# HTTP: Django's handler with the middleware chain and the view in one sync call (pscc/handlers.py).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from pscc.routing import ServerSend, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ServerSend(AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
    }
)
