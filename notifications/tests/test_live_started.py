"""The "live started" trigger: once per stream, the right people, chunked, off the webhook."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from core.models import SystemConfig, get_config
from dorami.celery import app as celery_app
from live.services.stream import stream_create, stream_finalize_offline
from live.tests.test_webhooks import SECRET, rtmp, srs
from notifications import fanout
from notifications.models import Channel, Kind, NotificationSend, NotificationTemplate

pytestmark = pytest.mark.django_db

Status = NotificationSend.Status


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.MEDIA_WEBHOOK_SECRET = SECRET
    settings.MEDIA_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.UNPUBLISH_GRACE_SECONDS = 45


@pytest.fixture
def stream(db):
    return stream_create(title="금요 라이브")


@pytest.fixture
def make_user(user_factory):
    def make(email, *, opt_in=False, phone="", **extra):
        return user_factory(email=email, live_alert_opt_in=opt_in, phone=phone, **extra)

    return make


@pytest.fixture
def alimtalk_on(alimtalk_server):
    SystemConfig.objects.filter(pk=get_config().pk).update(alimtalk_enabled=True)
    from django.core.cache import cache

    cache.clear()  # get_config caches the singleton
    NotificationTemplate.objects.create(
        name="라이브 시작 알림톡",
        kind=Kind.LIVE_STARTED,
        channel=Channel.ALIMTALK,
        provider_template_code="LIVE_01",
        body="{{name}}님, {{stream_title}} 방송이 시작되었습니다. {{url}}",
    )
    return alimtalk_server


def test_first_publish_pushes_once_and_a_republish_does_not(
    client,
    monkeypatch,
    vapid,
    subscribe,
    shopper,
    push_server,
    stream,
    django_capture_on_commit_callbacks,
):
    subscribe(shopper, stream=stream)
    fanouts = []
    real_recipients = fanout.live_started_recipients

    def counting_recipients(*, stream_id):
        fanouts.append(stream_id)
        return real_recipients(stream_id=stream_id)

    monkeypatch.setattr(fanout, "live_started_recipients", counting_recipients)
    with django_capture_on_commit_callbacks(execute=True):
        assert rtmp(client, "on_publish", stream).status_code == 200
    assert len(push_server.requests) == 1
    send = NotificationSend.objects.get()
    assert send.dedupe_key == f"live_started:{stream.pk}:user:{shopper.pk}"
    assert (send.kind, send.status) == (Kind.LIVE_STARTED, Status.SENT)
    assert send.body == "금요 라이브 방송이 시작되었습니다."
    # Absolute: the message is opened outside the site (a push, a KakaoTalk message).
    assert send.url == f"{settings.SITE_URL}/live/{stream.public_id}/"

    # OBS drops, the grace elapses, the seller publishes again: the room hears it, nobody's
    # phone does.
    with django_capture_on_commit_callbacks(execute=True):
        rtmp(client, "on_publish_done", stream)
        stream_finalize_offline(stream_id=stream.pk, now=timezone.now() + timedelta(minutes=5))
        assert srs(client, "on_publish", stream).status_code == 200
        rtmp(client, "on_publish", stream)
    assert len(push_server.requests) == 1
    assert NotificationSend.objects.count() == 1
    assert fanouts == [stream.pk]  # the fan-out itself ran once, not only its sends


def test_a_second_fanout_of_the_same_stream_sends_nothing(
    vapid, subscribe, shopper, push_server, stream, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=shopper.pk).update(live_alert_opt_in=True)
    subscribe(shopper)
    with django_capture_on_commit_callbacks(execute=True):
        fanout.live_started_fanout(stream_id=stream.pk)
        fanout.live_started_fanout(stream_id=stream.pk)
    assert len(push_server.requests) == 1


def test_recipients(stream, make_user, subscribe):
    other = stream_create(title="다른 방송")
    # given
    phone_first = make_user("a@x.test", opt_in=True, phone="+12125550100")
    phone_second = make_user("b@x.test", opt_in=True, phone="+1 (212) 555-0100")
    this_show = make_user("c@x.test")
    subscribe(this_show, stream=stream)
    other_show = make_user("d@x.test")
    subscribe(other_show, stream=other)
    all_shows = make_user("e@x.test", opt_in=True)
    subscribe(all_shows)
    all_shows_alert_off = make_user("j@x.test")  # the device gets order messages, not shows
    subscribe(all_shows_alert_off)
    no_phone = make_user("f@x.test", opt_in=True)
    suspended = make_user("g@x.test", opt_in=True, phone="+12125550111")
    User.objects.filter(pk=suspended.pk).update(status=User.Status.SUSPENDED)
    subscribe(suspended)
    both = make_user("h@x.test", opt_in=True, phone="+821012345678")
    subscribe(both)
    not_opted = make_user("i@x.test", phone="+12125550122")
    # when
    recipients = {
        r.user_id: (r.push, r.alimtalk) for r in fanout.live_started_recipients(stream_id=stream.pk)
    }
    # then
    assert recipients == {
        phone_first.pk: (False, True),
        this_show.pk: (True, False),
        all_shows.pk: (True, False),  # opted in, no phone: push only
        both.pk: (True, True),
    }
    assert phone_second.pk not in recipients  # same number as phone_first
    for absent in (other_show, no_phone, suspended, not_opted, all_shows_alert_off):
        assert absent.pk not in recipients


def test_alimtalk_goes_once_per_phone_number(
    vapid, stream, make_user, alimtalk_on, django_capture_on_commit_callbacks
):
    first = make_user("a@x.test", opt_in=True, phone="+12125550100", name="김하나")
    make_user("b@x.test", opt_in=True, phone="+1 212-555-0100")
    make_user("c@x.test", opt_in=True, phone="+821012345678", name="박셋")
    with django_capture_on_commit_callbacks(execute=True):
        fanout.live_started(stream)
    phones = sorted(r.json()["phone"] for r in alimtalk_on.requests)
    assert phones == ["+12125550100", "+821012345678"]
    to_first = next(r.json() for r in alimtalk_on.requests if r.json()["phone"] == first.phone)
    assert to_first["template_code"] == "LIVE_01"
    assert to_first["message"] == (
        f"김하나님, 금요 라이브 방송이 시작되었습니다. {settings.SITE_URL}/live/{stream.public_id}/"
    )
    keys = set(NotificationSend.objects.values_list("dedupe_key", flat=True))
    assert keys == {
        f"live_started:{stream.pk}:tel:12125550100",
        f"live_started:{stream.pk}:tel:821012345678",
    }


def test_recipients_are_sent_in_chunks(
    monkeypatch,
    vapid,
    subscribe,
    push_server,
    stream,
    make_user,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setattr(fanout, "CHUNK_SIZE", 2)
    users = [make_user(f"u{i}@x.test", opt_in=True) for i in range(5)]
    for user in users:
        subscribe(user)
    chunks = []
    real_chunk = fanout.live_started_chunk

    def recording_chunk(*, stream_id, recipients):
        chunks.append([r.user_id for r in recipients])
        return real_chunk(stream_id=stream_id, recipients=recipients)

    monkeypatch.setattr(fanout, "live_started_chunk", recording_chunk)
    with django_capture_on_commit_callbacks(execute=True):
        assert fanout.live_started_fanout(stream_id=stream.pk) == 3
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert sorted(pk for chunk in chunks for pk in chunk) == sorted(u.pk for u in users)
    assert len(push_server.requests) == 5
    # A chunk delivered twice (a worker lost after the send) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        real_chunk(
            stream_id=stream.pk,
            recipients=fanout.live_started_recipients(stream_id=stream.pk)[:2],
        )
    assert len(push_server.requests) == 5


@pytest.mark.django_db(transaction=True)
def test_the_webhook_answers_before_the_fanout_runs(
    client, monkeypatch, vapid, subscribe, push_server, stream, make_user
):
    """A real Celery worker (Redis broker) does the fan-out. It is held at its first step, so
    a webhook that computed recipients, wrote send rows or pushed could not answer."""
    for i in range(3):
        subscribe(make_user(f"w{i}@x.test", opt_in=True))
    gate = threading.Event()
    real_recipients = fanout.live_started_recipients

    def held_recipients(*, stream_id):
        assert gate.wait(10), "never released"
        return real_recipients(stream_id=stream_id)

    monkeypatch.setattr(fanout, "live_started_recipients", held_recipients)
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    with start_worker(celery_app, pool="threads", concurrency=4, perform_ping_check=False):
        started = time.monotonic()
        response = rtmp(client, "on_publish", stream)
        answered_in = time.monotonic() - started
        assert response.status_code == 200
        assert answered_in < 2
        assert NotificationSend.objects.count() == 0
        assert push_server.requests == []
        gate.set()
        deadline = time.monotonic() + 20
        while NotificationSend.objects.filter(status=Status.SENT).count() < 3:
            assert time.monotonic() < deadline, "the sends did not finish"
            time.sleep(0.05)
    assert len(push_server.requests) == 3
    assert NotificationSend.objects.filter(status=Status.SENT).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_first_push_leaves_before_the_last_chunk_is_made(
    client, monkeypatch, vapid, subscribe, push_server, stream, make_user
):
    """A real Celery worker with one slot: the slot every chunk task competes for, as when
    the chunks fill every slot of a busy deployment. The last chunk is held at its start
    until a push has reached the push service. Messages queued as tasks behind the chunks
    could only leave after it; messages sent by the chunks themselves leave at once."""
    monkeypatch.setattr(fanout, "CHUNK_SIZE", 2)
    users = [make_user(f"c{i}@x.test", opt_in=True) for i in range(8)]
    for user in users:
        subscribe(user)
    last_user = max(user.pk for user in users)
    gate = threading.Event()
    real_chunk = fanout.live_started_chunk

    def held_chunk(*, stream_id, recipients):
        if any(r.user_id == last_user for r in recipients):
            gate.wait(30)
        return real_chunk(stream_id=stream_id, recipients=recipients)

    monkeypatch.setattr(fanout, "live_started_chunk", held_chunk)
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    with start_worker(celery_app, pool="threads", concurrency=1, perform_ping_check=False):
        started = time.monotonic()
        assert rtmp(client, "on_publish", stream).status_code == 200
        while not push_server.requests and time.monotonic() - started < 10:
            time.sleep(0.05)
        first_push_s = time.monotonic() - started if push_server.requests else None
        gate.set()
        deadline = time.monotonic() + 30
        while NotificationSend.objects.filter(status=Status.SENT).count() < len(users):
            assert time.monotonic() < deadline, "the sends did not finish"
            time.sleep(0.05)
    assert first_push_s is not None, "no push before the last chunk ran"
    assert first_push_s < 5
    assert len(push_server.requests) == len(users)
