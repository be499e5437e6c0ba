"""Events of the live app, announced to a stream's room after commit.

Event names are stable strings shared with the browser (`static/js/live*.js`). Payloads are
plain JSON. Sending goes through `dorami.realtime.send_event` (one transport, after commit).
"""

from __future__ import annotations

import json

from dorami.realtime import STAFF_GROUP, apublish, room_group, send_event, send_text

STREAM_STARTED = "stream.started"
STREAM_ENDED = "stream.ended"
FEATURED_CHANGED = "featured.changed"
NOTICE_UPDATED = "notice.updated"
CHAT_MESSAGE = "chat.message"
CHAT_DELETED = "chat.deleted"
VIEWERS = "viewers"
RESTREAM_STATE = "restream.state"


def control_group(stream_id) -> str:
    """Server-internal messages to the sockets of one room (never sent to browsers)."""
    return f"ctl.live.{stream_id}"


def stream_payload(stream) -> dict:
    return {
        "stream_id": stream.pk,
        "status": stream.status,
        "title": stream.title,
        "started_at": stream.started_at.isoformat() if stream.started_at else None,
        "ended_at": stream.ended_at.isoformat() if stream.ended_at else None,
        "end_reason": stream.end_reason,
    }


def announce_stream_started(stream) -> None:
    send_event(group=room_group(stream.pk), event=STREAM_STARTED, data=stream_payload(stream))
    send_event(group=STAFF_GROUP, event=STREAM_STARTED, data=stream_payload(stream))


def announce_stream_ended(stream) -> None:
    send_event(group=room_group(stream.pk), event=STREAM_ENDED, data=stream_payload(stream))
    send_event(group=STAFF_GROUP, event=STREAM_ENDED, data=stream_payload(stream))


def announce_featured_product(stream, product) -> None:
    data = {"stream_id": stream.pk, "product_id": product.pk if product else None}
    send_event(group=room_group(stream.pk), event=FEATURED_CHANGED, data=data)


def announce_notice(stream) -> None:
    data = {"stream_id": stream.pk, "notice": stream.notice_text}
    send_event(group=room_group(stream.pk), event=NOTICE_UPDATED, data=data)


async def announce_viewers(*, stream_id: int, viewers: int) -> None:
    """Presence runs outside any transaction, in the event loop: published at once."""
    data = {"stream_id": stream_id, "viewers": viewers}
    await apublish(group=room_group(stream_id), event=VIEWERS, data=data)


def announce_restream_state(session) -> None:
    data = {
        "stream_id": session.stream_id,
        "target_id": session.target_id,
        "state": session.state,
        "restart_count": session.restart_count,
        "error": session.last_error[-300:],
    }
    send_event(group=STAFF_GROUP, event=RESTREAM_STATE, data=data)


def announce_chat_message(*, stream_id: int, payload: dict) -> None:
    send_event(group=room_group(stream_id), event=CHAT_MESSAGE, data=payload)


def announce_chat_deleted(*, stream_id: int, message_id: int) -> None:
    data = {"stream_id": stream_id, "message_id": message_id}
    send_event(group=room_group(stream_id), event=CHAT_DELETED, data=data)


def announce_chat_ban(*, stream_id: int, user_id: int) -> None:
    """Every process closes that user's sockets in the room (after commit)."""
    text = json.dumps({"action": "ban", "user_id": user_id})
    send_text(group=control_group(stream_id), text=text)
