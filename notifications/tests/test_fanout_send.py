"""A live-start chunk sends its own messages: pooled, logged, failures retried by the task."""

from __future__ import annotations

import pytest

from accounts.models import User
from live.services.stream import stream_create
from notifications import fanout
from notifications.models import (
    Channel,
    Kind,
    NotificationAttempt,
    NotificationSend,
    PushSubscription,
)
from notifications.services import notify
from notifications.tasks import MAX_RETRIES
from notifications.tests.fakes import FakeServer

pytestmark = pytest.mark.django_db

Status = NotificationSend.Status
Result = NotificationAttempt.Result


@pytest.fixture
def push_server():
    """A push service that keeps connections open between requests, as real ones do."""
    server = FakeServer(default=201, keep_alive=True).start()
    yield server
    server.stop()


@pytest.fixture
def stream(db):
    return stream_create(title="금요 라이브")


@pytest.fixture
def shoppers(user_factory, subscribe):
    users = [user_factory(email=f"s{i}@x.test", live_alert_opt_in=True) for i in range(3)]
    for user in users:
        subscribe(user)
    return users


def run_chunk(stream) -> int:
    return fanout.live_started_chunk(
        stream_id=stream.pk, recipients=fanout.live_started_recipients(stream_id=stream.pk)
    )


def log_of(send: NotificationSend) -> list[tuple[int, str]]:
    return list(send.attempt_log.values_list("number", "result"))


def test_a_chunk_sends_its_messages_over_one_connection(vapid, shoppers, push_server, stream):
    # when
    assert run_chunk(stream) == 3
    # then: everyone told, each try logged, and one TCP connection carried all three
    assert len(push_server.requests) == 3
    assert len({r.peer for r in push_server.requests}) == 1
    for send in NotificationSend.objects.all():
        assert (send.status, send.attempts) == (Status.SENT, 1)
        assert log_of(send) == [(1, Result.SENT)]
    assert not PushSubscription.objects.filter(last_success_at__isnull=True).exists()


def test_a_chunk_hands_a_5xx_to_the_retrying_task(
    vapid, shoppers, push_server, stream, django_capture_on_commit_callbacks
):
    # given: the push service fails the first message once
    push_server.responses = [503]
    # when
    with django_capture_on_commit_callbacks(execute=True) as handed:
        run_chunk(stream)
    assert len(handed) == 1  # the failure only, after the results are committed
    # then: the retry (eager here, 30 s later in production) delivered it
    assert NotificationSend.objects.filter(status=Status.SENT).count() == 3
    retried = NotificationSend.objects.get(attempts=2)
    assert log_of(retried) == [(1, Result.RETRY), (2, Result.SENT)]
    assert len(push_server.requests) == 4


def test_a_chunk_failure_is_retried_three_times_then_failed(
    vapid, user_factory, subscribe, stream, django_capture_on_commit_callbacks
):
    failing = FakeServer(default=500).start()
    try:
        user = user_factory(email="f@x.test", live_alert_opt_in=True)
        subscription = subscribe(user)
        PushSubscription.objects.filter(pk=subscription.pk).update(endpoint=f"{failing.url}/push/x")
        with django_capture_on_commit_callbacks(execute=True):
            run_chunk(stream)
    finally:
        failing.stop()
    send = NotificationSend.objects.get()
    assert (send.status, send.attempts) == (Status.FAILED, 1 + MAX_RETRIES)
    assert log_of(send) == [(n, Result.RETRY) for n in range(1, 1 + MAX_RETRIES)] + [
        (1 + MAX_RETRIES, Result.FAILED)
    ]
    assert len(failing.requests) == 1 + MAX_RETRIES


@pytest.mark.parametrize("status", [400, 410])
def test_a_chunk_4xx_fails_at_once_and_410_deletes_the_browser(
    vapid, shoppers, push_server, stream, status
):
    push_server.responses = [status]
    run_chunk(stream)
    failed = NotificationSend.objects.get(status=Status.FAILED)
    assert log_of(failed) == [(1, Result.FAILED)]
    assert NotificationSend.objects.filter(status=Status.SENT).count() == 2
    assert len(push_server.requests) == 3
    gone = not PushSubscription.objects.filter(user_id=failed.user_id).exists()
    assert gone == (status == 410)


def test_a_chunk_run_again_sends_only_what_was_never_sent(vapid, shoppers, push_server, stream):
    # given: the worker died after making the rows; one row's try had been claimed (attempt 1)
    # but its result never recorded; another was never tried
    first, second, third = shoppers
    User.objects.filter(pk=third.pk).update(live_alert_opt_in=False)
    for user in (first, second):
        notify(
            user=user,
            kind=Kind.LIVE_STARTED,
            context={"name": user.name, "stream_title": stream.title, "url": "/"},
            dedupe_key=f"live_started:{stream.pk}:user:{user.pk}",
            channels=(Channel.PUSH,),
            stream_id=stream.pk,
            send_after_commit=False,
        )
    assert push_server.requests == []
    cut_off = NotificationSend.objects.get(user=first)
    NotificationSend.objects.filter(pk=cut_off.pk).update(attempts=1)
    # when: the chunk is delivered again
    run_chunk(stream)
    # then: each person is told once; the cut-off try is redone by the task as attempt 2
    assert len(push_server.requests) == 2
    assert len({r.path for r in push_server.requests}) == 2
    cut_off.refresh_from_db()
    assert (cut_off.status, log_of(cut_off)) == (Status.SENT, [(2, Result.SENT)])
    untried = NotificationSend.objects.get(user=second)
    assert (untried.status, log_of(untried)) == (Status.SENT, [(1, Result.SENT)])
    # and a third run sends nothing more
    run_chunk(stream)
    assert len(push_server.requests) == 2


def test_an_unexpected_error_costs_one_message_not_the_batch(
    monkeypatch, vapid, shoppers, push_server, stream
):
    from notifications import push

    real_post = push.push_post
    calls = []

    def breaking_post(*, subscription, payload):
        calls.append(subscription.pk)
        if len(calls) == 1:
            raise ValueError("broken key")
        return real_post(subscription=subscription, payload=payload)

    monkeypatch.setattr(push, "push_post", breaking_post)
    run_chunk(stream)
    failed = NotificationSend.objects.get(status=Status.FAILED)
    assert "broken key" in failed.error
    assert log_of(failed) == [(1, Result.FAILED)]
    assert NotificationSend.objects.filter(status=Status.SENT).count() == 2
