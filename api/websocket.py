"""The websocket accepts a device token too: apps open the same sockets as the pages.

The token comes in one of three ways (the first found wins):

- `Authorization: Bearer <token>` (native clients can set handshake headers);
- the subprotocols `["dorami.token", "<token>"]` (a browser's `new WebSocket(url, protocols)`);
  the socket is then accepted with the subprotocol `dorami.token`;
- the query string `?token=<token>` (last resort: query strings end up in access logs).

A token that opens no account refuses the handshake (HTTP 403), never a guest socket. With a
token the socket's user is the token's, whatever session cookie came along.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from api.services import api_token_user

SUBPROTOCOL = "dorami.token"


def token_of(scope) -> tuple[str | None, bool]:
    """(the token, whether it came as a subprotocol)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _sep, raw = value.decode("latin-1").partition(" ")
            if scheme.lower() in ("bearer", "token") and raw.strip():
                return raw.strip(), False
    protocols = list(scope.get("subprotocols") or [])
    if SUBPROTOCOL in protocols:
        index = protocols.index(SUBPROTOCOL)
        if index + 1 < len(protocols):
            return protocols[index + 1], True
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], False
    return None, False


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        raw, as_subprotocol = token_of(scope)
        if raw is None:
            return await super().__call__(scope, receive, send)
        user = await database_sync_to_async(api_token_user)(raw=raw)
        if user is None:
            await send({"type": "websocket.close", "code": 4401})
            return None
        scope = {**scope, "user": user}
        if as_subprotocol:
            send = _accepting_with_subprotocol(send)
        return await super().__call__(scope, receive, send)


def _accepting_with_subprotocol(send):
    """The client offered `dorami.token`: a browser drops a socket whose accept names none."""

    async def wrapped(message):
        if message.get("type") == "websocket.accept" and not message.get("subprotocol"):
            message = {**message, "subprotocol": SUBPROTOCOL}
        await send(message)

    return wrapped
