"""Admin for broadcasts, restream targets, chat messages and sanctions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditLog
from live.models import ChatMessage, ChatSanction, LiveStream, RestreamTarget
from live.services.stream import stream_create, stream_publish


def publish(stream: LiveStream) -> LiveStream:
    return stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)


@pytest.fixture
def admin_client(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss@example.com", "pw-12345678")
    client.force_login(admin_user)
    client.user = admin_user
    return client


def test_broadcast_list_shows_history_columns(admin_client):
    stream = stream_create(title="지난 방송")
    LiveStream.objects.filter(pk=stream.pk).update(
        status=LiveStream.Status.OFFLINE, total_duration_seconds=3725, peak_viewers=321
    )
    publish(stream_create(title="지금 방송"))

    response = admin_client.get(reverse("admin:live_livestream_changelist"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "지난 방송" in html and "지금 방송" in html
    assert "321" in html
    assert "방송 시간" in html
    assert "delete_selected" not in html  # replaced by the live-safe action
    assert "delete_not_live" in html


def test_bulk_delete_skips_live_streams(admin_client):
    ended = stream_create(title="종료")
    pending = stream_create(title="예정")
    live = publish(stream_create(title="방송 중"))

    response = admin_client.post(
        reverse("admin:live_livestream_changelist"),
        {"action": "delete_not_live", "_selected_action": [ended.pk, pending.pk, live.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert list(LiveStream.objects.values_list("pk", flat=True)) == [live.pk]
    assert "방송 중인 1개 방송은 삭제하지 않았습니다" in response.content.decode()
    assert AuditLog.objects.filter(action="live.stream_delete").count() == 2


def test_live_stream_cannot_be_deleted_one_by_one(admin_client):
    live = publish(stream_create(title="방송 중"))

    response = admin_client.post(
        reverse("admin:live_livestream_delete", args=[live.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert LiveStream.objects.filter(pk=live.pk).exists()


def test_end_action(admin_client):
    live = publish(stream_create(title="방송 중"))

    admin_client.post(
        reverse("admin:live_livestream_changelist"),
        {"action": "end_streams", "_selected_action": [live.pk]},
    )

    assert LiveStream.objects.get(pk=live.pk).status == LiveStream.Status.OFFLINE


def test_restream_targets_edit_inline(admin_client):
    target = RestreamTarget.objects.create(name="TikTok", rtmp_url="rtmp://tt.example/live")

    response = admin_client.get(reverse("admin:live_restreamtarget_changelist"))

    assert response.status_code == 200
    assert "TikTok" in response.content.decode()
    assert target.enabled


def test_chat_messages_are_read_only_with_a_delete_action(admin_client, django_user_model):
    stream = stream_create(title="채팅 방송")
    author = django_user_model.objects.create_user("fan@example.com")
    message = ChatMessage.objects.create(
        stream=stream, user=author, display_name="fan", body="안녕하세요"
    )

    page = admin_client.get(reverse("admin:live_chatmessage_changelist"))
    admin_client.post(
        reverse("admin:live_chatmessage_changelist"),
        {"action": "hide_messages", "_selected_action": [message.pk]},
    )

    assert "안녕하세요" in page.content.decode()
    assert admin_client.get(reverse("admin:live_chatmessage_add")).status_code == 403
    message.refresh_from_db()
    assert message.is_deleted
    assert message.deleted_by == admin_client.user


def test_sanction_added_in_admin_goes_through_the_service(admin_client, django_user_model):
    stream = stream_create(title="채팅 방송")
    troll = django_user_model.objects.create_user("troll@example.com")

    response = admin_client.post(
        reverse("admin:live_chatsanction_add"),
        {"stream": stream.pk, "user": troll.pk, "kind": "MUTE", "reason": "도배"},
    )

    assert response.status_code == 302
    sanction = ChatSanction.objects.get()
    assert (sanction.user, sanction.kind, sanction.created_by) == (
        troll,
        "MUTE",
        admin_client.user,
    )

    admin_client.post(
        reverse("admin:live_chatsanction_delete", args=[sanction.pk]), {"post": "yes"}
    )
    assert not ChatSanction.objects.exists()
