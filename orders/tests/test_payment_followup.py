"""Payment follow-up in the orders admin: "입금 안내 다시 보내기" (action and order-page button),
the deadline column, and the one-click 입금 확인 of the order page."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import staff_with
from core.models import AuditLog
from dorami.storetime import store_format
from orders import notify_hooks
from orders.models import Order, OrderEvent
from orders.tests.factories import make_order, make_variant

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_order_changelist"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reminders(monkeypatch):
    """What reached the registration point in orders/notify_hooks.py: (order_id, resend_key)."""
    seen: list[tuple[str, str]] = []

    def handler(order, *, resend_key=""):
        seen.append((order.order_id, resend_key))

    monkeypatch.setattr(notify_hooks.payment_reminder, "handlers", [handler])
    return seen


def resend(client, orders):
    return client.post(
        reverse(CHANGELIST),
        {"action": "resend_payment_reminder", "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


def test_resend_action_reaches_the_channels_with_a_fresh_key_each_time(
    staff_client, shopper, reminders
):
    # given an unpaid order whose scheduled reminder already went out
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    Order.objects.filter(pk=order.pk).update(reminder_sent_at=timezone.now())
    # when staff resends twice
    page = resend(staff_client, [order]).content.decode()
    resend(staff_client, [order])
    # then the channels were called twice, each with its own key
    assert "입금 안내 1건을 다시 보냈습니다" in page
    assert [order_id for order_id, _key in reminders] == [order.order_id] * 2
    keys = {key for _order_id, key in reminders}
    assert len(keys) == 2 and "" not in keys
    # and each request is an order event and an audit row with the actor
    events = order.events.filter(kind=OrderEvent.Kind.REMINDER_SENT)
    assert events.count() == 2 and {e.actor for e in events} == {staff_client.user}
    audit = AuditLog.objects.filter(action="order.reminder_sent", object_id=str(order.pk))
    assert audit.count() == 2
    assert {row.after["resend_key"] for row in audit} == keys


def test_resend_refuses_paid_and_cancelled_orders_in_korean(staff_client, shopper, reminders):
    unpaid = make_order(user=shopper, items=[(make_variant(), 1)])
    paid = make_order(
        user=shopper, items=[(make_variant(), 1)], status=Order.Status.PAYMENT_CONFIRMED
    )
    cancelled = make_order(user=shopper, items=[(make_variant(), 1)], status="CANCELLED")
    page = resend(staff_client, [unpaid, paid, cancelled]).content.decode()
    assert f"{paid.order_id}: 이미 입금 확인된 주문에는 입금 안내를 보낼 수 없습니다." in page
    assert f"{cancelled.order_id}: 취소된 주문에는 입금 안내를 보낼 수 없습니다." in page
    assert [order_id for order_id, _key in reminders] == [unpaid.order_id]
    assert not OrderEvent.objects.filter(order__in=[paid, cancelled], kind="REMINDER_SENT")


def test_order_page_button_resends(staff_client, shopper, reminders):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    remind_url = reverse("admin:orders_order_remind", args=[order.pk])
    assert remind_url in staff_client.get(change_url).content.decode()
    # GET does nothing
    assert staff_client.get(remind_url).status_code == 405
    assert reminders == []
    response = staff_client.post(remind_url)
    assert response.status_code == 302 and response.url == change_url
    assert len(reminders) == 1
    # a paid order has no button, and a forged POST is refused
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAYMENT_CONFIRMED)
    assert remind_url not in staff_client.get(change_url).content.decode()
    page = staff_client.post(remind_url, follow=True).content.decode()
    assert "이미 입금 확인된 주문에는 입금 안내를 보낼 수 없습니다." in page
    assert len(reminders) == 1


def test_view_only_staff_cannot_resend(shopper, reminders):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    viewer = logged_in(staff_with("*.view"))
    resend(viewer, [order])
    response = viewer.post(reverse("admin:orders_order_remind", args=[order.pk]))
    assert response.status_code == 403
    page = viewer.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert reverse("admin:orders_order_remind", args=[order.pk]) not in page
    assert reverse("admin:orders_order_confirm", args=[order.pk]) not in page
    assert reminders == []
    assert not OrderEvent.objects.filter(kind="REMINDER_SENT").exists()
    assert not AuditLog.objects.filter(action="order.reminder_sent").exists()


def test_deadline_column_in_store_time_overdue_marked_and_sortable(staff_client, shopper):
    now = timezone.now()
    late = make_order(user=shopper, items=[(make_variant(), 1)])
    soon = make_order(user=shopper, items=[(make_variant(), 1)])
    paid = make_order(user=shopper, items=[(make_variant(), 1)], status="PAYMENT_CONFIRMED")
    Order.objects.filter(pk=late.pk).update(payment_deadline=now - timedelta(hours=2))
    Order.objects.filter(pk=soon.pk).update(payment_deadline=now + timedelta(hours=5))
    Order.objects.filter(pk=paid.pk).update(payment_deadline=now - timedelta(hours=9))
    html = staff_client.get(reverse(CHANGELIST)).content.decode()

    def shown(moment) -> str:
        return f"{store_format(moment, 'date')}<br>{store_format(moment, 'time')}"

    late_text, soon_text = shown(now - timedelta(hours=2)), shown(now + timedelta(hours=5))
    assert f'order-deadline-overdue">{late_text} (지남)</span>' in html
    assert f'<span class="order-deadline">{soon_text}</span>' in html
    assert shown(now - timedelta(hours=9)) not in html  # paid: no deadline shown
    # sortable: the column's header links to an ordering by it
    from orders.admin import OrderAdmin

    column = OrderAdmin.list_display.index("deadline") + 1  # after the checkbox column
    ascending = staff_client.get(reverse(CHANGELIST), {"o": str(column)}).content.decode()
    assert ascending.index(late.order_id) < ascending.index(soon.order_id)
    descending = staff_client.get(reverse(CHANGELIST), {"o": f"-{column}"}).content.decode()
    assert descending.index(soon.order_id) < descending.index(late.order_id)


def test_confirm_page_submits_once_and_double_post_confirms_once(staff_client, shopper):
    order = make_order(user=shopper, items=[(make_variant(price="100.00"), 1)])
    url = reverse("admin:orders_order_confirm", args=[order.pk])
    page = staff_client.get(url).content.decode()
    assert "data-once" in page and "admin_once.js" in page
    first = staff_client.post(url, follow=True).content.decode()
    second = staff_client.post(url, follow=True).content.decode()
    assert f"{order.order_id} 입금 확인" in first
    assert "이미 입금 확인된 주문입니다." in second
    assert order.events.filter(kind="PAYMENT_CONFIRMED").count() == 1
    assert AuditLog.objects.filter(action="order.payment_confirmed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirm_posts_confirm_exactly_once(shopper):
    # given one unpaid order and two cashiers clicking at the same moment
    order = make_order(user=shopper, items=[(make_variant(price="40.00"), 1)])
    cashier = staff_with("orders.view_order", "orders.confirm_payment")
    url = reverse("admin:orders_order_confirm", args=[order.pk])
    barrier = threading.Barrier(4)
    answers = []

    def click():
        client = logged_in(cashier)
        barrier.wait()
        try:
            answers.append(client.post(url, follow=True).content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then exactly one confirm happened: one event, one audit row, points earned once
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM orders_orderevent WHERE order_id = %s AND kind = %s",
            [order.pk, "PAYMENT_CONFIRMED"],
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute(
            "SELECT count(*) FROM points_pointtransaction WHERE order_id = %s AND kind = %s",
            [order.pk, "EARNED_ORDER"],
        )
        assert cursor.fetchone()[0] == 1
    assert sum("이미 입금 확인된 주문입니다." in a for a in answers) == 3
    assert AuditLog.objects.filter(action="order.payment_confirmed").count() == 1


def test_view_only_staff_cannot_confirm_from_the_order_page(shopper):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    viewer = logged_in(staff_with("*.view"))
    url = reverse("admin:orders_order_confirm", args=[order.pk])
    assert viewer.get(url).status_code == 403
    assert viewer.post(url).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
