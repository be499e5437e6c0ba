"""Every seller write in the studio, the chat moderation and the restream targets leaves an
audit row with the actor and before/after, and never a stream key."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory, staff_with
from core.models import AuditLog
from live.models import ChatMessage, ChatSanction, LiveStream, RestreamTarget
from live.services import chat as chat_services
from live.services.stream import stream_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(db):
    return UserFactory(is_staff=True, is_superuser=True, profile_complete=True)


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


@pytest.fixture
def stream(db):
    return stream_create(title="금요 라이브")


@pytest.fixture
def variant(stream):
    from shop.models import Product, ProductVariant

    product = Product.objects.create(name="캐시미어 니트", price=Decimal("39.00"), stream=stream)
    return ProductVariant.objects.create(product=product, price=Decimal("39.00"), stock=5)


def audit(action: str) -> AuditLog:
    rows = list(AuditLog.objects.filter(action=action))
    assert len(rows) == 1, f"{action}: {len(rows)} rows"
    return rows[0]


def dumped(row: AuditLog) -> str:
    return json.dumps([row.before, row.after, row.object_repr])


def test_studio_stream_writes_are_audited(seller_client, seller):
    # create
    seller_client.post(reverse("live:studio-stream-create"), {"title": "신상 라이브"})
    stream = LiveStream.objects.get()
    created = audit("live.stream_create")
    assert created.actor == seller and created.object_id == str(stream.pk)
    assert created.after["title"] == "신상 라이브"
    # key refresh: the expiry is recorded, the key itself never
    old_key = stream.publish_key
    seller_client.post(reverse("live:studio-key-refresh", args=[stream.pk]))
    stream.refresh_from_db()
    refreshed = audit("live.stream_key_refresh")
    assert refreshed.actor == seller and refreshed.after["key_replaced"] is True
    assert old_key not in dumped(refreshed) and stream.publish_key not in dumped(refreshed)
    for row in AuditLog.objects.all():
        assert stream.publish_key not in dumped(row) and old_key not in dumped(row)
    # notice
    seller_client.post(reverse("live:studio-notice", args=[stream.pk]), {"notice_text": "공지"})
    notice = audit("live.stream_notice")
    assert (notice.before, notice.after) == ({"notice_text": ""}, {"notice_text": "공지"})
    # end
    seller_client.post(reverse("live:studio-stream-end", args=[stream.pk]), {"confirm": "yes"})
    ended = audit("live.stream_end")
    assert ended.before == {"status": "PENDING"} and ended.after["status"] == "OFFLINE"
    assert ended.actor == seller


def test_studio_product_writes_are_audited(seller_client, seller, stream, variant):
    product = variant.product
    seller_client.post(reverse("live:studio-feature", args=[stream.pk]), {"product_id": product.pk})
    featured = audit("live.stream_feature")
    assert featured.before == {"featured_product_id": None}
    assert featured.after == {"featured_product_id": product.pk}
    seller_client.post(
        reverse("live:studio-sold-out", args=[stream.pk, product.pk]), {"sold_out": "1"}
    )
    sold_out = audit("product_sold_out")
    assert sold_out.actor == seller and sold_out.after == {"status": "SOLD_OUT"}
    seller_client.post(reverse("live:studio-stock", args=[stream.pk, variant.pk]), {"stock": "9"})
    stock = audit("stock_adjust")
    assert (stock.before, stock.after) == ({"stock": 5}, {"stock": 9})
    assert stock.actor == seller


def test_restream_target_writes_are_audited_without_the_key(seller_client, seller, stream):
    seller_client.post(
        reverse("live:studio-target-create"),
        {
            "name": "유튜브",
            "platform": "YOUTUBE",
            "rtmp_url": "rtmp://a.rtmp.youtube.com/live2",
            "target_key": "yt-secret-1",
            "enabled": "1",
        },
    )
    target = RestreamTarget.objects.get()
    created = audit("live.restream_target_create")
    assert created.actor == seller and created.after["has_stream_key"] is True
    seller_client.post(
        reverse("live:studio-target-update", args=[target.pk]),
        {
            "name": "유튜브 2",
            "platform": "YOUTUBE",
            "rtmp_url": "rtmp://a.rtmp.youtube.com/live2",
            "target_key": "yt-secret-2",
            "enabled": "1",
        },
    )
    updated = audit("live.restream_target_update")
    assert updated.before == {"name": "유튜브"}
    assert updated.after == {"name": "유튜브 2", "stream_key_replaced": True}
    seller_client.post(
        reverse("live:studio-target-toggle", args=[target.pk]), {"field": "enabled", "value": "0"}
    )
    toggled = audit("live.restream_target_toggle")
    assert (toggled.before, toggled.after) == ({"enabled": True}, {"enabled": False})
    seller_client.post(reverse("live:studio-target-delete", args=[target.pk]))
    deleted = audit("live.restream_target_delete")
    assert deleted.before["name"] == "유튜브 2" and deleted.actor == seller
    for row in AuditLog.objects.all():
        assert "yt-secret" not in dumped(row)


def test_chat_moderation_is_audited(seller, stream):
    author = UserFactory(profile_complete=True)
    message = ChatMessage.objects.create(
        stream=stream, user=author, display_name="@author", body="광고 메시지"
    )
    chat_services.chat_message_delete(message_id=message.pk, by=seller)
    chat_services.chat_message_delete(message_id=message.pk, by=seller)  # no change, no row
    deleted = audit("live.chat_delete")
    assert deleted.actor == seller and deleted.object_id == str(message.pk)
    assert deleted.before["is_deleted"] is False and deleted.after == {"is_deleted": True}
    for kind in ("MUTE", "BAN"):
        chat_services.chat_sanction_add(
            stream_id=stream.pk, user_id=author.pk, kind=kind, by=seller, reason="도배"
        )
        row = audit(f"live.chat_{kind.lower()}")
        assert row.actor == seller
        assert row.after == {
            "stream_id": stream.pk,
            "user_id": author.pk,
            "kind": kind,
            "reason": "도배",
        }


def test_sanctions_added_and_removed_in_the_admin_are_audited(client, seller, stream):
    author = UserFactory(profile_complete=True)
    client.force_login(seller)
    client.post(
        reverse("admin:live_chatsanction_add"),
        {"stream": stream.pk, "user": author.pk, "kind": "MUTE", "reason": "욕설"},
    )
    sanction = ChatSanction.objects.get()
    assert audit("live.chat_mute").actor == seller
    client.post(reverse("admin:live_chatsanction_delete", args=[sanction.pk]), {"post": "yes"})
    assert not ChatSanction.objects.exists()
    removed = audit("live.chat_unmute")
    assert removed.actor == seller and removed.before["reason"] == "욕설"


def test_hiding_messages_in_the_admin_needs_the_moderation_permission(client, stream):
    author = UserFactory(profile_complete=True)
    message = ChatMessage.objects.create(
        stream=stream, user=author, display_name="@author", body="안녕하세요"
    )
    viewer = staff_with("*.view")
    client.force_login(viewer)
    client.post(
        reverse("admin:live_chatmessage_changelist"),
        {"action": "hide_messages", "_selected_action": [message.pk]},
    )
    message.refresh_from_db()
    assert not message.is_deleted and not AuditLog.objects.exists()
    moderator = staff_with("live.view_chatmessage", "live.change_chatmessage")
    client.force_login(moderator)
    client.post(
        reverse("admin:live_chatmessage_changelist"),
        {"action": "hide_messages", "_selected_action": [message.pk]},
    )
    message.refresh_from_db()
    assert message.is_deleted and audit("live.chat_delete").actor == moderator


def test_each_studio_action_needs_its_own_permission(client, stream, variant):
    # given staff who may run the studio page but not change products or stock
    host = staff_with("live.change_livestream")
    client.force_login(host)
    assert client.get(reverse("live:studio-stream", args=[stream.pk])).status_code == 200
    # when they try the product tools
    sold_out = client.post(
        reverse("live:studio-sold-out", args=[stream.pk, variant.product_id]), {"sold_out": "1"}
    )
    stock = client.post(reverse("live:studio-stock", args=[stream.pk, variant.pk]), {"stock": "0"})
    target = client.post(reverse("live:studio-target-create"), {"name": "x"})
    # then each is refused and nothing changed
    assert (sold_out.status_code, stock.status_code, target.status_code) == (403, 403, 403)
    variant.refresh_from_db()
    assert variant.stock == 5 and variant.product.status == "AVAILABLE"
    assert not AuditLog.objects.exists()


def test_watch_page_offers_chat_delete_only_to_moderators(
    client, seller, stream, django_capture_on_commit_callbacks
):
    author = UserFactory(profile_complete=True)
    with django_capture_on_commit_callbacks(execute=True):  # the history is written on commit
        chat_services.chat_message_post(stream_id=stream.pk, user=author, body="안녕하세요")
    url = reverse("live:watch", args=[stream.public_id])
    client.force_login(staff_with("*.view"))
    viewer_page = client.get(url).content.decode()
    assert "안녕하세요" in viewer_page and 'class="chat-delete"' not in viewer_page
    assert 'data-staff="0"' in viewer_page
    client.force_login(seller)
    seller_page = client.get(url).content.decode()
    assert 'class="chat-delete"' in seller_page and 'data-staff="1"' in seller_page
