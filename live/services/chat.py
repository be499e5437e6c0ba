"""Live chat: post, delete, mute/ban, the per-user rate limit and the Redis history.

History: a Redis list per stream (`rt:chat:<id>`, newest first, 100 entries, 24 h TTL) holds
the exact payloads that were broadcast, so a joining socket gets the last 100 messages without
touching the database. Every message is also stored as a `ChatMessage` row.
Rate limit: the site's limiter (`dorami.ratelimit`, a sliding-window counter per user in
Redis), numbers from `SystemConfig` (20 messages / 10 s by default).
Without Redis (embedded default) both live in this process.
Redis outage: the live room refuses sending with `REALTIME_UNAVAILABLE` while its hub has lost
Redis (`live/consumers.py`: nothing stored, the sender keeps the text, nothing is posted that
nobody would see; the limiter itself fails open), and the history is read from the database.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from accounts.permissions import ACCOUNT_STATE_FIELDS, account_change, can_chat
from accounts.permissions import MESSAGES as GATE_MESSAGES
from core.models import get_config
from core.services import audit_log_record
from dorami import ratelimit
from dorami.realtime import REDIS_DOWN, sync_redis
from live import realtime
from live.models import ChatMessage, ChatSanction, LiveStream
from live.selectors import account_state
from live.services.errors import LiveError

logger = logging.getLogger(__name__)

MAX_LENGTH = 500
HISTORY_SIZE = 100
HISTORY_TTL = 24 * 60 * 60
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ChatError(LiveError):
    code = "CHAT_ERROR"


class MessageEmpty(ChatError):
    code = "MESSAGE_EMPTY"
    default_message = _("메시지를 입력해 주세요.")


class MessageTooLong(ChatError):
    code = "MESSAGE_TOO_LONG"
    default_message = _("메시지는 500자 이내로 입력해 주세요.")


class ChatMuted(ChatError):
    code = "CHAT_MUTED"
    default_message = _("채팅이 제한되었습니다.")


class ChatBanned(ChatError):
    code = "CHAT_BANNED"
    default_message = _("이 방송에서 강퇴되었습니다.")


class RateLimitExceeded(ChatError):
    code = "RATE_LIMIT_EXCEEDED"
    default_message = _("메시지를 너무 빨리 보내고 있습니다. 잠시 후 다시 시도해 주세요.")


class RealtimeUnavailable(ChatError):
    code = "REALTIME_UNAVAILABLE"
    default_message = _("실시간 연결이 끊겨 메시지를 보내지 못했습니다. 잠시 후 다시 보내 주세요.")


class ChatNotAllowed(ChatError):
    """Not logged in / suspended / profile incomplete: `code` is the gate's code."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(GATE_MESSAGES.get(code))


class AccountChanged(ChatError):
    """The user a socket loaded at its handshake was since suspended, logged out everywhere or
    lost staff rights: `code` is ACCOUNT_SUSPENDED / SESSION_ENDED / STAFF_REVOKED and the
    socket must close."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(GATE_MESSAGES.get(code))


class NotStaff(ChatError):
    code = "FORBIDDEN"
    default_message = _("권한이 없습니다.")


class MessageNotFound(ChatError):
    code = "MESSAGE_NOT_FOUND"
    default_message = _("메시지를 찾을 수 없습니다.")


class UserNotFound(ChatError):
    code = "USER_NOT_FOUND"
    default_message = _("사용자를 찾을 수 없습니다.")


class StreamNotFound(ChatError):
    code = "STREAM_NOT_FOUND"
    default_message = _("방송을 찾을 수 없습니다.")


# --- Input ----------------------------------------------------------------------------------
def chat_body_clean(body) -> str:
    """HTML stripped on input, control characters dropped, trimmed; 1–500 characters."""
    if not isinstance(body, str):
        raise MessageEmpty()
    text = _CONTROL.sub("", strip_tags(body)).strip()
    if not text:
        raise MessageEmpty()
    if len(text) > MAX_LENGTH:
        raise MessageTooLong()
    return text


# --- Rate limit -----------------------------------------------------------------------------
def chat_rate_limit_take(*, user_id: int) -> None:
    """Count one message for `user_id`; raise RateLimitExceeded past the configured limit
    (SystemConfig's numbers, the site's one limiter: `dorami.ratelimit`; refused messages do
    not count)."""

    config = get_config()
    limits = (("user", config.chat_rate_limit_count, config.chat_rate_limit_seconds),)
    caller = ratelimit.Caller(user_id=user_id)
    if ratelimit.hit("chat", caller, limits=limits, count_refused=False) is not None:
        raise RateLimitExceeded()


# --- History --------------------------------------------------------------------------------
_history_memory: dict[int, deque] = {}
_memory_lock = threading.Lock()


def _history_key(stream_id: int) -> str:
    return f"rt:chat:{stream_id}"


def history_push(*, stream_id: int, payload: dict) -> None:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    client = sync_redis()
    if client is None:
        with _memory_lock:
            _history_memory.setdefault(stream_id, deque(maxlen=HISTORY_SIZE)).appendleft(text)
        return
    pipe = client.pipeline(transaction=True)
    pipe.lpush(_history_key(stream_id), text)
    pipe.ltrim(_history_key(stream_id), 0, HISTORY_SIZE - 1)
    pipe.expire(_history_key(stream_id), HISTORY_TTL)
    try:
        pipe.execute()
    except REDIS_DOWN:  # runs after commit: the row is stored; the page reads it from the DB
        logger.warning("chat history push skipped stream_id=%s redis down", stream_id)


def history_remove(*, stream_id: int, message_id: int) -> None:
    client = sync_redis()
    if client is None:
        with _memory_lock:
            entries = _history_memory.get(stream_id, deque())
            for text in list(entries):
                if json.loads(text).get("id") == message_id:
                    entries.remove(text)
        return
    try:
        for raw in client.lrange(_history_key(stream_id), 0, -1):
            if json.loads(raw).get("id") == message_id:
                client.lrem(_history_key(stream_id), 0, raw)
    except REDIS_DOWN:  # runs after commit: the row is marked deleted either way
        logger.warning("chat history remove skipped stream_id=%s redis down", stream_id)


def history_author_rename(*, stream_id: int, message_ids: set[int], name: str) -> None:
    """Sign the stored recent messages `message_ids` with `name` (account deletion)."""

    def renamed(text) -> str | None:
        entry = json.loads(text)
        if entry.get("id") not in message_ids:
            return None
        entry["name"] = name
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))

    client = sync_redis()
    if client is None:
        with _memory_lock:
            entries = _history_memory.get(stream_id, deque())
            for index, text in enumerate(list(entries)):
                if (new := renamed(text)) is not None:
                    entries[index] = new
        return
    try:
        for index, raw in enumerate(client.lrange(_history_key(stream_id), 0, -1)):
            if (new := renamed(raw)) is not None:
                client.lset(_history_key(stream_id), index, new)
    except REDIS_DOWN:  # the rows are renamed; the list expires with the show (HISTORY_TTL)
        logger.warning("chat history rename skipped stream_id=%s redis down", stream_id)


def history_queue_read(pipe, *, stream_id: int) -> None:
    """Add the history read to a caller's Redis pipeline (decode with `history_decode`)."""
    pipe.lrange(_history_key(stream_id), 0, HISTORY_SIZE - 1)


def history_decode(raw_entries) -> list[dict]:
    messages = []
    for raw in reversed(raw_entries):  # stored newest first; returned oldest first
        try:
            messages.append(json.loads(raw))
        except (TypeError, ValueError):
            continue
    return messages


def history_frame(raw_entries) -> str:
    """The `history` frame text straight from the stored JSON entries (newest first in Redis),
    without decoding and re-encoding 100 messages for every joining socket."""
    parts = [raw.decode() if isinstance(raw, bytes) else raw for raw in reversed(raw_entries)]
    return '{"type":"history","messages":[' + ",".join(parts) + "]}"


def history_raw(*, stream_id: int) -> list:
    """Stored entries, newest first (in-process store without Redis; from the database while
    Redis is down)."""
    client = sync_redis()
    if client is None:
        with _memory_lock:
            return list(_history_memory.get(stream_id, ()))
    try:
        return client.lrange(_history_key(stream_id), 0, HISTORY_SIZE - 1)
    except REDIS_DOWN:
        logger.warning("chat history read from the database stream_id=%s redis down", stream_id)
        return history_from_database(stream_id=stream_id)


def history_from_database(*, stream_id: int) -> list[str]:
    """The last 100 visible messages as stored entries (newest first), from `ChatMessage`."""
    rows = ChatMessage.objects.filter(stream_id=stream_id, is_deleted=False).order_by("-id")
    return [
        json.dumps(message_payload(message), ensure_ascii=False, separators=(",", ":"))
        for message in rows[:HISTORY_SIZE]
    ]


def history_read(*, stream_id: int) -> list[dict]:
    """The last 100 messages, oldest first."""
    return history_decode(history_raw(stream_id=stream_id))


# --- Writes ---------------------------------------------------------------------------------
def message_payload(message: ChatMessage) -> dict:
    return {
        "id": message.pk,
        "user_id": message.user_id,
        "name": message.display_name,
        "seller": message.is_seller,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


def seller_display_name() -> str:
    """What the seller's (any staff member's) messages are signed with: the business name from
    SystemConfig, else 판매자."""

    return (get_config().business_name or "").strip()[:100] or str(_("판매자"))


@transaction.atomic
def chat_message_post(*, stream_id: int, user, body: str) -> ChatMessage:
    """Store and broadcast one message (history push and broadcast after commit)."""
    code = can_chat(user)
    if code:
        raise ChatNotAllowed(code)
    text = chat_body_clean(body)
    state = account_state(stream_id=stream_id, user_id=user.pk)  # one query: account + sanctions
    changed = account_change(user, state)
    if changed:
        raise AccountChanged(changed)
    assert state is not None  # a missing account is a change, refused just above
    if state["banned"]:
        raise ChatBanned()
    if state["muted"]:
        raise ChatMuted()
    chat_rate_limit_take(user_id=user.pk)
    is_seller = bool(state["is_staff"])
    name = seller_display_name() if is_seller else user.display_name[:100]
    message = ChatMessage.objects.create(
        stream_id=stream_id, user=user, display_name=name, is_seller=is_seller, body=text
    )
    payload = message_payload(message)
    transaction.on_commit(lambda: history_push(stream_id=stream_id, payload=payload))
    realtime.announce_chat_message(stream_id=stream_id, payload=payload)
    return message


def _require_staff(user) -> None:
    """Staff, as the row says now: a socket's user is loaded once, at its handshake."""
    if not (getattr(user, "is_authenticated", False) and user.is_staff):
        raise NotStaff()
    state = get_user_model().objects.filter(pk=user.pk).values(*ACCOUNT_STATE_FIELDS).first()
    changed = account_change(user, state)
    if changed:
        raise AccountChanged(changed)


@transaction.atomic
def chat_message_delete(*, message_id: int, by) -> ChatMessage:
    """Staff: hide a message for everyone (marked deleted, removed from the history)."""
    _require_staff(by)
    message = ChatMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise MessageNotFound()
    if not message.is_deleted:
        message.is_deleted = True
        message.deleted_by = by
        message.deleted_at = timezone.now()
        message.save(update_fields=["is_deleted", "deleted_by", "deleted_at"])
        audit_log_record(
            actor=by,
            action="live.chat_delete",
            obj=message,
            before={"is_deleted": False, "body": message.body, "user_id": message.user_id},
            after={"is_deleted": True},
        )
    stream_id = message.stream_id
    transaction.on_commit(lambda: history_remove(stream_id=stream_id, message_id=message_id))
    realtime.announce_chat_deleted(stream_id=stream_id, message_id=message_id)
    return message


@transaction.atomic
def chat_sanction_add(
    *, stream_id: int, user_id: int, kind: str, by, reason: str = ""
) -> ChatSanction:
    """Staff: mute (cannot send) or ban (sockets closed, cannot rejoin) a user for a stream."""
    _require_staff(by)
    if kind not in ChatSanction.Kind.values:
        raise ChatError()
    if not LiveStream.objects.filter(pk=stream_id).exists():
        raise StreamNotFound()
    if not get_user_model().objects.filter(pk=user_id).exists():
        raise UserNotFound()
    sanction, created = ChatSanction.objects.get_or_create(
        stream_id=stream_id,
        user_id=user_id,
        kind=kind,
        defaults={"created_by": by, "reason": reason[:200]},
    )
    if created:
        audit_log_record(
            actor=by,
            action=f"live.chat_{kind.lower()}",
            obj=sanction,
            after=_sanction_fields(sanction),
        )
    if kind == ChatSanction.Kind.BAN:
        realtime.announce_chat_ban(stream_id=stream_id, user_id=user_id)
    return sanction


@transaction.atomic
def chat_sanction_remove(*, stream_id: int, user_id: int, kind: str, by) -> int:
    _require_staff(by)
    sanctions = list(
        ChatSanction.objects.select_for_update().filter(
            stream_id=stream_id, user_id=user_id, kind=kind
        )
    )
    for sanction in sanctions:
        audit_log_record(
            actor=by,
            action=f"live.chat_un{kind.lower()}",
            obj=sanction,
            before=_sanction_fields(sanction),
        )
    deleted, _detail = ChatSanction.objects.filter(pk__in=[s.pk for s in sanctions]).delete()
    return deleted


def _sanction_fields(sanction: ChatSanction) -> dict:
    return {
        "stream_id": sanction.stream_id,
        "user_id": sanction.user_id,
        "kind": sanction.kind,
        "reason": sanction.reason,
    }
