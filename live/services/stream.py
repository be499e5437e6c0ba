"""Stream lifecycle: keys, publish/unpublish from the media server, the offline grace, the
reconcile job, and the seller's controls (end, featured product, notice).

State machine: PENDING → LIVE (first publish) → OFFLINE (grace elapsed, seller ended it, or the
media server lost it). A republish turns an OFFLINE stream LIVE again with the same key and is
announced to the room (`stream.started`); the "live started" notice happens once per stream
(`live_started_notified_at`).

The media server knows a stream by its public id (the RTMP stream name); the secret publish key
only travels as the publish's `?key=` argument and is checked here, in `stream_publish`.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core.services import audit_log_record
from live import notify_hooks, realtime
from live.models import (
    LiveStream,
    RestreamSession,
    default_key_expiry,
    new_publish_key,
    public_id_valid,
)
from live.services.errors import (
    InvalidInput,
    MediaServerUnavailable,
    ProductNotInStream,
    StreamEnded,
    StreamKeyExpired,
    StreamKeyInvalid,
    StreamLive,
    StreamUnknown,
)

logger = logging.getLogger("live.stream")

NOTICE_MAX_LENGTH = 300
TITLE_MAX_LENGTH = 200


def media_reconcile_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "MEDIA_RECONCILE_AFTER_SECONDS", 120))


def _stream_for_update_by_public_id(public_id: str) -> LiveStream:
    """The stream the media server names (its public id). A bare publish key or anything else
    that is not a public id is unknown."""
    if not public_id_valid(public_id):
        raise StreamUnknown()
    stream = LiveStream.objects.select_for_update().filter(public_id=public_id).first()
    if stream is None:
        raise StreamUnknown()
    return stream


def _stream_for_update(stream_id: int) -> LiveStream:
    return LiveStream.objects.select_for_update().get(pk=stream_id)


def _audit(actor, action: str, stream: LiveStream, before=None, after=None) -> None:
    """A seller's change (studio or admin) in the audit log. Never the publish key itself."""
    if actor is not None:
        audit_log_record(
            actor=actor, action=f"live.{action}", obj=stream, before=before, after=after
        )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- Seller: create, key, end, feature, notice ----------------------------------------------


@transaction.atomic
def stream_create(
    *,
    title: str,
    actor=None,
    description: str = "",
    scheduled_at: datetime | None = None,
    free_shipping_mode: str = LiveStream.FreeShipping.DISABLED,
    free_shipping_threshold=None,
) -> LiveStream:
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise InvalidInput("방송 제목은 1~200자로 입력하세요.")
    if free_shipping_mode not in LiveStream.FreeShipping.values:
        raise InvalidInput("무료배송 설정이 올바르지 않습니다.")
    fields = {}
    if free_shipping_threshold is not None:
        if free_shipping_threshold < 0:
            raise InvalidInput("무료배송 기준 금액은 0 이상이어야 합니다.")
        fields["free_shipping_threshold"] = free_shipping_threshold
    stream = LiveStream.objects.create(
        title=title,
        description=(description or "").strip(),
        scheduled_at=scheduled_at,
        free_shipping_mode=free_shipping_mode,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
    )
    _audit(
        actor,
        "stream_create",
        stream,
        after={
            "title": stream.title,
            "description": stream.description,
            "scheduled_at": _iso(stream.scheduled_at),
            "free_shipping_mode": stream.free_shipping_mode,
            "free_shipping_threshold": str(stream.free_shipping_threshold),
            "status": stream.status,
        },
    )
    logger.info("stream.created stream_id=%s actor=%s", stream.pk, getattr(actor, "pk", None))
    return stream


@transaction.atomic
def stream_key_refresh(*, stream: LiveStream, actor=None) -> LiveStream:
    """Issue a new publish key valid for 24 h; the old one stops publishing at once (it is
    gone from the row `stream_publish` compares with). Refused while the stream is live. The
    public id never changes, so shared links keep working."""
    stream = _stream_for_update(stream.pk)
    if stream.status == LiveStream.Status.LIVE:
        raise StreamLive("방송 중에는 스트림 키를 바꿀 수 없습니다.")
    expired_at = stream.key_expires_at
    stream.publish_key = new_publish_key()
    stream.key_expires_at = default_key_expiry()
    stream.save(update_fields=["publish_key", "key_expires_at", "updated_at"])
    _audit(
        actor,
        "stream_key_refresh",
        stream,
        before={"key_expires_at": _iso(expired_at)},
        after={"key_expires_at": _iso(stream.key_expires_at), "key_replaced": True},
    )
    logger.info("stream.key_refreshed stream_id=%s actor=%s", stream.pk, getattr(actor, "pk", None))
    return stream


@transaction.atomic
def stream_end(*, stream: LiveStream, actor=None) -> LiveStream:
    """The seller ends the show now (no grace); its key stops working until refreshed.
    A stream that never went live is cancelled."""
    stream = _stream_for_update(stream.pk)
    if stream.status == LiveStream.Status.OFFLINE:
        raise StreamEnded()
    now = timezone.now()
    before = {"status": stream.status}
    # The show is over: its key no longer publishes (OBS reconnecting would restart it).
    stream.key_expires_at = now
    stream.save(update_fields=["key_expires_at"])
    _finalize(stream, now=now, reason=LiveStream.EndReason.SELLER)
    _audit(
        actor,
        "stream_end",
        stream,
        before=before,
        after={"status": stream.status, "ended_at": _iso(stream.ended_at)},
    )
    logger.info(
        "stream.ended_by_seller stream_id=%s actor=%s", stream.pk, getattr(actor, "pk", None)
    )
    return stream


@transaction.atomic
def stream_feature_product(*, stream: LiveStream, product=None, actor=None) -> LiveStream:
    """Pin `product` (one of the stream's products) on the live page; None clears it."""
    stream = _stream_for_update(stream.pk)
    if product is not None and product.stream_id != stream.pk:
        raise ProductNotInStream()
    before = {"featured_product_id": stream.featured_product_id}
    stream.featured_product = product
    stream.save(update_fields=["featured_product", "updated_at"])
    _audit(
        actor,
        "stream_feature",
        stream,
        before=before,
        after={"featured_product_id": stream.featured_product_id},
    )
    realtime.announce_featured_product(stream, product)
    return stream


@transaction.atomic
def stream_notice_update(*, stream: LiveStream, notice_text: str, actor=None) -> LiveStream:
    notice_text = (notice_text or "").strip()
    if len(notice_text) > NOTICE_MAX_LENGTH:
        raise InvalidInput("공지는 300자 이내로 입력하세요.")
    stream = _stream_for_update(stream.pk)
    before = {"notice_text": stream.notice_text}
    stream.notice_text = notice_text
    stream.save(update_fields=["notice_text", "updated_at"])
    _audit(actor, "stream_notice", stream, before=before, after={"notice_text": notice_text})
    realtime.announce_notice(stream)
    return stream


# --- Media server: publish, unpublish, heartbeat --------------------------------------------


@transaction.atomic
def stream_publish(*, public_id: str, publish_key: str, client_ip: str = "") -> LiveStream:
    """The media server asks whether a publisher may publish the stream named `public_id`
    with `publish_key` (OBS's `<public id>?key=<secret>`); accept → the stream is LIVE.

    Takes the stream's row lock, so concurrent publish/unpublish/finalize serialize.
    """
    stream = _stream_for_update_by_public_id(public_id)
    if not publish_key or not constant_time_compare(publish_key, stream.publish_key):
        raise StreamKeyInvalid()
    now = timezone.now()
    if not stream.key_usable(now):
        raise StreamKeyExpired()
    was_live = stream.status == LiveStream.Status.LIVE
    was_offline = stream.status == LiveStream.Status.OFFLINE
    stream.status = LiveStream.Status.LIVE
    stream.started_at = stream.started_at or now
    stream.ended_at = None
    stream.end_reason = ""
    stream.last_publish_at = now
    stream.media_last_seen_at = now
    # A key that went live stays valid for reconnects for another 24 h.
    stream.key_expires_at = max(stream.key_expires_at, default_key_expiry())
    grace_cancelled = stream.offline_scheduled_at is not None
    stream.offline_scheduled_at = None
    first_time = stream.live_started_notified_at is None
    if first_time:
        stream.live_started_notified_at = now
    stream.save(
        update_fields=[
            "status",
            "started_at",
            "ended_at",
            "end_reason",
            "last_publish_at",
            "media_last_seen_at",
            "offline_scheduled_at",
            "live_started_notified_at",
            "key_expires_at",
            "updated_at",
        ]
    )
    if first_time or was_offline:
        # Open pages leave "방송이 종료되었습니다" and reload the player; a reconnect within the
        # grace (still LIVE) is not news. The "live started" notice stays once per stream.
        realtime.announce_stream_started(stream)
    if first_time:
        # Shoppers outside the page (push, Alimtalk): once per stream, a republish is not news.
        notify_hooks.live_started_notify(stream)
    logger.info(
        "stream.published stream_id=%s client_ip=%s was_live=%s grace_cancelled=%s first=%s",
        stream.pk,
        client_ip,
        was_live,
        grace_cancelled,
        first_time,
    )
    return stream


@transaction.atomic
def stream_unpublish(*, public_id: str) -> LiveStream:
    """The publisher left: go OFFLINE after the grace unless it republishes first."""
    stream = _stream_for_update_by_public_id(public_id)
    if stream.status != LiveStream.Status.LIVE:
        return stream
    grace = settings.UNPUBLISH_GRACE_SECONDS
    stream.offline_scheduled_at = timezone.now() + timedelta(seconds=grace)
    stream.save(update_fields=["offline_scheduled_at", "updated_at"])
    stream_id = stream.pk
    transaction.on_commit(lambda: schedule_offline_check(stream_id=stream_id, countdown=grace))
    logger.info("stream.unpublished stream_id=%s offline_in=%ss", stream.pk, grace)
    return stream


def schedule_offline_check(*, stream_id: int, countdown: float) -> None:
    """Run `live.tasks.stream_finalize_offline` after `countdown` seconds.

    With a broker this is a Celery countdown. Without one (eager mode: the embedded default and
    the browser tests) a timer thread applies the same task in-process. The periodic
    `live.tasks.streams_finalize_due` job is the safety net for a lost timer either way.
    """
    from live.tasks import stream_finalize_offline_task

    kwargs = {"stream_id": stream_id}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        timer = threading.Timer(
            countdown + 0.1, lambda: _apply_in_thread(stream_finalize_offline_task, kwargs)
        )
        timer.daemon = True
        timer.start()
        return
    try:
        # +1 s: a worker whose clock runs slightly ahead must not fire before the grace ends.
        stream_finalize_offline_task.apply_async(kwargs=kwargs, countdown=countdown + 1)
    except Exception:  # broker down: the periodic job finalizes it
        logger.exception("stream.offline_schedule_failed stream_id=%s", stream_id)


def _apply_in_thread(task, kwargs: dict) -> None:
    from django.db import close_old_connections

    try:
        task.apply(kwargs=kwargs)
    finally:
        close_old_connections()


@transaction.atomic
def stream_heartbeat(*, public_id: str) -> LiveStream:
    """The media server still has the publisher. Refused (the publisher is dropped) when the
    stream is OFFLINE, e.g. the seller ended it while OBS keeps sending."""
    stream = _stream_for_update_by_public_id(public_id)
    if stream.status != LiveStream.Status.LIVE:
        raise StreamEnded()
    stream.media_last_seen_at = timezone.now()
    stream.save(update_fields=["media_last_seen_at"])
    return stream


@transaction.atomic
def stream_finalize_offline(*, stream_id: int, now: datetime | None = None) -> LiveStream | None:
    """Turn the stream OFFLINE if its unpublish grace has elapsed. Idempotent: a republish
    (grace cleared), an earlier finalize or a deleted stream make it a no-op."""
    now = now or timezone.now()
    stream = LiveStream.objects.select_for_update().filter(pk=stream_id).first()
    if stream is None or stream.status != LiveStream.Status.LIVE:
        return stream
    if stream.offline_scheduled_at is None or stream.offline_scheduled_at > now:
        return stream
    _finalize(stream, now=now, reason=LiveStream.EndReason.PUBLISHER_LEFT)
    logger.info("stream.offline stream_id=%s reason=grace_elapsed", stream.pk)
    return stream


def _finalize(stream: LiveStream, *, now: datetime, reason: str) -> None:
    """OFFLINE now: record the end, why (`LiveStream.EndReason`) and the duration, announce
    it, stop the restreams."""
    went_live = stream.status == LiveStream.Status.LIVE or stream.started_at is not None
    stream.status = LiveStream.Status.OFFLINE
    stream.end_reason = reason
    stream.offline_scheduled_at = None
    if went_live:
        stream.ended_at = now
        if stream.started_at:
            stream.total_duration_seconds = max(int((now - stream.started_at).total_seconds()), 0)
    stream.save(
        update_fields=[
            "status",
            "end_reason",
            "offline_scheduled_at",
            "ended_at",
            "total_duration_seconds",
            "updated_at",
        ]
    )
    sessions = list(
        RestreamSession.objects.select_for_update()
        .filter(stream=stream)
        .exclude(state__in=[RestreamSession.State.STOPPED])
    )
    for session in sessions:
        # The restream worker sees the stream is no longer LIVE and terminates the process.
        session.state = RestreamSession.State.STOPPED
        session.stopped_at = now
        session.save(update_fields=["state", "stopped_at", "updated_at"])
        realtime.announce_restream_state(session)
    realtime.announce_stream_ended(stream)


# --- Periodic jobs ----------------------------------------------------------------------------


def streams_finalize_due(*, now: datetime | None = None) -> list[int]:
    """Safety net for lost timers: finalize every stream whose grace has elapsed."""
    now = now or timezone.now()
    due = (
        LiveStream.objects.live().filter(offline_scheduled_at__lte=now).values_list("pk", flat=True)
    )
    done = []
    for stream_id in list(due):
        stream = stream_finalize_offline(stream_id=stream_id, now=now)
        if stream is not None and stream.status == LiveStream.Status.OFFLINE:
            done.append(stream_id)
    return done


def media_server_streams() -> set[str]:
    """Stream names (public ids) the media server (SRS HTTP API) has a publisher for."""
    base = settings.MEDIA_SERVER_API_URL.rstrip("/")
    url = f"{base}/api/v1/streams/?start=0&count=1000"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (URL from settings)
            payload = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise MediaServerUnavailable(str(exc)) from exc
    if not isinstance(payload, dict) or payload.get("code", 0) != 0:
        raise MediaServerUnavailable("unexpected SRS answer")
    keys = set()
    for item in payload.get("streams") or []:
        if not isinstance(item, dict):
            continue
        publish = item.get("publish") or {}
        if publish.get("active", True) and item.get("name"):
            keys.add(str(item["name"]))
    return keys


def media_reconcile(*, now: datetime | None = None) -> list[int]:
    """Turn OFFLINE every LIVE stream the media server has not had for 2 minutes.

    Presence comes from the heartbeat webhooks (`media_last_seen_at`) and, when
    MEDIA_SERVER_API_URL is set, from SRS's stream list. If that API cannot be reached the round
    is skipped: no stream is ended on missing information.
    """
    now = now or timezone.now()
    if settings.MEDIA_SERVER_API_URL:
        try:
            present = media_server_streams()
        except MediaServerUnavailable as exc:
            logger.warning("media.reconcile_skipped reason=%s", exc.message)
            return []
        if present:
            LiveStream.objects.live().filter(public_id__in=present).update(media_last_seen_at=now)
    cutoff = now - media_reconcile_after()
    ended = []
    for stream in LiveStream.objects.live().only("pk", "media_last_seen_at", "last_publish_at"):
        seen = stream.media_last_seen_at or stream.last_publish_at
        if seen is not None and seen > cutoff:
            continue
        if _reconcile_one(stream_id=stream.pk, cutoff=cutoff, now=now):
            ended.append(stream.pk)
    return ended


@transaction.atomic
def _reconcile_one(*, stream_id: int, cutoff: datetime, now: datetime) -> bool:
    stream = LiveStream.objects.select_for_update().filter(pk=stream_id).first()
    if stream is None or stream.status != LiveStream.Status.LIVE:
        return False
    seen = stream.media_last_seen_at or stream.last_publish_at
    if seen is not None and seen > cutoff:  # a heartbeat arrived meanwhile
        return False
    _finalize(stream, now=now, reason=LiveStream.EndReason.MEDIA_LOST)
    logger.info(
        "stream.offline stream_id=%s reason=media_server_lost last_seen=%s", stream.pk, seen
    )
    return True


@transaction.atomic
def streams_delete(*, stream_ids: list[int], actor=None) -> tuple[int, int]:
    """Admin bulk delete: LIVE streams are never deleted. Returns (deleted, skipped live)."""
    streams = list(LiveStream.objects.select_for_update().filter(pk__in=stream_ids))
    deletable = [s for s in streams if s.status != LiveStream.Status.LIVE]
    for stream in deletable:
        audit_log_record(
            actor=actor,
            action="live.stream_delete",
            obj=stream,
            before={"title": stream.title, "status": stream.status},
        )
    LiveStream.objects.filter(pk__in=[s.pk for s in deletable]).delete()
    logger.info(
        "stream.deleted count=%s skipped_live=%s actor=%s",
        len(deletable),
        len(streams) - len(deletable),
        getattr(actor, "pk", None),
    )
    return len(deletable), len(streams) - len(deletable)
