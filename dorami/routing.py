"""Websocket routes of every app, gathered in one list for `asgi.py`."""

from django.urls import path

from live.consumers import LiveRoomConsumer

websocket_urlpatterns: list = [
    path("ws/live/<str:stream_key>/", LiveRoomConsumer.as_asgi()),
]
