"""Events of the accounts app: tell every open socket of a user that it must close.

A page keeps its websocket (and the user loaded at the handshake) for hours, so ending a
user's sessions is not enough: suspension, "log out everywhere" and the loss of staff rights
also send a control message (after commit) to the user's control group, which every server
process's sockets of that user listen to (`live.consumers`, `accounts.consumers`). Never sent
to browsers as is.
"""

from __future__ import annotations

import json

from dorami.realtime import send_text, user_control_group

CLOSE = "close"


def announce_user_closed(
    *,
    user_id: int,
    code: str,
    session: str = "",
    except_session: str = "",
    session_version: int | None = None,
) -> None:
    """Close every open socket of the user; `code` is an `accounts.permissions` code
    (ACCOUNT_SUSPENDED / SESSION_ENDED / STAFF_REVOKED) the page explains in Korean.

    `session` (a `devices.session_digest`) narrows it to the sockets opened with that one
    session; `except_session` spares that one session's sockets ("log out other devices"),
    which take the new `session_version` for the user they hold."""
    message = {"action": CLOSE, "user_id": user_id, "code": code}
    if session:
        message["session"] = session
    if except_session:
        message["except_session"] = except_session
    if session_version is not None:
        message["session_version"] = session_version
    send_text(group=user_control_group(user_id), text=json.dumps(message))
