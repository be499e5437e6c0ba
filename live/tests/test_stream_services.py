"""Seller-side stream services: create, key refresh, end, featured product, notice."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dorami.realtime import current_sequence, room_group
from live.models import LiveStream, RestreamSession, RestreamTarget
from live.services import stream as services
from live.services.errors import (
    InvalidInput,
    ProductNotInStream,
    StreamEnded,
    StreamKeyExpired,
    StreamLive,
)


@pytest.fixture
def seller(django_user_model):
    return django_user_model.objects.create_user("seller@example.com", is_staff=True)


@pytest.fixture
def stream(db, seller):
    return services.stream_create(title="  금요 라이브  ", actor=seller)


def make_product(stream, name="니트"):
    from shop.models import Product

    return Product.objects.create(name=name, price=Decimal("25.00"), stream=stream)


def test_create_strips_title_and_issues_a_32_hex_key(stream, seller):
    assert stream.title == "금요 라이브"
    assert stream.status == LiveStream.Status.PENDING
    assert re.fullmatch(r"[0-9a-f]{32}", stream.publish_key)
    assert re.fullmatch(r"[a-z2-9]{12}", stream.public_id)
    assert stream.public_id not in stream.publish_key
    assert stream.obs_stream_key == f"{stream.public_id}?key={stream.publish_key}"
    assert stream.created_by == seller
    assert stream.key_expires_at > timezone.now() + timedelta(hours=23)


@pytest.mark.parametrize("title", ["", "   ", "가" * 201])
def test_create_refuses_bad_titles(db, title):
    with pytest.raises(InvalidInput) as exc:
        services.stream_create(title=title)

    assert exc.value.code == "INVALID_INPUT"
    assert not LiveStream.objects.exists()


def test_key_refresh_issues_a_new_key_for_24_hours(stream):
    old_key = stream.publish_key
    LiveStream.objects.filter(pk=stream.pk).update(key_expires_at=timezone.now())

    refreshed = services.stream_key_refresh(stream=stream)

    assert refreshed.publish_key != old_key
    assert refreshed.key_expires_at > timezone.now() + timedelta(hours=23)
    assert LiveStream.objects.get(pk=stream.pk).publish_key == refreshed.publish_key
    assert refreshed.public_id == stream.public_id  # the public id never changes


def test_key_refresh_is_refused_while_live(stream):
    services.stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)

    with pytest.raises(StreamLive) as exc:
        services.stream_key_refresh(stream=stream)

    assert exc.value.code == "STREAM_LIVE"
    assert LiveStream.objects.get(pk=stream.pk).publish_key == stream.publish_key


def test_old_key_stops_working_after_refresh(stream):
    from live.services.errors import StreamKeyInvalid

    old_key = stream.publish_key
    services.stream_key_refresh(stream=stream)

    with pytest.raises(StreamKeyInvalid):
        services.stream_publish(public_id=stream.public_id, publish_key=old_key)
    assert LiveStream.objects.get(pk=stream.pk).status == LiveStream.Status.PENDING


@pytest.mark.parametrize("name", ["", "short", "0" * 32, "ABCDEFGHJKMN", None])
def test_publish_names_a_stream_only_by_its_public_id(stream, name):
    from live.services.errors import StreamUnknown

    with pytest.raises(StreamUnknown):
        services.stream_publish(public_id=name, publish_key=stream.publish_key)
    with pytest.raises(StreamUnknown):
        services.stream_publish(public_id=stream.publish_key, publish_key=stream.publish_key)


def test_end_finalizes_now_and_stops_restreams(stream, seller, django_capture_on_commit_callbacks):
    target = RestreamTarget.objects.create(name="YT", rtmp_url="rtmp://yt.example/live2")
    with django_capture_on_commit_callbacks(execute=True):
        services.stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)
    LiveStream.objects.filter(pk=stream.pk).update(
        started_at=timezone.now() - timedelta(minutes=30)
    )
    session = RestreamSession.objects.create(
        stream=stream, target=target, state=RestreamSession.State.ACTIVE
    )

    with django_capture_on_commit_callbacks(execute=True):
        ended = services.stream_end(stream=stream, actor=seller)

    assert ended.status == LiveStream.Status.OFFLINE
    assert 1790 <= ended.total_duration_seconds <= 1810
    assert ended.ended_at is not None
    session.refresh_from_db()
    assert session.state == RestreamSession.State.STOPPED
    assert current_sequence(room_group(stream.pk)) == 2  # started, ended
    with pytest.raises(StreamKeyExpired):  # OBS reconnecting does not restart the show
        services.stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)


def test_end_twice_is_refused(stream, seller):
    services.stream_end(stream=stream, actor=seller)

    with pytest.raises(StreamEnded) as exc:
        services.stream_end(stream=stream, actor=seller)

    assert exc.value.code == "STREAM_ENDED"


def test_end_of_a_pending_stream_cancels_it_without_duration(stream, seller):
    ended = services.stream_end(stream=stream, actor=seller)

    assert ended.status == LiveStream.Status.OFFLINE
    assert ended.ended_at is None
    assert ended.total_duration_seconds == 0


def test_feature_product_of_the_stream(stream, django_capture_on_commit_callbacks):
    product = make_product(stream)

    with django_capture_on_commit_callbacks(execute=True):
        services.stream_feature_product(stream=stream, product=product)

    assert LiveStream.objects.get(pk=stream.pk).featured_product == product
    assert current_sequence(room_group(stream.pk)) == 1


def test_feature_product_of_another_stream_is_refused(stream):
    other = services.stream_create(title="다른 방송")
    product = make_product(other)

    with pytest.raises(ProductNotInStream) as exc:
        services.stream_feature_product(stream=stream, product=product)

    assert exc.value.code == "PRODUCT_NOT_IN_STREAM"
    assert LiveStream.objects.get(pk=stream.pk).featured_product is None


def test_feature_none_clears_it(stream):
    product = make_product(stream)
    services.stream_feature_product(stream=stream, product=product)

    services.stream_feature_product(stream=stream, product=None)

    assert LiveStream.objects.get(pk=stream.pk).featured_product is None


def test_notice_update_and_limit(stream, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.stream_notice_update(stream=stream, notice_text="  오늘 전 상품 무료배송!  ")

    assert LiveStream.objects.get(pk=stream.pk).notice_text == "오늘 전 상품 무료배송!"
    assert current_sequence(room_group(stream.pk)) == 1
    with pytest.raises(InvalidInput):
        services.stream_notice_update(stream=stream, notice_text="가" * 301)


def test_expired_pending_key_cannot_publish(stream):
    LiveStream.objects.filter(pk=stream.pk).update(key_expires_at=timezone.now())

    with pytest.raises(StreamKeyExpired):
        services.stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)


def test_publish_extends_a_used_key_for_reconnects(stream):
    LiveStream.objects.filter(pk=stream.pk).update(
        key_expires_at=timezone.now() + timedelta(minutes=1)
    )

    live = services.stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)

    assert live.key_expires_at > timezone.now() + timedelta(hours=23)
