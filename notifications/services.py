"""Every write of the notifications app: subscriptions, send rows and send attempts."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from core.models import get_config
from notifications import alimtalk, push, tasks
from notifications.errors import SendError, SubscriptionGone
from notifications.models import (
    DEFAULT_PUSH_TEXT,
    Channel,
    NotificationSend,
    NotificationTemplate,
    PushSubscription,
    template_render,
)

logger = logging.getLogger(__name__)

Status = NotificationSend.Status


# --- Subscriptions ----------------------------------------------------------------------------


@transaction.atomic
def push_subscription_save(
    *, user, endpoint: str, p256dh: str, auth: str, stream_id: int | None, user_agent: str = ""
) -> PushSubscription:
    """Store (or move to `user`) the browser's subscription; one row per endpoint."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "user": user,
            "p256dh": p256dh,
            "auth": auth,
            "stream_id": stream_id,
            "user_agent": user_agent[:300],
        },
    )
    return subscription


@transaction.atomic
def push_subscription_delete(*, user, endpoint: str) -> int:
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


# --- Creating sends ---------------------------------------------------------------------------


def _text(
    *, kind: str, channel: str, context: dict
) -> tuple[NotificationTemplate | None, str, str]:
    template = NotificationTemplate.objects.filter(kind=kind, channel=channel).first()
    if template is not None:
        if not template.enabled:
            return template, "", ""
        title, body = template.render(context)
        return template, title, body
    if channel == Channel.PUSH and kind in DEFAULT_PUSH_TEXT:
        title, body = DEFAULT_PUSH_TEXT[kind]
        return None, template_render(title, context), template_render(body, context)
    return None, "", ""


def _skip_reason(*, user, channel: str, template, body: str, stream_id: int | None) -> str:
    if channel == Channel.PUSH:
        if not push.push_configured():
            return "VAPID 키 미설정"
        if not PushSubscription.objects.filter(user=user).for_stream(stream_id).exists():
            return "푸시 구독 없음"
    else:
        if not get_config().alimtalk_enabled:
            return "알림톡 꺼짐"
        if not user.phone:
            return "전화번호 없음"
    if template is not None and not template.enabled:
        return "템플릿 사용 안 함"
    if not body:
        return "템플릿 없음"
    return ""


@transaction.atomic
def notify(
    *,
    user,
    kind: str,
    context: dict,
    dedupe_key: str,
    channels: Iterable[str] = (Channel.PUSH, Channel.ALIMTALK),
    stream_id: int | None = None,
) -> list[NotificationSend]:
    """One send row per channel (skipped with a reason when it cannot go out); the pending
    ones are sent by `notification_send` after commit. A key already used is not sent again."""
    sends = []
    for channel in channels:
        existing = NotificationSend.objects.filter(dedupe_key=dedupe_key, channel=channel).first()
        if existing is not None:
            sends.append(existing)
            continue
        template, title, body = _text(kind=kind, channel=channel, context=context)
        reason = _skip_reason(
            user=user, channel=channel, template=template, body=body, stream_id=stream_id
        )
        send = NotificationSend.objects.create(
            dedupe_key=dedupe_key,
            kind=kind,
            channel=channel,
            user=user,
            status=Status.SKIPPED if reason else Status.PENDING,
            reason=reason,
            title=title,
            body=body,
            url=str(context.get("url", "")),
            template_code=template.provider_template_code if template else "",
            stream_id=stream_id,
        )
        sends.append(send)
        if not reason:
            transaction.on_commit(lambda pk=send.pk: tasks.notification_send.delay(pk))
    return sends


# --- Sending ----------------------------------------------------------------------------------


def _push_deliver(send: NotificationSend) -> None:
    """Every subscribed browser of the user; done when one took it. Retryable only when none
    did and at least one failed for a retryable reason."""
    payload = {"title": send.title, "body": send.body, "url": send.url or "/"}
    subscriptions = list(
        PushSubscription.objects.filter(user_id=send.user_id).for_stream(send.stream_id)
    )
    if not subscriptions:
        raise SendError("푸시 구독 없음", retryable=False)
    delivered, errors = 0, []
    for subscription in subscriptions:
        try:
            push.push_send(subscription=subscription, payload=payload)
            delivered += 1
        except SubscriptionGone as exc:
            errors.append(exc)
        except SendError as exc:
            errors.append(exc)
    if delivered:
        return
    retryable = [e for e in errors if e.retryable]
    first = (retryable or errors)[0]
    raise SendError("; ".join(str(e) for e in errors), retryable=first.retryable)


def _alimtalk_deliver(send: NotificationSend) -> str:
    if not get_config().alimtalk_enabled:
        raise SendError("알림톡 꺼짐", retryable=False)
    return alimtalk.alimtalk_send(
        phone=send.user.phone, template_code=send.template_code, body=send.body
    )


def notification_attempt(*, send_id: int, last_try: bool) -> bool:
    """Try to deliver one send. True when a retry should follow (retryable error, not the
    last try). A send that is not PENDING (SENT, SKIPPED, FAILED) is left alone."""
    with transaction.atomic():
        send = (
            NotificationSend.objects.select_for_update()
            .select_related("user")
            .filter(pk=send_id)
            .first()
        )
        if send is None or send.status != Status.PENDING:
            return False
        send.attempts += 1
        send.save(update_fields=["attempts", "updated_at"])
    # The provider call happens outside the row lock; the task is the only sender of a row.
    provider_id = ""
    try:
        if send.channel == Channel.PUSH:
            _push_deliver(send)
        else:
            provider_id = _alimtalk_deliver(send)
    except SendError as exc:
        retry = exc.retryable and not last_try
        logger.warning(
            "notification %s attempt %s failed (%s): %s",
            send.pk,
            send.attempts,
            "retry" if retry else "final",
            exc,
        )
        fields = {"error": f"[{send.attempts}] {exc}"}
        if not retry:
            fields["status"] = Status.FAILED
        NotificationSend.objects.filter(pk=send.pk).update(updated_at=timezone.now(), **fields)
        return retry
    NotificationSend.objects.filter(pk=send.pk).update(
        status=Status.SENT, provider_id=provider_id, error="", updated_at=timezone.now()
    )
    return False
