"""Every write of the notifications app: subscriptions, send rows and send attempts."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.models import get_config
from core.services import audit_log_record
from notifications import alimtalk, push, tasks
from notifications.errors import SendError, SubscriptionGone
from notifications.models import (
    DEFAULT_PUSH_TEXT,
    SAMPLE_CONTEXT,
    Channel,
    Kind,
    NotificationAttempt,
    NotificationPreference,
    NotificationSend,
    NotificationTemplate,
    PushSubscription,
    template_render,
)

logger = logging.getLogger(__name__)

Status = NotificationSend.Status
Result = NotificationAttempt.Result


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


def preference_of(user) -> NotificationPreference:
    """The shopper's preferences; an unsaved default (everything on) when never changed."""
    found = NotificationPreference.objects.filter(user_id=user.pk).first()
    return found or NotificationPreference(user_id=user.pk)


@transaction.atomic
def notification_preference_update(*, user, **values: bool) -> NotificationPreference:
    """Save the preferences page: the channel switches and the optional kinds."""
    allowed = {
        "push_enabled",
        "alimtalk_enabled",
        "order_confirmed_enabled",
        "cart_expiring_enabled",
    }
    unknown = set(values) - allowed
    if unknown:
        raise TypeError(f"unknown preference: {', '.join(sorted(unknown))}")
    preference, _ = NotificationPreference.objects.update_or_create(
        user_id=user.pk, defaults={name: bool(value) for name, value in values.items()}
    )
    return preference


def _preference_reason(*, user, kind: str, channel: str, preference, stream_id: int | None) -> str:
    """Why the shopper's own choices keep this message from going out ("" = they allow it)."""
    if not preference.channel_on(channel):
        return "회원이 웹 푸시를 껐음" if channel == Channel.PUSH else "회원이 알림톡을 껐음"
    if kind == Kind.LIVE_STARTED and not user.live_alert_opt_in:
        # A push subscription to this one show is an explicit ask for its start.
        asked = (
            channel == Channel.PUSH
            and stream_id is not None
            and PushSubscription.objects.filter(user=user, stream_id=stream_id).exists()
        )
        if not asked:
            return "라이브 알림 받지 않음"
    if not preference.kind_on(kind):
        return "회원이 이 알림을 껐음"
    return ""


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
    send_after_commit: bool = True,
) -> list[NotificationSend]:
    """One send row per channel (skipped with a reason when it cannot go out); the pending
    ones are sent by `notification_send` after commit. A key already used is not sent again.
    `send_after_commit=False`: the caller delivers the new PENDING rows itself with
    `notification_batch_deliver` (the live-start chunks do, over one pooled connection).

    The shopper's preferences are checked here, for every kind and caller: a channel the
    shopper switched off, an optional kind switched off, or a live start without the live
    alert opt-in (unless the shopper subscribed to that show) → SKIPPED with the reason."""
    sends = []
    preference = None
    for channel in channels:
        existing = NotificationSend.objects.filter(dedupe_key=dedupe_key, channel=channel).first()
        if existing is not None:
            sends.append(existing)
            continue
        if preference is None:
            preference = preference_of(user)
        template, title, body = _text(kind=kind, channel=channel, context=context)
        reason = _preference_reason(
            user=user, kind=kind, channel=channel, preference=preference, stream_id=stream_id
        ) or _skip_reason(
            user=user, channel=channel, template=template, body=body, stream_id=stream_id
        )
        send = _send_create(
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
            send_after_commit=send_after_commit,
        )
        sends.append(send)
    return sends


def _send_create(*, send_after_commit: bool = True, **fields) -> NotificationSend:
    """The row, its SKIPPED attempt when it cannot go out, else the task after commit. When a
    concurrent `notify` with the same key inserted first, its row is returned (it sends)."""
    try:
        with transaction.atomic():
            send = NotificationSend.objects.create(**fields)
    except IntegrityError:
        return NotificationSend.objects.get(
            dedupe_key=fields["dedupe_key"], channel=fields["channel"]
        )
    if send.status == Status.SKIPPED:
        NotificationAttempt.objects.create(send=send, result=Result.SKIPPED, error=send.reason)
    elif send_after_commit:
        transaction.on_commit(lambda pk=send.pk: tasks.notification_send.delay(pk))
    return send


@transaction.atomic
def notification_test_send(*, template: NotificationTemplate, user) -> NotificationSend:
    """Send `template` filled with sample values to `user` (the staff member pressing the
    button): their own push devices or phone. Preferences and `enabled` do not apply; the
    channel must still be able to send (keys, subscription, Alimtalk switch, phone). Audited."""
    title, body = template.render({**SAMPLE_CONTEXT, "name": user.name or SAMPLE_CONTEXT["name"]})
    reason = _skip_reason(
        user=user, channel=template.channel, template=None, body=body, stream_id=None
    )
    send = _send_create(
        dedupe_key=f"test:{template.pk}:{timezone.now().timestamp():.6f}",
        kind=template.kind,
        channel=template.channel,
        user=user,
        status=Status.SKIPPED if reason else Status.PENDING,
        reason=reason,
        title=title,
        body=body,
        url=SAMPLE_CONTEXT["url"],
        template_code=template.provider_template_code,
    )
    audit_log_record(
        actor=user,
        action="notification.test_send",
        obj=template,
        after={"send_id": send.pk, "channel": send.channel, "status": send.status},
    )
    return send


# --- Sending ----------------------------------------------------------------------------------


def _push_deliver(
    send: NotificationSend, subscriptions: list[PushSubscription] | None = None
) -> list[int]:
    """Every subscribed browser of the user (`subscriptions`: already read by a batch); done
    when one took it; the ids of the browsers that did. Retryable only when none did and at
    least one failed for a retryable reason."""
    payload = {"title": send.title, "body": send.body, "url": send.url or "/"}
    if subscriptions is None:
        subscriptions = list(
            PushSubscription.objects.filter(user_id=send.user_id).for_stream(send.stream_id)
        )
    if not subscriptions:
        raise SendError("푸시 구독 없음", retryable=False)
    delivered, errors = [], []
    for subscription in subscriptions:
        try:
            push.push_post(subscription=subscription, payload=payload)
            delivered.append(subscription.pk)
        except SubscriptionGone as exc:
            errors.append(exc)
        except SendError as exc:
            errors.append(exc)
    if delivered:
        return delivered
    retryable = [e for e in errors if e.retryable]
    first = (retryable or errors)[0]
    raise SendError("; ".join(str(e) for e in errors), retryable=first.retryable)


def _alimtalk_deliver(send: NotificationSend) -> str:
    if not get_config().alimtalk_enabled:
        raise SendError("알림톡 꺼짐", retryable=False)
    return alimtalk.alimtalk_send(
        phone=send.user.phone, template_code=send.template_code, body=send.body
    )


def _deliver(
    send: NotificationSend, subscriptions: list[PushSubscription] | None = None
) -> tuple[str, list[int]]:
    """Hand one message to its channel: (the provider's id, the push browsers that took it)."""
    if send.channel == Channel.PUSH:
        return "", _push_deliver(send, subscriptions)
    return _alimtalk_deliver(send), []


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
    try:
        provider_id, browsers = _deliver(send)
    except SendError as exc:
        retry = exc.retryable and not last_try
        with transaction.atomic():
            _failure_record(send=send, error=exc, retry=retry)
        return retry
    with transaction.atomic():
        _success_record(sent=[(send, provider_id)], browsers=browsers)
    return False


def notification_batch_deliver(*, send_ids: list[int]) -> int:
    """The first try of the PENDING sends among `send_ids` that nobody has tried yet
    (`attempts` 0: rows made by `notify(send_after_commit=False)`), here and now, over this
    thread's pooled HTTP session; the number delivered.

    Two commits for the whole batch: one claims the rows (attempts 1), one records every
    result (SENT rows in one UPDATE, the attempt log in one INSERT). A retryable failure is
    handed to `notification_send` as its first retry (after BACKOFF_SECONDS), so the limits,
    the backoff and the attempt log are those of a message sent alone; 404/410 deletes the
    browser's subscription as always. Runs outside any transaction (HTTP must not hold one)."""
    with transaction.atomic():
        sends = list(
            NotificationSend.objects.select_for_update(skip_locked=True)
            .select_related("user")
            .filter(pk__in=send_ids, status=Status.PENDING, attempts=0)
            .order_by("pk")
        )
        if not sends:
            return 0
        NotificationSend.objects.filter(pk__in=[send.pk for send in sends]).update(
            attempts=1, updated_at=timezone.now()
        )
    browsers_of: dict[int, list[PushSubscription]] = {}
    push_users = {send.user_id for send in sends if send.channel == Channel.PUSH}
    for subscription in PushSubscription.objects.filter(user_id__in=push_users).order_by("pk"):
        browsers_of.setdefault(subscription.user_id, []).append(subscription)
    sent: list[tuple[NotificationSend, str]] = []
    failed: list[tuple[NotificationSend, SendError]] = []
    browsers: list[int] = []
    for send in sends:
        send.attempts = 1
        wanted = None
        if send.channel == Channel.PUSH:
            wanted = [
                subscription
                for subscription in browsers_of.get(send.user_id, [])
                if subscription.pk is not None  # not deleted (410) earlier in this batch
                and (send.stream_id is None or subscription.stream_id in (None, send.stream_id))
            ]
        try:
            provider_id, took = _deliver(send, wanted)
        except SendError as exc:
            failed.append((send, exc))
            continue
        except Exception as exc:  # a bug must cost this message, not the batch's results
            logger.exception("notification %s: unexpected error in a batch", send.pk)
            failed.append((send, SendError(f"unexpected error: {exc!r}", retryable=False)))
            continue
        sent.append((send, provider_id))
        browsers.extend(took)
    with transaction.atomic():
        _success_record(sent=sent, browsers=browsers)
        for send, exc in failed:
            _failure_record(send=send, error=exc, retry=exc.retryable)
            if exc.retryable:
                transaction.on_commit(
                    lambda pk=send.pk: tasks.notification_send.apply_async(
                        args=[pk], countdown=tasks.BACKOFF_SECONDS, retries=1
                    )
                )
    return len(sent)


def notification_unfinished_resume(*, send_ids: list[int]) -> int:
    """Sends among `send_ids` whose try was claimed by `notification_batch_deliver` but never
    recorded (the worker died in between): handed to `notification_send`, which tries them
    again; the number handed. A live-start chunk delivered twice calls this first."""
    unfinished = list(
        NotificationSend.objects.filter(pk__in=send_ids, status=Status.PENDING, attempts__gte=1)
        .exclude(
            Exists(
                NotificationAttempt.objects.filter(
                    send_id=OuterRef("pk"), number=OuterRef("attempts")
                )
            )
        )
        .values_list("pk", "attempts")
    )
    for pk, attempts in unfinished:
        tasks.notification_send.apply_async(args=[pk], retries=attempts)
    return len(unfinished)


def _success_record(*, sent: list[tuple[NotificationSend, str]], browsers: list[int]) -> None:
    """SENT rows (push rows in one UPDATE), their attempt rows, the browsers' last success."""
    if not sent:
        return
    now = timezone.now()
    without_id = [send.pk for send, provider_id in sent if not provider_id]
    if without_id:
        NotificationSend.objects.filter(pk__in=without_id).update(
            status=Status.SENT, provider_id="", error="", updated_at=now
        )
    for send, provider_id in sent:
        if provider_id:
            NotificationSend.objects.filter(pk=send.pk).update(
                status=Status.SENT, provider_id=provider_id, error="", updated_at=now
            )
    NotificationAttempt.objects.bulk_create(
        NotificationAttempt(
            send=send, number=send.attempts, result=Result.SENT, provider_id=provider_id
        )
        for send, provider_id in sent
    )
    if browsers:
        PushSubscription.objects.filter(pk__in=browsers).update(last_success_at=now)


def _failure_record(*, send: NotificationSend, error: SendError, retry: bool) -> None:
    logger.warning(
        "notification %s attempt %s failed (%s): %s",
        send.pk,
        send.attempts,
        "retry" if retry else "final",
        error,
    )
    fields = {"error": f"[{send.attempts}] {error}"}
    if not retry:
        fields["status"] = Status.FAILED
    NotificationSend.objects.filter(pk=send.pk).update(updated_at=timezone.now(), **fields)
    NotificationAttempt.objects.create(
        send=send,
        number=send.attempts,
        result=Result.RETRY if retry else Result.FAILED,
        error=str(error)[:2000],
    )
