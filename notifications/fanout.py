"""Live started: one show going live, told to everyone who asked, without holding up the
media server's webhook.

    stream_publish (first publish only)
      └─ live.notify_hooks → live_started(stream)           inside the publish transaction
           └─ on commit: task live_started_fanout(stream_id)  the webhook has answered by now
                └─ recipients, split into chunks of CHUNK_SIZE
                     └─ task live_started_chunk(stream_id, chunk)  one `notify` per person
                          └─ every COMMIT_EVERY people: their rows committed, then sent from
                             the chunk over one keep-alive connection (batch_deliver)
                               └─ task notification_send(send_id)  failures only (retries)

Who is told (`live_started_recipients`):

- web push: every active user with a browser subscribed to this show, and every user with
  "라이브 시작 알림" on and a browser subscribed to all shows;
- Alimtalk: every active user who turned on "라이브 시작 알림" and has a phone number, one
  message per phone number (the lowest user id of a shared number receives it).

Every step is idempotent: the dedupe keys `live_started:<stream>:user:<user>` (push) and
`live_started:<stream>:tel:<digits>` (Alimtalk) are unique per channel, so a chunk that runs
twice, or a second fan-out of the same stream, sends nothing more.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, transaction
from django.urls import reverse

from accounts.models import User
from live.models import LiveStream
from notifications import tasks
from notifications.models import Channel, Kind, NotificationSend, PushSubscription
from notifications.services import (
    notification_batch_deliver,
    notification_unfinished_resume,
    notify,
)
from notifications.triggers import shopper_name, site_url

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500  # recipients per task
COMMIT_EVERY = 50  # recipients per transaction inside a chunk
FIRST_BATCH = 10  # a chunk's first transaction: its first message waits for 10 rows, not 50


@dataclass(frozen=True)
class Recipient:
    user_id: int
    push: bool
    alimtalk: bool

    def as_task_arg(self) -> list:
        return [self.user_id, int(self.push), int(self.alimtalk)]

    @classmethod
    def from_task_arg(cls, value) -> Recipient:
        user_id, push, alimtalk = value
        return cls(user_id=int(user_id), push=bool(push), alimtalk=bool(alimtalk))


def phone_digits(phone: str) -> str:
    """The dedupe form of a phone number: its digits (`+1 (212) 555-0100` → `12125550100`)."""
    return re.sub(r"\D", "", phone or "")


def live_started_recipients(*, stream_id: int) -> list[Recipient]:
    """Everyone to tell that `stream_id` went live, by user id."""
    # Push: a browser subscribed to this one show is an explicit ask; an "every show" browser
    # is told only when its owner has the live alert on (the same rule `notify` applies).
    push_ids = set(
        PushSubscription.objects.filter(
            stream_id=stream_id, user__in=User.objects.active()
        ).values_list("user_id", flat=True)
    ) | set(
        PushSubscription.objects.filter(
            stream__isnull=True, user__in=User.objects.live_alert_subscribers()
        ).values_list("user_id", flat=True)
    )
    alimtalk_ids: set[int] = set()
    phones: set[str] = set()
    opted_in = User.objects.live_alert_subscribers().exclude(phone="").order_by("pk")
    for user_id, phone in opted_in.values_list("pk", "phone"):
        digits = phone_digits(phone)
        if digits and digits not in phones:
            phones.add(digits)
            alimtalk_ids.add(user_id)
    return [
        Recipient(user_id=user_id, push=user_id in push_ids, alimtalk=user_id in alimtalk_ids)
        for user_id in sorted(push_ids | alimtalk_ids)
    ]


def live_started(stream: LiveStream) -> None:
    """The handler `live.notify_hooks` calls the first time `stream` goes live (inside the
    publish transaction): the fan-out starts once that commits, outside the webhook."""
    stream_id = stream.pk
    transaction.on_commit(lambda: _enqueue(tasks.live_started_fanout, stream_id), robust=True)


def _enqueue(task, *args) -> None:
    """`task.delay(*args)`; without a broker (eager mode: the embedded default, the browser
    tests) the task runs in a thread of its own, so the webhook still answers at once."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        threading.Thread(target=_apply_in_thread, args=(task, args), daemon=True).start()
    else:
        task.delay(*args)


def _apply_in_thread(task, args: tuple) -> None:
    try:
        task.apply(args=args)
    finally:
        close_old_connections()


def live_started_fanout(*, stream_id: int) -> int:
    """Split the recipients into chunks and queue one task per chunk; the number of chunks."""
    recipients = live_started_recipients(stream_id=stream_id)
    chunks = 0
    for start in range(0, len(recipients), CHUNK_SIZE):
        chunk = [r.as_task_arg() for r in recipients[start : start + CHUNK_SIZE]]
        tasks.live_started_chunk.delay(stream_id, chunk)
        chunks += 1
    logger.info(
        "notify.live_started_fanout stream_id=%s recipients=%s chunks=%s",
        stream_id,
        len(recipients),
        chunks,
    )
    return chunks


def live_started_chunk(*, stream_id: int, recipients: list[Recipient]) -> int:
    """One `notify` per recipient and channel, and the messages sent from here; the number of
    send rows made or found.

    The chunk sends its own messages, COMMIT_EVERY people at a time (FIRST_BATCH the first
    time): one transaction makes their rows, then `notification_batch_deliver` pushes them
    over this worker thread's keep-alive connection and records the results in one more.
    Only failures become `notification_send` tasks (the retries). So the first message leaves
    soon after the first chunk starts, instead of after every chunk has made its rows:
    message tasks queued behind the chunks waited until the chunks had filled and freed every
    worker slot (97 s for 5,000). A chunk run again finds its rows: it sends the ones never
    tried and hands the ones whose try was cut off (the worker died) to `notification_send`;
    a recorded send is never sent again."""
    stream = LiveStream.objects.filter(pk=stream_id).first()
    if stream is None:
        return 0
    url = site_url(reverse("live:watch", kwargs={"public_id": stream.public_id}))
    users = User.objects.in_bulk([r.user_id for r in recipients])
    sends = 0
    for batch in _batches(recipients):
        with transaction.atomic():
            rows = _chunk_notify(stream=stream, url=url, users=users, recipients=batch)
        send_ids = [row.pk for row in rows if row.status == NotificationSend.Status.PENDING]
        if send_ids:
            notification_unfinished_resume(send_ids=send_ids)
            notification_batch_deliver(send_ids=send_ids)
        sends += len(rows)
    return sends


def _batches(recipients: list[Recipient]):
    """FIRST_BATCH people, then COMMIT_EVERY at a time."""
    start, size = 0, FIRST_BATCH
    while start < len(recipients):
        yield recipients[start : start + size]
        start, size = start + size, COMMIT_EVERY


def _chunk_notify(
    *, stream, url: str, users: dict, recipients: list[Recipient]
) -> list[NotificationSend]:
    stream_id = stream.pk
    rows: list[NotificationSend] = []
    for recipient in recipients:
        user = users.get(recipient.user_id)
        if user is None:
            continue
        context = {"name": shopper_name(user), "stream_title": stream.title, "url": url}
        if recipient.push:
            rows += notify(
                user=user,
                kind=Kind.LIVE_STARTED,
                context=context,
                dedupe_key=f"live_started:{stream_id}:user:{user.pk}",
                channels=(Channel.PUSH,),
                stream_id=stream_id,
                send_after_commit=False,
            )
        digits = phone_digits(user.phone)
        if recipient.alimtalk and digits:
            rows += notify(
                user=user,
                kind=Kind.LIVE_STARTED,
                context=context,
                dedupe_key=f"live_started:{stream_id}:tel:{digits}",
                channels=(Channel.ALIMTALK,),
                stream_id=stream_id,
                send_after_commit=False,
            )
    return rows
