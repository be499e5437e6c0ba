"""One light websocket per tab, `/ws/events/`: the events of the person and of the store.

Every page opens it (`static/js/app.js`): a logged-in shopper receives their own events
(`user.<id>`: waitlist promoted, payment confirmed, order updated) on any page and sees a toast;
the store and home pages add `?store=1` and receive the store's product events (`store`: sold
out, stock changed, product updated/deleted) to update their sold-out badges. A guest socket
without `?store=1` has nothing to receive and is refused.

Light: the session is checked once, at connect (Channels' auth middleware plus one query for the
account columns after the control subscription, so a suspension committed in between is not
missed); events arrive through the realtime hub as already-rendered text and go out as is, with
no query and no thread hop. Client frames are ignored. Suspension, "log out everywhere" and the
loss of staff rights close the socket like the live room's (`accounts.realtime`): an `error`
frame, then close code 4001 / 4401 / 4002 with the Korean message as the reason.
"""

from __future__ import annotations

import json
import logging

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from accounts.devices import session_digest
from accounts.permissions import (
    ACCOUNT_STATE_FIELDS,
    ACCOUNT_SUSPENDED,
    SESSION_ENDED,
    STAFF_REVOKED,
    account_change,
)
from accounts.permissions import MESSAGES as GATE_MESSAGES
from accounts.realtime import CLOSE
from dorami import realtime as transport

logger = logging.getLogger(__name__)

CLOSE_FOR_ACCOUNT = {ACCOUNT_SUSPENDED: 4001, STAFF_REVOKED: 4002, SESSION_ENDED: 4401}
CLOSE_NOTHING_TO_SEND = 4400  # a guest socket that asked for no public group
CLOSE_TOO_SLOW = 4429  # the tab stopped reading: the page reconnects and refetches


def account_state(*, user_id: int) -> dict | None:
    return get_user_model().objects.filter(pk=user_id).values(*ACCOUNT_STATE_FIELDS).first()


class AccountControlMixin:
    """What every logged-in socket does with its user's control group (`accounts.realtime`):
    suspended, logged out everywhere or no longer staff — an `error` frame with the Korean
    reason, then close (4001 / 4401 / 4002), on every server process. A close that arrives
    while the socket is still connecting is kept in `account_closed` for `connect` to act on
    right after the accept."""

    user_id: int | None = None
    closing = False
    accepted = False
    account_closed: str | None = None

    async def _account(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        code = message.get("code")
        if (
            message.get("action") == CLOSE
            and message.get("user_id") == self.user_id
            and code in CLOSE_FOR_ACCOUNT
        ):
            if self._session_concerned(message):
                await self._close_for_account(code)
            elif "session_version" in message:
                # Spared by "log out other devices": this session was re-signed with the new
                # version, so the user this socket holds moves with it (chat re-checks it).
                user = getattr(self, "user", None)
                if user is not None:
                    user.session_version = message["session_version"]

    def _session_concerned(self, message: dict) -> bool:
        """A close aimed at one session (or sparing one) is matched against the session this
        socket was opened with."""
        only, spared = message.get("session"), message.get("except_session")
        if not only and not spared:
            return True
        session = self.scope.get("session") if hasattr(self, "scope") else None
        key = getattr(session, "session_key", None) if session is not None else None
        mine = session_digest(key) if key else ""
        if only:
            return mine == only
        return mine != spared

    async def _close_for_account(self, code: str) -> None:
        if self.closing:
            return
        if not self.accepted:  # still connecting: `connect` closes right after the accept
            self.account_closed = code
            return
        self.closing = True
        message = str(GATE_MESSAGES[code])
        await self.send(
            text_data=json.dumps(
                {"type": "error", "code": code, "message": message}, ensure_ascii=False
            )
        )
        await self.close(code=CLOSE_FOR_ACCOUNT[code], reason=message)


class PageEventsConsumer(AccountControlMixin, transport.HubConsumer):
    groups_joined: tuple[str, ...] = ()

    async def connect(self):
        user = self.scope.get("user")
        user = user if getattr(user, "is_authenticated", False) else None
        groups = []
        if self._wants_store():
            groups.append(transport.STORE_GROUP)
        if user is not None:
            self.user_id = user.pk
            # Listen for "close" before reading the account (see the module docstring).
            await transport.subscribe(transport.user_control_group(self.user_id), self._account)
            groups.append(transport.user_group(self.user_id))
        if not groups:
            await self.close(code=CLOSE_NOTHING_TO_SEND)
            return
        for group in groups:
            await transport.subscribe(group, self._deliver, on_overflow=self._too_slow)
        self.groups_joined = tuple(groups)
        await self.accept()
        self.accepted = True
        changed = self.account_closed
        if user is not None and changed is None:
            state = await database_sync_to_async(account_state)(user_id=user.pk)
            changed = account_change(user, state)
        if changed:
            await self._close_for_account(changed)

    def _wants_store(self) -> bool:
        query = self.scope.get("query_string", b"").decode("latin-1")
        return "store=1" in query.split("&")

    async def disconnect(self, code):
        for group in self.groups_joined:
            transport.unsubscribe(group, self._deliver)
        self.groups_joined = ()
        if self.user_id:
            transport.unsubscribe(transport.user_control_group(self.user_id), self._account)

    async def receive(self, text_data=None, bytes_data=None):
        """The page sends nothing; anything it does send is ignored."""

    # --- delivery (events: `HubConsumer._deliver`) ------------------------------------------
    async def _too_slow(self) -> None:
        """The hub dropped this socket (its backlog overflowed): close it."""
        if not self.closing:
            self.closing = True
            await self.close(code=CLOSE_TOO_SLOW)
