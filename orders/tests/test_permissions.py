"""Money actions in the orders admin need their own permissions: `orders.confirm_payment` and
`orders.cancel_order`. "Change order" (ship, deliver, item edits) does not include them."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import staff_with
from core.models import AuditLog
from orders.models import Order
from orders.tests.factories import make_order, make_variant

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_order_changelist"
CLERK = ("orders.view_order", "orders.change_order")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def status_of(order) -> str:
    order.refresh_from_db()
    return order.status


def test_change_permission_alone_cannot_confirm_payment(shopper):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    clerk = logged_in(staff_with(*CLERK))
    clerk.post(reverse(CHANGELIST), {"action": "confirm_payment", "_selected_action": [order.pk]})
    reconcile = clerk.post(
        reverse("admin:orders_order_reconcile"), {"step": "confirm", "order": [order.pk]}
    )
    single = clerk.post(reverse("admin:orders_order_confirm", args=[order.pk]))
    assert (reconcile.status_code, single.status_code) == (403, 403)
    assert status_of(order) == Order.Status.PENDING_PAYMENT
    assert not AuditLog.objects.exists()


def test_change_permission_alone_cannot_cancel(shopper):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    clerk = logged_in(staff_with(*CLERK))
    response = clerk.post(
        reverse("admin:orders_order_cancel"),
        {"ids": str(order.pk), "confirm": "yes", "reason": "고객 요청으로 취소합니다"},
    )
    assert response.status_code == 403
    redirect = clerk.post(
        reverse(CHANGELIST), {"action": "cancel_orders", "_selected_action": [order.pk]}
    )
    assert reverse("admin:orders_order_cancel") not in redirect.get("Location", "")
    assert status_of(order) == Order.Status.PENDING_PAYMENT


def test_confirm_payment_permission_confirms_and_is_audited(shopper):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    cashier = staff_with("orders.view_order", "orders.confirm_payment")
    logged_in(cashier).post(
        reverse(CHANGELIST), {"action": "confirm_payment", "_selected_action": [order.pk]}
    )
    assert status_of(order) == Order.Status.PAYMENT_CONFIRMED
    row = AuditLog.objects.get(actor=cashier, object_id=str(order.pk))
    assert row.before == {"status": "PENDING_PAYMENT"}
    assert row.after["status"] == "PAYMENT_CONFIRMED"


def test_view_only_staff_see_no_money_tools(shopper):
    make_order(user=shopper, items=[(make_variant(), 1)])
    viewer = logged_in(staff_with("*.view"))
    html = viewer.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:orders_order_reconcile") not in html
    assert reverse("admin:orders_order_ship_csv") not in html
    assert 'value="confirm_payment"' not in html
    assert 'value="export_csv"' in html
