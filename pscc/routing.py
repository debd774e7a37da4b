from django.urls import path

from pscc.consumers import FloorConsumer

websocket_urlpatterns = [path("ws/floor/", FloorConsumer.as_asgi())]
