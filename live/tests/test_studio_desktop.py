"""The studio's desktop additions: why a show ended, the viewers/sales chart, the video preview,
and no shopper tab bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from live.charts import studio_chart
from live.models import LiveStream
from live.services import stream as services

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def seller_client(client, django_user_model):
    client.force_login(
        django_user_model.objects.create_user(
            "seller@example.com", is_staff=True, is_superuser=True
        )
    )
    return client


@pytest.fixture
def live_stream(db):
    stream = services.stream_create(title="금요 라이브")
    return services.stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)


# --- Why a show ended -----------------------------------------------------------------------


def test_seller_end_is_recorded_as_the_reason(live_stream):
    services.stream_end(stream=live_stream)
    live_stream.refresh_from_db()
    assert live_stream.end_reason == LiveStream.EndReason.SELLER


def test_unpublish_grace_elapsing_is_recorded_as_the_reason(live_stream):
    services.stream_unpublish(public_id=live_stream.public_id)
    later = timezone.now() + timedelta(seconds=120)
    services.stream_finalize_offline(stream_id=live_stream.pk, now=later)
    live_stream.refresh_from_db()
    assert live_stream.status == LiveStream.Status.OFFLINE
    assert live_stream.end_reason == LiveStream.EndReason.PUBLISHER_LEFT


def test_media_server_losing_it_is_recorded_and_a_republish_clears_it(live_stream):
    LiveStream.objects.filter(pk=live_stream.pk).update(
        media_last_seen_at=timezone.now() - timedelta(minutes=5),
        last_publish_at=timezone.now() - timedelta(minutes=5),
    )
    assert services.media_reconcile() == [live_stream.pk]
    live_stream.refresh_from_db()
    assert live_stream.end_reason == LiveStream.EndReason.MEDIA_LOST

    services.stream_publish(public_id=live_stream.public_id, publish_key=live_stream.publish_key)
    live_stream.refresh_from_db()
    assert (live_stream.status, live_stream.end_reason) == (LiveStream.Status.LIVE, "")


def test_studio_says_why_in_korean(seller_client, live_stream):
    services.stream_unpublish(public_id=live_stream.public_id)
    services.stream_finalize_offline(
        stream_id=live_stream.pk, now=timezone.now() + timedelta(minutes=2)
    )
    url = reverse("live:studio-stream", args=[live_stream.pk]) + "?partial=status"
    html = seller_client.get(url, **HTMX).content.decode()
    assert 'data-testid="end-reason"' in html
    assert "송출(OBS)이 끊긴 뒤 다시 연결되지 않아 자동으로 종료되었습니다" in html


# --- Chart ----------------------------------------------------------------------------------


def test_chart_draws_step_lines_on_their_own_scales():
    start = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    minute = int(start.timestamp())
    chart = studio_chart(
        start=start,
        end=start + timedelta(minutes=20),
        width=200,
        height=100,
        viewers=[(minute - 60, 2), (minute + 300, 10), (minute + 600, 5)],
        revenue=[
            (start + timedelta(minutes=5), Decimal("30.00")),
            (start + timedelta(minutes=15), Decimal("10.50")),
        ],
    )
    # a sample before the start sits on the left edge; 10 is the top, 5 half way
    assert chart["viewers_points"] == "0,100 0,80 50,80 50,0 100,0 100,50 200,50"
    # revenue accumulates: $30 then $40.50 (the top)
    assert chart["revenue_points"] == "0,100 50,100 50,25.9 150,25.9 150,0 200,0"
    assert (chart["viewers_max"], chart["revenue_total"]) == (10, Decimal("40.50"))


def test_chart_without_data_is_flat():
    start = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    chart = studio_chart(start=start, end=start, viewers=[], revenue=[], width=100, height=50)
    assert chart["viewers_points"] == chart["revenue_points"] == "0,50 100,50"
    assert chart["revenue_total"] == Decimal("0.00")


def test_revenue_by_minute_leaves_out_cancelled_orders(live_stream):
    from accounts.tests.factories import UserFactory
    from orders.models import Order
    from orders.selectors import stream_revenue_by_minute
    from orders.tests.factories import make_order, make_variant

    buyer = UserFactory(profile_complete=True)
    variant = make_variant(price="12.50", stream=live_stream)
    make_order(user=buyer, items=[(variant, 2)])
    make_order(user=buyer, items=[(variant, 1)], status=Order.Status.CANCELLED)
    rows = stream_revenue_by_minute(stream_id=live_stream.pk)
    assert [amount for _minute, amount in rows] == [Decimal("25.00")]


def test_chart_partial_shows_the_shows_numbers(seller_client, live_stream):
    from accounts.tests.factories import UserFactory
    from orders.tests.factories import make_order, make_variant

    variant = make_variant(price="24.00", stream=live_stream)
    make_order(user=UserFactory(profile_complete=True), items=[(variant, 3)])
    url = reverse("live:studio-stream", args=[live_stream.pk]) + "?partial=chart"
    html = seller_client.get(url, **HTMX).content.decode()
    assert 'data-testid="chart-revenue-total">$72.00<' in html
    assert "<polyline" in html
    assert "<html" not in html


def test_chart_waits_for_the_show_to_start(seller_client, db):
    stream = services.stream_create(title="예정 방송")
    url = reverse("live:studio-stream", args=[stream.pk]) + "?partial=chart"
    html = seller_client.get(url, **HTMX).content.decode()
    assert "방송이 시작되면" in html
    assert "<polyline" not in html


# --- Page -----------------------------------------------------------------------------------


def test_studio_has_a_preview_of_the_viewers_stream_and_no_tab_bar(
    seller_client, client, live_stream
):
    studio = seller_client.get(reverse("live:studio-stream", args=[live_stream.pk]))
    html = studio.content.decode()
    assert 'class="tabbar"' not in html
    assert 'data-testid="studio-preview"' in html
    assert 'data-testid="studio-chart"' in html
    watch = seller_client.get(reverse("live:watch", args=[live_stream.public_id]))
    for key in ("flv_url", "hls_url"):
        assert studio.context[key] == watch.context[key]
        assert f'data-{key.replace("_", "-")}="{studio.context[key]}"' in html
    assert 'class="tabbar"' not in seller_client.get(reverse("live:studio")).content.decode()
