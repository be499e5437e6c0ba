"""The shopper pages of the live room: watch page, /live/ redirect, viewer badge, room state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import get_config
from live.models import LiveStream
from live.services.chat import history_push
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream():
    return LiveStream.objects.create(
        title="금요 라이브",
        status=LiveStream.Status.LIVE,
        started_at=timezone.now(),
        notice_text="오늘 전 상품 무료배송",
    )


@pytest.fixture
def products(stream):
    knit = ProductFactory(stream=stream, name="니트", sort_order=1)
    VariantFactory(product=knit, stock=3, size="S")
    VariantFactory(product=knit, stock=0, size="M")
    bag = ProductFactory(stream=stream, name="가방", sort_order=2)
    VariantFactory(product=bag, stock=0)
    return knit, bag


def test_watch_page_for_a_guest(
    client, warm_site_cache, stream, products, django_assert_num_queries
):
    history_push(stream_id=stream.pk, payload={"id": 7, "name": "@fan", "body": "<b>hi</b>"})
    get_config()  # cached, as it is between the seller's edits
    with django_assert_num_queries(4):  # stream, products, images, variants
        response = client.get(reverse("live:watch", args=[stream.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-player-state="connecting"' in html
    assert f"/live/live/{stream.public_id}.flv" in html
    assert f"/hls/{stream.public_id}.m3u8" in html
    assert "vendor/mpegts.js" in html and "vendor/hls.min.js" in html
    assert "오늘 전 상품 무료배송" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html  # chat text is escaped on output
    assert 'class="flash"' not in html  # the history is not mistaken for flash messages
    assert f"/login/?next=/live/{stream.public_id}/" in html.replace("%2F", "/")
    assert "3개 남음" in html  # knit: 3 left across its variants
    knit = products[0]
    (s_id, _s), (m_id, _m) = knit.variants.order_by("sort_order", "id").values_list("pk", "stock")
    assert f'data-variant-stock="{s_id}:3,{m_id}:0"' in html  # seeds the page's stock state
    cards = html.split('data-testid="product-card"')
    assert 'class="product-card sold-out' in html and len(cards) == 3


@pytest.mark.parametrize(("threshold", "shown"), [(2, False), (3, True)])
def test_watch_page_low_stock_badge_follows_the_config(client, stream, products, threshold, shown):
    config = get_config()
    config.low_stock_threshold = threshold
    config.save()
    html = client.get(reverse("live:watch", args=[stream.public_id])).content.decode()
    assert f'data-low-stock="{threshold}"' in html  # live.js reads the same number
    badge = html.split("data-low-badge")[1].split(">")[0]
    assert ("hidden" not in badge) is shown


def test_watch_page_for_a_shopper_has_the_chat_form(shopper_client, stream, products):
    response = shopper_client.get(reverse("live:watch", args=[stream.public_id]))
    html = response.content.decode()
    assert "data-chat-form" in html and 'data-testid="chat-login"' not in html
    assert "/checkout/sheet/" in html


def test_incomplete_profile_is_sent_to_the_profile_page(client, user_factory, stream):
    user = user_factory()
    client.force_login(user)
    html = client.get(reverse("live:watch", args=[stream.public_id])).content.decode()
    assert 'data-testid="chat-login"' in html and "프로필" in html


def test_unknown_key_is_404(client):
    assert client.get("/live/" + "a" * 32 + "/").status_code == 404
    assert client.get("/live/nope/").status_code == 404
    assert client.get("/live/nope/state/").status_code == 404


def test_live_index_redirects_to_the_live_stream(client, stream):
    LiveStream.objects.create(
        title="다음",
        status=LiveStream.Status.PENDING,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    response = client.get(reverse("live:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("live:watch", args=[stream.public_id])


def test_live_index_falls_back_to_the_next_scheduled(client):
    soon = LiveStream.objects.create(
        title="곧",
        status=LiveStream.Status.PENDING,
        scheduled_at=timezone.now() + timedelta(hours=1),
    )
    LiveStream.objects.create(
        title="나중",
        status=LiveStream.Status.PENDING,
        scheduled_at=timezone.now() + timedelta(days=2),
    )
    response = client.get(reverse("live:index"))
    assert response["Location"] == reverse("live:watch", args=[soon.public_id])


def test_live_index_empty_state(client):
    response = client.get(reverse("live:index"))
    assert response.status_code == 200
    assert "예정된 라이브가 없습니다" in response.content.decode()


def test_viewer_badge_fragment(client, stream):
    response = client.get(reverse("live:viewer-badge", args=[stream.public_id]))
    assert response.status_code == 200
    assert response.content.decode().strip() == (
        '<span class="viewer-badge" data-viewers="0">0</span>'
    )


def test_room_state(client, stream, products):
    from dorami.realtime import publish, room_group

    knit, bag = products
    publish(group=room_group(stream.pk), event="notice.updated", data={"notice": "x"})
    history_push(stream_id=stream.pk, payload={"id": 1, "name": "a", "body": "첫"})
    history_push(stream_id=stream.pk, payload={"id": 2, "name": "b", "body": "둘"})
    stream.featured_product = knit
    stream.save()
    state = client.get(reverse("live:room-state", args=[stream.public_id])).json()
    assert state["status"] == "LIVE" and state["seq"] == 1 and state["viewers"] == 0
    assert state["featured_product_id"] == knit.pk
    assert state["notice"] == "오늘 전 상품 무료배송"
    assert [m["body"] for m in state["messages"]] == ["첫", "둘"]
    by_id = {p["product_id"]: p for p in state["products"]}
    assert by_id[knit.pk]["available"] == 3 and not by_id[knit.pk]["sold_out"]
    assert by_id[bag.pk]["sold_out"]
    assert {v["available"] for v in by_id[knit.pk]["variants"]} == {3, 0}
