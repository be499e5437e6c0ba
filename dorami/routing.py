"""Websocket routes of every app, gathered in one list for `asgi.py`, and the auth stack."""

from importlib import import_module

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import path

from accounts.backends import session_backend_renamed
from accounts.consumers import PageEventsConsumer
from api.websocket import TokenAuthMiddleware
from live.consumers import LiveRoomConsumer

websocket_urlpatterns: list = [
    path("ws/events/", PageEventsConsumer.as_asgi()),
    path("ws/live/<str:public_id>/", LiveRoomConsumer.as_asgi()),
]


class CookieAwareAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware loads the user in a worker thread for every socket. A socket
    without a session cookie is anonymous: answer that without the thread hop (a reconnect
    storm of guests would otherwise queue thousands of hops on one thread). A session naming a
    replaced authentication backend is read as naming its replacement (accounts/backends.py)."""

    def populate_scope(self, scope):
        if "user" not in scope and not _session_cookie(scope):
            scope["user"] = AnonymousUser()
        super().populate_scope(scope)

    async def resolve_scope(self, scope):
        if _session_cookie(scope):
            await database_sync_to_async(session_backend_renamed)(scope["session"])
            await super().resolve_scope(scope)


class SocketSessionMiddleware:
    """The session of the socket's cookie in `scope["session"]`, as Channels' SessionMiddleware
    puts it there, but without wrapping `send`. Channels' wrapper exists to save a modified
    session and set its cookie on an HTTP response (`http.response.start`); a websocket sends
    no such message, so for sockets it only cost a session lookup on every frame sent (two
    attribute misses through a lazy object, about 10 µs per delivery to every viewer). The store
    reads nothing until the session is first used (the auth middleware, for a cookie)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        store = import_module(settings.SESSION_ENGINE).SessionStore
        session = store(scope["cookies"].get(settings.SESSION_COOKIE_NAME))
        return await self.inner({**scope, "session": session}, receive, send)


def _session_cookie(scope) -> str:
    return scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME, "")


def SessionAuthStack(inner):
    """The session's user, or the device token's (`api.websocket`) when one is given."""
    return CookieMiddleware(
        SocketSessionMiddleware(CookieAwareAuthMiddleware(TokenAuthMiddleware(inner)))
    )
