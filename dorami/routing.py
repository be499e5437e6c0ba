"""Websocket routes of every app, gathered in one list for `asgi.py`, and the auth stack."""

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
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


def _session_cookie(scope) -> str:
    return scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME, "")


def SessionAuthStack(inner):
    """The session's user, or the device token's (`api.websocket`) when one is given."""
    return CookieMiddleware(
        SessionMiddleware(CookieAwareAuthMiddleware(TokenAuthMiddleware(inner)))
    )
