"""방송 기록: one show's peak viewers, chat messages, orders, revenue and units per product, in
the stream admin and the studio's ended-show page; numbers checked against SQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory, staff_with
from live.models import ChatMessage, LiveStream
from live.selectors import stream_history
from orders.tests.factories import make_order, make_stream, make_variant

pytestmark = pytest.mark.django_db


def sql_one(query: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


@pytest.fixture
def show():
    """An ended show: 2 kept orders (one paid, one unpaid), one cancelled, store items in the
    same orders, an order of another show, 4 chat messages (one hidden)."""
    now = timezone.now()
    stream = make_stream(
        title="금요 라이브",
        status=LiveStream.Status.OFFLINE,
        started_at=now - timedelta(hours=2),
        ended_at=now - timedelta(hours=1),
        total_duration_seconds=3600,
        peak_viewers=87,
    )
    other_show = make_stream(title="다른 방송")
    knit = make_variant(price="39.99", stream=stream, name="캐시미어 니트")
    skirt = make_variant(price="25.50", stream=stream, name="플리츠 스커트")
    store = make_variant(price="12.00", name="스토어 양말")
    elsewhere = make_variant(price="70.00", stream=other_show, name="다른 방송 코트")
    a, b = UserFactory(profile_complete=True), UserFactory(profile_complete=True)
    make_order(user=a, items=[(knit, 2), (store, 1)], status="PAYMENT_CONFIRMED")
    make_order(user=b, items=[(knit, 1), (skirt, 3)])
    make_order(user=b, items=[(skirt, 5)], status="CANCELLED")
    make_order(user=a, items=[(elsewhere, 1)])
    for i, deleted in enumerate([False, False, True, False]):
        ChatMessage.objects.create(
            stream=stream, user=a, display_name="@a", body=f"안녕 {i}", is_deleted=deleted
        )
    ChatMessage.objects.create(stream=other_show, user=a, display_name="@a", body="다른 방송")
    return stream


def test_history_numbers_match_sql(show, django_assert_num_queries):
    with django_assert_num_queries(3):
        history = stream_history(stream=show)
    orders, revenue, units = sql_one(
        """SELECT count(DISTINCT i.order_id), sum(i.line_total), sum(i.quantity)
           FROM orders_orderitem i JOIN orders_order o ON o.id = i.order_id
           WHERE i.stream_id = %s AND o.status <> 'CANCELLED'""",
        [show.pk],
    )
    sent, hidden = sql_one(
        "SELECT count(*), count(*) FILTER (WHERE is_deleted) FROM live_chatmessage"
        " WHERE stream_id = %s",
        [show.pk],
    )
    assert (history["orders"], history["revenue"], history["units"]) == (orders, revenue, units)
    assert (orders, revenue, units) == (2, Decimal("39.99") * 3 + Decimal("25.50") * 3, 6)
    assert isinstance(history["revenue"], Decimal) and history["revenue"] == Decimal("196.47")
    assert (history["chat_messages"], history["chat_deleted"]) == (sent, hidden) == (4, 1)
    assert history["peak_viewers"] == 87
    rows = history["units_by_product"]
    by_product = {row["name"]: (row["units"], row["revenue"]) for row in rows}
    assert by_product == {name: (u, r) for name, u, r in _sql_by_product(show.pk)}
    assert by_product == {
        "캐시미어 니트": (3, Decimal("119.97")),
        "플리츠 스커트": (3, Decimal("76.50")),
    }


def _sql_by_product(stream_id: int) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.product_name, sum(i.quantity), sum(i.line_total)
               FROM orders_orderitem i JOIN orders_order o ON o.id = i.order_id
               WHERE i.stream_id = %s AND o.status <> 'CANCELLED' GROUP BY i.product_name""",
            [stream_id],
        )
        return cursor.fetchall()


def test_an_empty_show_has_zeros():
    stream = make_stream(status=LiveStream.Status.OFFLINE, started_at=timezone.now())
    history = stream_history(stream=stream)
    assert (history["orders"], history["revenue"], history["units"]) == (0, Decimal("0.00"), 0)
    assert history["chat_messages"] == 0 and history["units_by_product"] == []


def test_stream_admin_change_page_shows_the_history(show):
    viewer = Client()
    viewer.force_login(staff_with("*.view"))  # reading the history needs only "view stream"
    html = viewer.get(reverse("admin:live_livestream_change", args=[show.pk])).content.decode()
    assert 'data-testid="stream-history"' in html
    assert 'data-testid="history-peak">87<' in html
    assert 'data-testid="history-orders">2<' in html
    assert 'data-testid="history-revenue">$196.47<' in html
    assert 'data-testid="history-units">6<' in html
    assert "캐시미어 니트" in html and "다른 방송 코트" not in html
    # a show that never started has no history yet
    pending = make_stream(title="예정 방송")
    page = viewer.get(reverse("admin:live_livestream_change", args=[pending.pk])).content
    assert b'data-testid="stream-history"' not in page


def test_studio_shows_the_history_of_an_ended_show_only(show):
    seller = Client()
    seller.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = seller.get(reverse("live:studio-stream", args=[show.pk])).content.decode()
    assert 'data-testid="stream-history"' in html
    assert 'data-testid="history-chat">4 <small>(삭제 1)</small><' in html
    assert 'data-testid="history-revenue">$196.47<' in html
    LiveStream.objects.filter(pk=show.pk).update(status=LiveStream.Status.LIVE)
    html = seller.get(reverse("live:studio-stream", args=[show.pk])).content.decode()
    assert 'data-testid="stream-history"' not in html


def test_broadcast_list_totals_match_the_history_in_one_query(show):
    from django.test.utils import CaptureQueriesContext

    from live.selectors import streams_with_totals

    with CaptureQueriesContext(connection) as queries:
        rows = {s.pk: s for s in streams_with_totals(LiveStream.objects.all())}
    assert len(queries) == 1
    history = stream_history(stream=show)
    row = rows[show.pk]
    assert (row.order_total, row.revenue_total, row.chat_total) == (
        history["orders"],
        history["revenue"],
        history["chat_messages"],
    )
    others = [s for pk, s in rows.items() if pk != show.pk]
    assert [(s.order_total, s.revenue_total, s.chat_total) for s in others] == [
        (1, Decimal("70.00"), 1)
    ]


def test_broadcast_list_shows_and_sorts_by_revenue(show):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    from live.admin import LiveStreamAdmin

    column = LiveStreamAdmin.list_display.index("revenue_column") + 1  # after the checkbox
    html = client.get(reverse("admin:live_livestream_changelist"), {"o": f"-{column}"}).content
    html = html.decode()
    assert "$196.47" in html and "$70.00" in html
    assert html.index("$196.47") < html.index("$70.00")
