"""Seller studio: staff only, CSRF, OBS settings, key, end, products, notice, restream targets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from live.models import LiveStream, RestreamSession, RestreamTarget
from live.services.errors import StreamKeyInvalid
from live.services.stream import stream_create, stream_publish

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def seller(django_user_model):
    return django_user_model.objects.create_user(
        "seller@example.com", is_staff=True, is_superuser=True
    )


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


@pytest.fixture
def stream(db):
    return stream_create(title="금요 라이브")


@pytest.fixture
def product(stream):
    from shop.models import Product, ProductVariant

    product = Product.objects.create(name="캐시미어 니트", price=Decimal("39.00"), stream=stream)
    ProductVariant.objects.create(
        product=product, color="아이보리", size="M", price=Decimal("39.00"), stock=5
    )
    return product


def studio_urls(stream_id: int, product_id: int = 1, variant_id: int = 1, target_id: int = 1):
    return [
        ("get", reverse("live:studio")),
        ("get", reverse("live:studio-stream", args=[stream_id])),
        ("post", reverse("live:studio-stream-create")),
        ("post", reverse("live:studio-key-refresh", args=[stream_id])),
        ("post", reverse("live:studio-stream-end", args=[stream_id])),
        ("post", reverse("live:studio-feature", args=[stream_id])),
        ("post", reverse("live:studio-notice", args=[stream_id])),
        ("post", reverse("live:studio-sold-out", args=[stream_id, product_id])),
        ("post", reverse("live:studio-stock", args=[stream_id, variant_id])),
        ("post", reverse("live:studio-target-create")),
        ("post", reverse("live:studio-target-update", args=[target_id])),
        ("post", reverse("live:studio-target-toggle", args=[target_id])),
        ("post", reverse("live:studio-target-delete", args=[target_id])),
    ]


# --- Access ---------------------------------------------------------------------------------


def test_every_studio_view_refuses_shoppers(client, stream, django_user_model):
    shopper = django_user_model.objects.create_user("shopper@example.com")
    client.force_login(shopper)

    for method, url in studio_urls(stream.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
    assert LiveStream.objects.get(pk=stream.pk).status == LiveStream.Status.PENDING


def test_every_studio_view_sends_anonymous_to_login(client, stream):
    for method, url in studio_urls(stream.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "/login" in response["Location"] and "next=" in response["Location"]


def test_posts_need_a_csrf_token(seller, stream):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(seller)

    response = csrf_client.post(
        reverse("live:studio-stream-end", args=[stream.pk]), {"confirm": "yes"}
    )

    assert response.status_code == 403
    assert LiveStream.objects.get(pk=stream.pk).status == LiveStream.Status.PENDING


# --- Streams and OBS ------------------------------------------------------------------------


def test_create_stream_then_see_obs_settings(seller_client, settings, db):
    settings.RTMP_PUBLIC_URL = "rtmp://live.dorami.example:1935/live"

    response = seller_client.post(
        reverse("live:studio-stream-create"), {"title": "신상 라이브", "scheduled_at": ""}
    )

    stream = LiveStream.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("live:studio-stream", args=[stream.pk])
    page = seller_client.get(response["Location"]).content.decode()
    assert 'data-copy="rtmp://live.dorami.example:1935/live"' in page
    # OBS: server above, "Stream Key" = `<public id>?key=<publish key>`
    assert f'data-copy="{stream.public_id}?key={stream.publish_key}"' in page
    assert f'data-ws="/ws/live/{stream.public_id}/"' in page
    assert f'href="/live/{stream.public_id}/"' in page
    assert "OBS 설정" in page


def test_create_stream_with_bad_input_shows_korean_error(seller_client, db):
    response = seller_client.post(
        reverse("live:studio-stream-create"), {"title": " ", "scheduled_at": "nope"}, follow=True
    )

    assert response.status_code == 200
    assert "예정 시각 형식이 올바르지 않습니다" in response.content.decode()
    assert not LiveStream.objects.exists()


def test_studio_lists_streams(seller_client, stream):
    response = seller_client.get(reverse("live:studio"))

    assert response.status_code == 200
    assert "금요 라이브" in response.content.decode()


def test_refresh_key(seller_client, stream):
    response = seller_client.post(reverse("live:studio-key-refresh", args=[stream.pk]))

    assert response.status_code == 302
    refreshed = LiveStream.objects.get(pk=stream.pk)
    assert refreshed.publish_key != stream.publish_key
    assert refreshed.public_id == stream.public_id
    with pytest.raises(StreamKeyInvalid):  # the old key is useless at once
        stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)
    page = seller_client.get(reverse("live:studio-stream", args=[stream.pk])).content.decode()
    assert refreshed.publish_key in page and stream.publish_key not in page


def test_refresh_key_is_refused_while_live(seller_client, stream):
    stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)

    response = seller_client.post(reverse("live:studio-key-refresh", args=[stream.pk]), **HTMX)

    assert response.status_code == 200
    assert "방송 중에는 스트림 키를 바꿀 수 없습니다" in response.content.decode()
    assert LiveStream.objects.get(pk=stream.pk).publish_key == stream.publish_key


def test_end_needs_confirmation(seller_client, stream):
    stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)

    refused = seller_client.post(reverse("live:studio-stream-end", args=[stream.pk]), **HTMX)
    assert "종료 확인에 체크하세요" in refused.content.decode()
    assert LiveStream.objects.get(pk=stream.pk).status == LiveStream.Status.LIVE

    ended = seller_client.post(
        reverse("live:studio-stream-end", args=[stream.pk]), {"confirm": "yes"}, **HTMX
    )
    assert ended.status_code == 200
    assert 'data-status="OFFLINE"' in ended.content.decode()
    assert LiveStream.objects.get(pk=stream.pk).status == LiveStream.Status.OFFLINE


def test_status_partial_polls_viewers_and_status(seller_client, stream):
    stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)

    response = seller_client.get(
        reverse("live:studio-stream", args=[stream.pk]) + "?partial=status", **HTMX
    )

    html = response.content.decode()
    assert 'data-status="LIVE"' in html
    assert 'data-testid="viewer-count">0<' in html
    assert "<html" not in html


def test_sales_partial_without_orders(seller_client, stream):
    response = seller_client.get(
        reverse("live:studio-stream", args=[stream.pk]) + "?partial=sales", **HTMX
    )

    html = response.content.decode()
    assert 'data-testid="sales-orders">0<' in html
    assert "아직 주문이 없습니다" in html


def test_stream_page_query_count(seller_client, stream, product, django_assert_max_num_queries):
    RestreamTarget.objects.create(name="YT", rtmp_url="rtmp://yt.example/live2")

    # + the header cart badge, + the device record (first request of this session)
    with django_assert_max_num_queries(13):
        response = seller_client.get(reverse("live:studio-stream", args=[stream.pk]))

    assert response.status_code == 200


# --- Products and notice --------------------------------------------------------------------


def test_feature_a_product(seller_client, stream, product):
    response = seller_client.post(
        reverse("live:studio-feature", args=[stream.pk]), {"product_id": product.pk}, **HTMX
    )

    assert response.status_code == 200
    assert "대표 상품을 지정했습니다" in response.content.decode()
    assert LiveStream.objects.get(pk=stream.pk).featured_product == product


def test_feature_a_product_of_another_stream_is_refused(seller_client, stream):
    from shop.models import Product

    other = stream_create(title="다른 방송")
    foreign = Product.objects.create(name="남의 상품", price=Decimal("10.00"), stream=other)

    response = seller_client.post(
        reverse("live:studio-feature", args=[stream.pk]), {"product_id": foreign.pk}, **HTMX
    )

    assert "이 방송의 상품이 아닙니다" in response.content.decode()
    assert LiveStream.objects.get(pk=stream.pk).featured_product is None


def test_sold_out_toggle(seller_client, stream, product):
    from shop.models import Product

    url = reverse("live:studio-sold-out", args=[stream.pk, product.pk])

    seller_client.post(url, {"sold_out": "1"}, **HTMX)
    assert Product.objects.get(pk=product.pk).status == Product.Status.SOLD_OUT

    seller_client.post(url, {"sold_out": "0"}, **HTMX)
    assert Product.objects.get(pk=product.pk).manually_sold_out is False


def test_stock_adjust(seller_client, stream, product):
    variant = product.variants.get()
    url = reverse("live:studio-stock", args=[stream.pk, variant.pk])

    ok = seller_client.post(url, {"stock": "12"}, **HTMX)
    bad = seller_client.post(url, {"stock": "-3"}, **HTMX)

    assert "재고를 변경했습니다" in ok.content.decode()
    assert "재고는 0 이상의 숫자로 입력하세요" in bad.content.decode()
    variant.refresh_from_db()
    assert variant.stock == 12


def test_stock_of_another_streams_variant_is_404(seller_client, stream, product):
    other = stream_create(title="다른 방송")
    variant = product.variants.get()

    response = seller_client.post(
        reverse("live:studio-stock", args=[other.pk, variant.pk]), {"stock": "1"}
    )

    assert response.status_code == 404


def test_notice(seller_client, stream):
    response = seller_client.post(
        reverse("live:studio-notice", args=[stream.pk]), {"notice_text": "무료배송 진행 중"}
    )

    assert response.status_code == 302
    assert LiveStream.objects.get(pk=stream.pk).notice_text == "무료배송 진행 중"


# --- Restream targets -----------------------------------------------------------------------


def test_restream_target_crud(seller_client, stream):
    create = seller_client.post(
        reverse("live:studio-target-create"),
        {
            "stream_id": stream.pk,
            "name": "유튜브",
            "platform": "YOUTUBE",
            "rtmp_url": "rtmp://a.rtmp.youtube.com/live2",
            "target_key": "abcd-efgh",
            "enabled": "1",
        },
        **HTMX,
    )
    target = RestreamTarget.objects.get()
    assert "리스트리밍 대상을 추가했습니다" in create.content.decode()
    assert "abcd-efgh" not in create.content.decode()  # the key is never shown back
    assert target.enabled and not target.mute_audio

    seller_client.post(
        reverse("live:studio-target-toggle", args=[target.pk]),
        {"stream_id": stream.pk, "field": "mute_audio", "value": "1"},
        **HTMX,
    )
    seller_client.post(
        reverse("live:studio-target-toggle", args=[target.pk]),
        {"stream_id": stream.pk, "field": "enabled", "value": "0"},
        **HTMX,
    )
    target.refresh_from_db()
    assert target.mute_audio and not target.enabled

    seller_client.post(
        reverse("live:studio-target-update", args=[target.pk]),
        {
            "stream_id": stream.pk,
            "name": "유튜브 2",
            "platform": "YOUTUBE",
            "rtmp_url": "rtmp://b.rtmp.youtube.com/live2",
            "target_key": "",
        },
        **HTMX,
    )
    target.refresh_from_db()
    assert target.name == "유튜브 2"
    assert target.stream_key == "abcd-efgh"  # empty keeps the key

    seller_client.post(reverse("live:studio-target-delete", args=[target.pk]), **HTMX)
    assert not RestreamTarget.objects.exists()


def test_restream_target_with_bad_url_is_refused(seller_client, db):
    response = seller_client.post(
        reverse("live:studio-target-create"),
        {"name": "X", "platform": "CUSTOM", "rtmp_url": "http://nope"},
        follow=True,
    )

    assert "rtmp:// 또는 rtmps://" in response.content.decode()
    assert not RestreamTarget.objects.exists()


def test_restream_state_partial(seller_client, stream):
    target = RestreamTarget.objects.create(name="YT", rtmp_url="rtmp://yt.example/live2")
    RestreamSession.objects.create(stream=stream, target=target, state=RestreamSession.State.ACTIVE)

    response = seller_client.get(
        reverse("live:studio-stream", args=[stream.pk])
        + f"?partial=restream-state&target={target.pk}",
        **HTMX,
    )

    html = response.content.decode()
    assert "state-active" in html
    assert "송출 중" in html
