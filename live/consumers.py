"""One websocket per viewer: chat, presence and room events of one stream.

Client → server: `{"type":"chat","body":…}`, `{"type":"heartbeat"}`, and for staff
`{"type":"delete","message_id":…}`, `{"type":"mute"|"ban","user_id":…}`.
Server → client: `hello`, `history`, `event` (room events with `seq` and `epoch`), `status`
(`{"type":"status","state":"degraded"|"ok"}`: Redis lost / back), `error` (`code`, `message`).

Redis outage: a connected socket stays open and is told `degraded`; a socket joining during the
outage is accepted in the same state (history from the database, viewers unknown); chat is
refused with `REALTIME_UNAVAILABLE`; when Redis is back every socket is told `ok` and refetches.

Hot path: room events reach this socket through `dorami.realtime`'s hub as already-rendered text
(`HubConsumer._deliver`), with no channel-layer message and no thread hop. The stock
`AsyncConsumer.dispatch` runs `aclose_old_connections()` (a thread hop) before every handler;
this consumer skips it and does its ORM work explicitly through `database_sync_to_async` (join
of a logged-in user, chat send, moderation), which closes stale connections in its own thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.consumers import AccountControlMixin
from accounts.permissions import MESSAGES as GATE_MESSAGES
from accounts.permissions import (
    account_change,
    can_chat,
)
from dorami import realtime as transport
from live import presence
from live.realtime import control_group
from live.selectors import cached_join_context, join_context
from live.services import chat as chat_service

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4096
FRAME_WINDOW_SECONDS = 10.0
MAX_FRAMES_PER_WINDOW = 60  # chat (20/10 s) + heartbeats + slack
MAX_ERRORS_PER_WINDOW = 15
CLOSE_BANNED = 4003
CLOSE_NOT_FOUND = 4404
CLOSE_FLOOD = 4008
CLOSE_TOO_LARGE = 1009
CLOSE_TOO_SLOW = 4429  # the socket fell `Hub.MAX_BACKLOG` events behind: reconnect and refetch
STAFF_EVENTS = {"sales.updated", "restream.state"}
_GUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

ERROR_MESSAGES = {
    "INVALID_JSON": _("잘못된 메시지 형식입니다."),
    "UNKNOWN_TYPE": _("알 수 없는 메시지 종류입니다."),
    "FRAME_TOO_LARGE": _("메시지가 너무 큽니다 (최대 4KB)."),
    "FLOODING": _("메시지를 너무 많이 보내 연결을 종료합니다."),
    "INVALID_INPUT": _("요청 값이 올바르지 않습니다."),
    "REALTIME_UNAVAILABLE": chat_service.RealtimeUnavailable.default_message,
    **GATE_MESSAGES,
}


class LiveRoomConsumer(AccountControlMixin, transport.HubConsumer):
    stream_id: int | None = None
    member: str | None = None

    # --- lifecycle ------------------------------------------------------------------------
    async def connect(self):
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        user = self.scope.get("user")
        self.user = user if getattr(user, "is_authenticated", False) else None
        self.user_id = self.user.pk if self.user else None
        if self.user_id:
            # Listen for "close" before reading the account: a suspension committed after the
            # read below still reaches this socket.
            await transport.subscribe(transport.user_control_group(self.user_id), self._account)
        context = cached_join_context(public_id) if self.user is None else False
        if context is False:
            context = await database_sync_to_async(join_context)(
                public_id=public_id, user_id=self.user_id
            )
        if context is None:
            self._unsubscribe_account()
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.stream_id = context["stream_id"]
        self.group = transport.room_group(self.stream_id)
        await self.accept()
        self.accepted = True
        changed = self.account_closed or (
            account_change(self.user, context["account"]) if self.user_id else None
        )
        if changed:
            self.stream_id = None
            await self._close_for_account(changed)
            return
        if context.get("banned"):
            await self.send_error(chat_service.ChatBanned.code, str(chat_service.ChatBanned()))
            await self.close(code=CLOSE_BANNED, reason="banned")
            self.closing = True
            self.stream_id = None
            return
        self.member = presence.member_for(user_id=self.user_id, guest_key=self._guest_key())
        self.window_start = time.monotonic()
        self.frames = 0
        self.errors = 0
        try:
            await self._join(context)
        except Exception:  # Redis unreachable: close cleanly, the client reconnects with backoff
            logger.exception("live room join failed stream=%s", self.stream_id)
            self._unsubscribe_all()
            self.stream_id = self.member = None
            self.closing = True
            await self.close(code=1011, reason="try again")

    async def _join(self, context: dict) -> None:
        # Subscribe before reading the sequence: every later event reaches this socket. While
        # Redis is down the hub keeps the sinks and subscribes them once it is back.
        transport.watch_status(self._status)
        await transport.subscribe(self.group, self._deliver, self._too_slow)
        await transport.subscribe(control_group(self.stream_id), self._control)
        if self.user is not None and self.user.is_staff:
            await transport.subscribe(transport.STAFF_GROUP, self._staff_deliver)
        # One Redis round trip: count this viewer in, try the viewer-count gate, and read the
        # chat history and the room's sequence number and epoch.
        try:
            joined = await presence.presence_join(
                stream_id=self.stream_id, member=self.member, also=self._join_reads
            )
        except transport.REDIS_DOWN:
            if transport.realtime_available():
                raise  # a blip the hub has not seen: close, the client reconnects
            await self._join_degraded(context)
            return
        raw_history, seq, epoch = joined.extra[0], *transport.sequence_decode(joined.extra)
        await self._hello(context, seq=seq, epoch=epoch, viewers=joined.viewers)
        await self.send(text_data=chat_service.history_frame(raw_history))
        if joined.announce:
            await presence.presence_announce(self.stream_id)

    async def _join_degraded(self, context: dict) -> None:
        """Redis is down: the room still opens (chat history from the database, no seq, no
        viewer count) and the page shows that it is reconnecting."""
        raw_history = await database_sync_to_async(chat_service.history_from_database)(
            stream_id=self.stream_id
        )
        await self._hello(context, seq=None, epoch=None, viewers=None)
        await self.send(text_data=chat_service.history_frame(raw_history))
        await self.send(text_data=transport.status_frame(transport.STATUS_DEGRADED))

    async def _hello(self, context: dict, *, seq, epoch, viewers) -> None:
        await self.send_json(
            {
                "type": "hello",
                "seq": seq,
                "epoch": epoch,
                "viewers": viewers,
                "stream_id": self.stream_id,
                "status": context["status"],
                "can_chat": can_chat(self.user) is None,
                "is_staff": bool(self.user and self.user.is_staff),
            }
        )

    async def _join_reads(self, pipe) -> list:
        if pipe is None:  # no Redis: in-process state
            raw = chat_service.history_raw(stream_id=self.stream_id)
            return [raw, [*await transport.aroom_sequence(self.group)]]
        chat_service.history_queue_read(pipe, stream_id=self.stream_id)
        transport.queue_sequence_read(pipe, self.group)
        return []

    async def disconnect(self, code):
        self._unsubscribe_account()
        if self.stream_id is None or self.member is None:
            return
        self._unsubscribe_all()
        try:
            await presence.presence_leave(stream_id=self.stream_id, member=self.member)
        except Exception:
            logger.warning("presence leave failed", exc_info=True)
        self.member = None

    def _unsubscribe_all(self) -> None:
        transport.unwatch_status(self._status)
        transport.unsubscribe(self.group, self._deliver)
        transport.unsubscribe(control_group(self.stream_id), self._control)
        transport.unsubscribe(transport.STAFF_GROUP, self._staff_deliver)

    def _unsubscribe_account(self) -> None:
        if self.user_id:
            transport.unsubscribe(transport.user_control_group(self.user_id), self._account)

    def _guest_key(self) -> str:
        session = self.scope.get("session")
        key = getattr(session, "session_key", None) if session is not None else None
        if key:  # the session key itself never leaves the server, but keep it out of Redis too
            return hashlib.sha256(key.encode()).hexdigest()[:24]
        query = self.scope.get("query_string", b"").decode("latin-1")
        for part in query.split("&"):
            name, _sep, value = part.partition("=")
            if name == "g" and _GUEST_KEY.match(value):
                return value
        return uuid.uuid4().hex  # no session, no key: this socket counts on its own

    # --- delivery (hot path) --------------------------------------------------------------
    async def _too_slow(self) -> None:
        """The hub dropped this socket's room subscription (it stopped reading): close it; the
        page reconnects and refetches the room."""
        if not self.closing:
            self.closing = True
            await self.close(code=CLOSE_TOO_SLOW)

    async def _status(self, state: str) -> None:
        """The process lost / regained Redis: the page shows 재연결 중 / refetches the room."""
        await self.base_send({"type": "websocket.send", "text": transport.status_frame(state)})

    async def _staff_deliver(self, text: str) -> None:
        """Staff sockets also get this stream's studio events (live sales, restream state).
        They belong to another group's sequence, so they go out without a `seq`."""
        try:
            frame = json.loads(text)
        except ValueError:
            return
        data = frame.get("data") or {}
        if frame.get("event") in STAFF_EVENTS and data.get("stream_id") == self.stream_id:
            frame.pop("seq", None)
            frame.pop("epoch", None)
            await self.send_json(frame)

    async def _control(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if (
            message.get("action") == "ban"
            and self.user_id
            and message.get("user_id") == (self.user_id)
        ):
            await self.send_error(chat_service.ChatBanned.code, str(chat_service.ChatBanned()))
            await self.close(code=CLOSE_BANNED, reason="banned")
            self.closing = True

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False, separators=(",", ":")))

    async def send_error(self, code: str, message: str | None = None) -> None:
        self.errors = getattr(self, "errors", 0) + 1
        await self.send_json(
            {"type": "error", "code": code, "message": str(message or ERROR_MESSAGES.get(code, ""))}
        )

    # --- client messages ------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.stream_id is None or self.closing:
            return
        if not await self._within_budget():
            return
        raw = text_data if text_data is not None else bytes_data
        if raw is not None and len(raw.encode() if isinstance(raw, str) else raw) > MAX_FRAME_BYTES:
            await self.send_error("FRAME_TOO_LARGE")
            await self.close(code=CLOSE_TOO_LARGE, reason="frame too large")
            self.closing = True
            return
        try:
            message = json.loads(text_data) if text_data is not None else None
        except ValueError:
            message = None
        if not isinstance(message, dict):
            await self.send_error("INVALID_JSON")
            return
        kind = message.get("type")
        if kind == "heartbeat":
            presence.presence_heartbeat(stream_id=self.stream_id, member=self.member)
        elif kind == "chat":
            await self._chat(message.get("body"))
        elif kind == "delete":
            await self._moderate(chat_service.chat_message_delete, message, "message_id")
        elif kind in ("mute", "ban"):
            await self._moderate(
                chat_service.chat_sanction_add, message, "user_id", kind=kind.upper()
            )
        else:
            await self.send_error("UNKNOWN_TYPE")

    async def _within_budget(self) -> bool:
        """Per-socket flood guard (before any Redis or database work): error frames first,
        then a close with a reason."""
        now = time.monotonic()
        if now - self.window_start > FRAME_WINDOW_SECONDS:
            self.window_start, self.frames, self.errors = now, 0, 0
        self.frames += 1
        if self.frames > MAX_FRAMES_PER_WINDOW or self.errors > MAX_ERRORS_PER_WINDOW:
            await self.send_error("FLOODING")
            await self.close(code=CLOSE_FLOOD, reason="flooding")
            self.closing = True
            return False
        return True

    async def _chat(self, body) -> None:
        code = can_chat(self.user)
        if code:
            await self.send_error(code)
            return
        if not transport.realtime_available():  # nobody would see it: refuse, the text stays
            await self.send_error(chat_service.RealtimeUnavailable.code)
            return
        try:
            chat_service.chat_body_clean(body)  # cheap checks before the thread hop
            await database_sync_to_async(chat_service.chat_message_post)(
                stream_id=self.stream_id, user=self.user, body=body
            )
        except chat_service.AccountChanged as error:
            await self._close_for_account(error.code)
        except chat_service.ChatError as error:
            await self.send_error(error.code, error.message)

    async def _moderate(self, service, message: dict, field: str, **extra) -> None:
        value = message.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            await self.send_error("INVALID_INPUT")
            return
        kwargs = (
            {"message_id": value}
            if field == "message_id"
            else {
                "stream_id": self.stream_id,
                "user_id": value,
            }
        )
        try:
            await database_sync_to_async(moderate)(service, by=self.user, **kwargs, **extra)
        except chat_service.AccountChanged as error:
            await self._close_for_account(error.code)
        except chat_service.ChatError as error:
            await self.send_error(error.code, error.message)


# Chat moderation needs staff plus the model permission of what it writes (documented in
# docs/permissions.md): deleting marks a message changed, mute/ban adds a sanction.
MODERATION_PERMISSIONS = {
    chat_service.chat_message_delete: "live.change_chatmessage",
    chat_service.chat_sanction_add: "live.add_chatsanction",
}


def moderate(service, *, by, **kwargs):
    """Check the moderator's permission as the database says now (the socket's user was loaded
    at its handshake), then act. Runs in the ORM thread. Someone who is no longer active staff
    is left to the service, which closes the socket for the account change."""
    if by is not None and by.is_staff:
        current = get_user_model().objects.filter(pk=by.pk).first()
        if (
            current is not None
            and current.is_active
            and current.is_staff
            and not current.has_perm(MODERATION_PERMISSIONS[service])
        ):
            raise chat_service.NotStaff()
    return service(by=by, **kwargs)
