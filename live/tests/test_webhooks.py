"""Media-server webhooks: every accept/reject rule for SRS (JSON) and nginx-rtmp (form)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from dorami.realtime import current_sequence, room_group
from live.models import LiveStream
from live.services.stream import stream_create

SECRET = "test-webhook-secret"


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.MEDIA_WEBHOOK_SECRET = SECRET
    settings.MEDIA_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8", "10.0.0.0/8"]
    settings.UNPUBLISH_GRACE_SECONDS = 45


@pytest.fixture
def stream(db):
    return stream_create(title="봄 신상 라이브")


def name_and_key(stream, key):
    """OBS publishes `<public id>?key=<publish key>`: a stream sends both; a string is a bare
    stream name (with `key` if given)."""
    if isinstance(stream, str):
        return stream, key or ""
    return stream.public_id, stream.publish_key if key is None else key


def rtmp(
    client, event, stream, *, key=None, secret=SECRET, remote="127.0.0.1", call=None, app="live"
):
    """nginx-rtmp's notification: the stream name, and the publish arguments appended to the
    form body (so `key` is a field of its own)."""
    calls = {
        "on_publish": "publish",
        "on_publish_done": "publish_done",
        "on_update": "update_publish",
    }
    name, key = name_and_key(stream, key)
    data = {"call": call or calls.get(event, event), "name": name, "app": app, "addr": "10.0.0.9"}
    if key:
        data["key"] = key
    return client.post(f"/api/v1/media/rtmp/{event}?secret={secret}", data=data, REMOTE_ADDR=remote)


def srs(client, event, stream, *, key=None, secret=SECRET, remote="127.0.0.1", app="live"):
    """SRS's callback: the stream name and its query string in `param`."""
    name, key = name_and_key(stream, key)
    body = {
        "action": event,
        "client_id": "341w361a",
        "ip": "10.0.0.9",
        "vhost": "__defaultVhost__",
        "app": app,
        "stream": name,
        "param": f"?key={key}" if key else "",
    }
    return client.post(
        f"/api/v1/media/srs/{event}?secret={secret}",
        data=json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR=remote,
    )


@pytest.fixture
def room(stream):
    """Events announced to the stream's room so far (the per-room sequence number)."""
    return lambda: current_sequence(room_group(stream.pk))


# --- Guards: secret and source address ------------------------------------------------------


@pytest.mark.parametrize("send", [rtmp, srs])
def test_bad_secret_is_rejected_and_logged(client, stream, caplog, send):
    with caplog.at_level(logging.WARNING, logger="live.webhooks"):
        response = send(client, "on_publish", stream, secret="wrong")

    assert response.status_code == 403
    assert response.json()["error"] == "BAD_SECRET"
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.PENDING
    assert "media.webhook_rejected" in caplog.text
    assert "code=BAD_SECRET" in caplog.text
    assert stream.publish_key not in caplog.text  # never log a key


@pytest.mark.parametrize("send", [rtmp, srs])
def test_foreign_address_is_rejected_and_logged(client, stream, caplog, send):
    with caplog.at_level(logging.WARNING, logger="live.webhooks"):
        response = send(client, "on_publish", stream, remote="203.0.113.7")

    assert response.status_code == 403
    assert response.json()["error"] == "FORBIDDEN_ADDRESS"
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.PENDING
    assert "code=FORBIDDEN_ADDRESS" in caplog.text
    assert "remote_addr=203.0.113.7" in caplog.text


def test_missing_secret_is_rejected(client, stream):
    response = client.post(
        "/api/v1/media/rtmp/on_publish",
        data={"call": "publish", "name": stream.public_id, "key": stream.publish_key},
    )

    assert response.status_code == 403


def test_private_network_from_settings_is_allowed(client, stream):
    response = rtmp(client, "on_publish", stream, remote="10.20.30.40")

    assert response.status_code == 200


def test_get_is_not_allowed(client, stream):
    response = client.get(f"/api/v1/media/rtmp/on_publish?secret={SECRET}")

    assert response.status_code == 405


def test_webhooks_need_no_csrf_token(stream):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)

    response = rtmp(csrf_client, "on_publish", stream)

    assert response.status_code == 200


# --- Keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize("send", [rtmp, srs])
def test_unknown_stream_is_rejected_and_logged(client, db, caplog, send):
    with caplog.at_level(logging.WARNING, logger="live.webhooks"):
        response = send(client, "on_publish", "abcdefghijkm", key="0" * 32)

    assert response.status_code == 404
    assert response.json()["error"] == "STREAM_UNKNOWN"
    assert "code=STREAM_UNKNOWN" in caplog.text
    assert "stream=abcdefghijkm" in caplog.text
    assert "0" * 32 not in caplog.text  # the key that came with it is never logged


@pytest.mark.parametrize("send", [rtmp, srs])
def test_bare_publish_key_as_stream_name_is_refused(client, stream, caplog, send):
    """The old scheme (`live/<key>`) no longer publishes, with or without a key argument."""
    with caplog.at_level(logging.WARNING, logger="live.webhooks"):
        bare = send(client, "on_publish", stream.publish_key)
        doubled = send(client, "on_publish", stream.publish_key, key=stream.publish_key)

    assert (bare.status_code, doubled.status_code) == (404, 404)
    assert bare.json()["error"] == "STREAM_UNKNOWN"
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.PENDING
    assert stream.publish_key not in caplog.text  # logged as its first characters only


@pytest.mark.parametrize("send", [rtmp, srs])
@pytest.mark.parametrize("key", ["", "0" * 32, "wrong"])
def test_public_id_without_the_right_key_is_refused(client, stream, caplog, send, key):
    """Knowing the public id (it is in every shopper URL) is not enough to go live."""
    with caplog.at_level(logging.WARNING, logger="live.webhooks"):
        response = send(client, "on_publish", stream.public_id, key=key)

    assert response.status_code == 403
    assert response.json()["error"] == "STREAM_KEY_INVALID"
    assert "code=STREAM_KEY_INVALID" in caplog.text
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.PENDING
    assert stream.live_started_notified_at is None


@pytest.mark.parametrize("send", [rtmp, srs])
def test_another_streams_key_is_refused(client, stream, send):
    other = stream_create(title="다른 방송")

    response = send(client, "on_publish", stream, key=other.publish_key)

    assert response.status_code == 403
    assert LiveStream.objects.filter(status=LiveStream.Status.LIVE).count() == 0


@pytest.mark.parametrize("send", [rtmp, srs])
def test_key_left_in_the_stream_name_is_read(client, stream, send):
    """An encoder may hand the whole `<public id>?key=<secret>` over as the name."""
    response = send(client, "on_publish", f"{stream.public_id}?key={stream.publish_key}")

    assert response.status_code == 200
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE


def test_rtmp_args_field_is_read(client, stream):
    response = client.post(
        f"/api/v1/media/rtmp/on_publish?secret={SECRET}",
        data={"call": "publish", "name": stream.public_id, "args": f"key={stream.publish_key}"},
    )

    assert response.status_code == 200


@pytest.mark.parametrize("send", [rtmp, srs])
def test_refreshed_key_makes_the_old_one_useless_at_once(client, stream, send):
    from live.services.stream import stream_key_refresh

    old_key = stream.publish_key
    refreshed = stream_key_refresh(stream=stream)

    old = send(client, "on_publish", stream.public_id, key=old_key)
    assert old.status_code == 403
    assert old.json()["error"] == "STREAM_KEY_INVALID"
    assert LiveStream.objects.get(pk=stream.pk).status == LiveStream.Status.PENDING
    new = send(client, "on_publish", refreshed)
    assert new.status_code == 200
    assert refreshed.public_id == stream.public_id  # shared links keep working


@pytest.mark.parametrize("send", [rtmp, srs])
def test_expired_key_is_rejected(client, stream, caplog, send):
    LiveStream.objects.filter(pk=stream.pk).update(
        key_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with caplog.at_level(logging.WARNING, logger="live.webhooks"):
        response = send(client, "on_publish", stream)

    assert response.status_code == 403
    assert response.json()["error"] == "STREAM_KEY_EXPIRED"
    assert "code=STREAM_KEY_EXPIRED" in caplog.text
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.PENDING


def test_publish_to_another_application_is_rejected(client, stream):
    response = rtmp(client, "on_publish", stream, app="other")

    assert response.status_code == 403
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.PENDING


def test_malformed_srs_json_is_rejected(client, stream):
    response = client.post(
        f"/api/v1/media/srs/on_publish?secret={SECRET}",
        data="{not json",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "MALFORMED_JSON"


def test_unknown_event_is_404(client, stream):
    response = rtmp(client, "on_explode", stream)

    assert response.status_code == 404


# --- Publish --------------------------------------------------------------------------------


def test_rtmp_publish_turns_pending_stream_live(client, stream):
    response = rtmp(client, "on_publish", stream)

    assert response.status_code == 200
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE
    assert stream.started_at is not None
    assert stream.live_started_notified_at is not None
    assert stream.media_last_seen_at is not None


def test_srs_publish_answers_code_zero(client, stream):
    response = srs(client, "on_publish", stream)

    assert response.status_code == 200
    assert response.json() == {"code": 0}
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE


def test_srs_unpublish_and_heartbeat(client, stream):
    srs(client, "on_publish", stream)

    heartbeat = srs(client, "on_hls", stream)
    unpublish = srs(client, "on_unpublish", stream)

    assert heartbeat.json() == {"code": 0}
    assert unpublish.json() == {"code": 0}
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE
    assert stream.offline_scheduled_at is not None


def test_publish_of_an_offline_stream_with_valid_key_goes_live_again(client, stream):
    LiveStream.objects.filter(pk=stream.pk).update(
        status=LiveStream.Status.OFFLINE,
        started_at=timezone.now() - timedelta(hours=1),
        ended_at=timezone.now() - timedelta(minutes=5),
        live_started_notified_at=timezone.now() - timedelta(hours=1),
    )

    response = rtmp(client, "on_publish", stream)

    assert response.status_code == 200
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE
    assert stream.ended_at is None


def test_live_started_is_announced_once_not_on_reconnects(
    client, stream, room, django_capture_on_commit_callbacks
):
    # given: the first publish announces "stream.started"
    with django_capture_on_commit_callbacks(execute=True):
        rtmp(client, "on_publish", stream)
    after_first = room()
    notified_at = LiveStream.objects.get(pk=stream.pk).live_started_notified_at

    # when: OBS drops and reconnects, twice
    with django_capture_on_commit_callbacks(execute=False):  # keep the grace timer out of it
        rtmp(client, "on_publish_done", stream)
    with django_capture_on_commit_callbacks(execute=True):
        rtmp(client, "on_publish", stream)
        rtmp(client, "on_publish", stream)

    # then: nothing more was announced to the room
    assert after_first == 1
    assert room() == after_first
    assert LiveStream.objects.get(pk=stream.pk).live_started_notified_at == notified_at


# --- Unpublish grace ------------------------------------------------------------------------


def test_unpublish_schedules_offline_after_the_grace(client, stream, settings):
    settings.UNPUBLISH_GRACE_SECONDS = 45
    rtmp(client, "on_publish", stream)
    before = timezone.now()

    response = rtmp(client, "on_publish_done", stream)

    assert response.status_code == 200
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE  # still live during the grace
    delay = (stream.offline_scheduled_at - before).total_seconds()
    assert 44 <= delay <= 46


def _live_then_offline_after_the_grace(client, stream, capture) -> None:
    """OBS publishes, leaves, and the grace runs out (the task that ends the stream runs)."""
    from live.tasks import stream_finalize_offline_task

    with capture(execute=True):
        rtmp(client, "on_publish", stream)
    rtmp(client, "on_publish_done", stream)
    LiveStream.objects.filter(pk=stream.pk).update(
        offline_scheduled_at=timezone.now() - timedelta(seconds=1)
    )
    with capture(execute=True):
        stream_finalize_offline_task.apply(kwargs={"stream_id": stream.pk})


def test_grace_elapsed_turns_stream_offline_and_announces_end(
    client, stream, room, django_capture_on_commit_callbacks
):
    _live_then_offline_after_the_grace(client, stream, django_capture_on_commit_callbacks)

    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.OFFLINE
    assert stream.ended_at is not None
    assert stream.offline_scheduled_at is None
    assert room() == 2  # stream.started, then stream.ended


def test_republish_after_offline_is_announced_to_open_pages(
    client, stream, room, django_capture_on_commit_callbacks
):
    # given a stream that went live and then OFFLINE (open pages show "방송이 종료되었습니다")
    _live_then_offline_after_the_grace(client, stream, django_capture_on_commit_callbacks)
    notified_at = LiveStream.objects.get(pk=stream.pk).live_started_notified_at
    assert room() == 2
    # when OBS publishes again
    with django_capture_on_commit_callbacks(execute=True):
        rtmp(client, "on_publish", stream)
    # then the room hears stream.started (once), the "live started" notice stays once per stream
    assert LiveStream.objects.get(pk=stream.pk).status == LiveStream.Status.LIVE
    assert room() == 3
    assert LiveStream.objects.get(pk=stream.pk).live_started_notified_at == notified_at


def test_finalize_before_the_grace_is_a_no_op(client, stream):
    from live.services.stream import stream_finalize_offline

    rtmp(client, "on_publish", stream)
    rtmp(client, "on_publish_done", stream)

    stream_finalize_offline(stream_id=stream.pk)

    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE


def test_republish_within_the_grace_cancels_the_offline(client, stream):
    from live.services.stream import stream_finalize_offline, streams_finalize_due

    rtmp(client, "on_publish", stream)
    rtmp(client, "on_publish_done", stream)

    response = rtmp(client, "on_publish", stream)

    assert response.status_code == 200
    stream.refresh_from_db()
    assert stream.offline_scheduled_at is None
    # the countdown task and the periodic job, firing after the original grace, change nothing
    later = timezone.now() + timedelta(seconds=60)
    stream_finalize_offline(stream_id=stream.pk, now=later)
    assert streams_finalize_due(now=later) == []
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE


def test_periodic_job_finalizes_streams_past_their_grace(client, stream):
    from live.services.stream import streams_finalize_due

    rtmp(client, "on_publish", stream)
    rtmp(client, "on_publish_done", stream)

    done = streams_finalize_due(now=timezone.now() + timedelta(seconds=46))

    assert done == [stream.pk]
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.OFFLINE


def test_unpublish_of_unknown_key_is_404(client, db):
    response = rtmp(client, "on_publish_done", "f" * 32)

    assert response.status_code == 404


# --- Heartbeat ------------------------------------------------------------------------------


def test_rtmp_update_records_media_presence(client, stream):
    rtmp(client, "on_publish", stream)
    LiveStream.objects.filter(pk=stream.pk).update(
        media_last_seen_at=timezone.now() - timedelta(minutes=1)
    )

    response = rtmp(client, "on_update", stream)

    assert response.status_code == 200
    stream.refresh_from_db()
    assert timezone.now() - stream.media_last_seen_at < timedelta(seconds=5)


def test_update_for_a_player_is_allowed_without_state(client, stream):
    response = rtmp(client, "on_update", stream, call="update_play")

    assert response.status_code == 200
    stream.refresh_from_db()
    assert stream.media_last_seen_at is None


def test_heartbeat_of_an_ended_stream_drops_the_publisher(client, stream, django_user_model):
    from live.services.stream import stream_end

    staff_user = django_user_model.objects.create_user("seller@example.com", is_staff=True)

    rtmp(client, "on_publish", stream)
    stream_end(stream=stream, actor=staff_user)

    heartbeat = rtmp(client, "on_update", stream)
    republish = rtmp(client, "on_publish", stream)

    assert heartbeat.status_code == 403  # nginx-rtmp disconnects the publisher
    assert republish.status_code == 403  # and OBS reconnecting does not restart the show
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.OFFLINE


def test_srs_server_heartbeat_without_a_stream_is_accepted(client, db):
    response = client.post(
        f"/api/v1/media/srs/heartbeat?secret={SECRET}",
        data=json.dumps({"device_id": "dorami-srs", "ip": "172.18.0.5"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"code": 0}


def test_srs_server_heartbeat_with_a_bad_secret_is_rejected(client, db):
    response = client.post(
        "/api/v1/media/srs/heartbeat?secret=nope",
        data=json.dumps({"device_id": "dorami-srs"}),
        content_type="application/json",
    )

    assert response.status_code == 403
