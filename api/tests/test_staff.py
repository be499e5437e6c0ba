"""The seller's API: the admin's permissions, the admin's services, audited."""

from __future__ import annotations

import pytest

from accounts.tests.factories import staff_with
from api.tests.conftest import ApiClient, error_of, token_for
from core.models import AuditLog
from orders.models import Order
from orders.tests.factories import make_order, make_variant
from shop.models import Product, ProductVariant

pytestmark = pytest.mark.django_db


def as_staff(*perms: str) -> ApiClient:
    return ApiClient(token=token_for(staff_with(*perms)))


@pytest.fixture
def order(shopper):
    return make_order(user=shopper, items=[(make_variant(price="20.00", stock=5), 1)])


def test_staff_endpoints_need_the_admins_permission(api, order, anon_api):
    variant = make_variant(stock=5)
    doors = [
        ("get", "/api/v1/staff/orders/", "orders.view_order", None),
        ("post", f"/api/v1/staff/orders/{order.order_id}/confirm/", "orders.confirm_payment", {}),
        ("post", f"/api/v1/staff/orders/{order.order_id}/ship/", "orders.change_order", {}),
        ("post", f"/api/v1/staff/orders/{order.order_id}/cancel/", "orders.cancel_order", {}),
        (
            "post",
            f"/api/v1/staff/variants/{variant.pk}/stock/",
            "shop.change_productvariant",
            {"stock": 7},
        ),
        (
            "post",
            f"/api/v1/staff/products/{variant.product_id}/sold-out/",
            "shop.change_product",
            {"sold_out": True},
        ),
        (
            "get",
            "/api/v1/staff/settlement/?start=2026-01-01&end=2026-01-31",
            "orders.view_order",
            None,
        ),
    ]
    viewer = as_staff("*.view")
    for method, path, perm, body in doors:
        args = (path,) if body is None else (path, body)
        response = getattr(anon_api, method)(*args)
        assert (response.status_code, error_of(response)["code"]) == (401, "LOGIN_REQUIRED"), path
        for refused in (
            api,
            as_staff("orders.view_order" if perm != "orders.view_order" else "shop.view_product"),
        ):
            response = getattr(refused, method)(*args)
            assert (response.status_code, error_of(response)["code"]) == (
                403,
                "PERMISSION_DENIED",
            ), path
        if method == "post":
            response = getattr(viewer, method)(*args)
            assert response.status_code == 403, path
    # nothing changed, nothing audited
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    assert ProductVariant.objects.get(pk=variant.pk).stock == 5
    assert not AuditLog.objects.exists()


def test_confirm_ship_cancel_through_the_services_audited(order, shopper):
    staff = as_staff("orders.confirm_payment", "orders.change_order", "orders.cancel_order")
    response = staff.post(f"/api/v1/staff/orders/{order.order_id}/confirm/")
    assert response.status_code == 200 and response.json()["status"] == "PAYMENT_CONFIRMED"
    assert response.json()["customer"]["instagram_id"] == shopper.instagram_id
    again = staff.post(f"/api/v1/staff/orders/{order.order_id}/confirm/")
    assert (again.status_code, error_of(again)["code"]) == (400, "ORDER_ALREADY_CONFIRMED")
    response = staff.post(f"/api/v1/staff/orders/{order.order_id}/ship/", {})
    assert error_of(response)["fields"]["tracking_number"]
    response = staff.post(
        f"/api/v1/staff/orders/{order.order_id}/ship/", {"tracking_number": "1Z999AA1"}
    )
    assert (
        response.json()["status"] == "SHIPPED" and response.json()["tracking_number"] == "1Z999AA1"
    )
    response = staff.post(f"/api/v1/staff/orders/{order.order_id}/cancel/", {"reason": "요청"})
    assert (response.status_code, error_of(response)["code"]) == (400, "INVALID_ORDER_STATUS")
    assert AuditLog.objects.filter(object_id=str(order.pk)).count() >= 2
    response = staff.post("/api/v1/staff/orders/ORD-NOPE/confirm/")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


def test_cancel_restores_stock(order):
    staff = as_staff("orders.cancel_order")
    variant = order.items.get().variant
    response = staff.post(f"/api/v1/staff/orders/{order.order_id}/cancel/", {"reason": "고객 요청"})
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["cancel_reason"] == "고객 요청"
    assert ProductVariant.objects.get(pk=variant.pk).stock == 5


def test_orders_filter(order, user_factory):
    other = make_order(
        user=user_factory(profile_complete=True),
        items=[(make_variant(stock=5), 1)],
        status=Order.Status.PAYMENT_CONFIRMED,
    )
    staff = as_staff("orders.view_order")

    def ids(**query) -> list[str]:
        answer = staff.get("/api/v1/staff/orders/", query).json()
        return [o["order_id"] for o in answer["results"]]

    assert ids() == [other.order_id, order.order_id]
    assert ids(status="PENDING_PAYMENT") == [order.order_id]
    assert ids(q=order.user.instagram_id[1:]) == [order.order_id]
    assert ids(q=other.depositor_name) == [other.order_id]
    response = staff.get("/api/v1/staff/orders/", {"created_from": "yesterday"})
    assert error_of(response)["fields"] == {
        "created_from": ["날짜를 YYYY-MM-DD 형식으로 입력해 주세요."]
    }


def test_stock_and_sold_out(shopper):
    staff = as_staff("shop.change_productvariant", "shop.change_product")
    variant = make_variant(stock=5)
    response = staff.post(f"/api/v1/staff/variants/{variant.pk}/stock/", {"stock": 9})
    assert response.json()["stock"] == 9 and response.json()["available"] == 9
    assert AuditLog.objects.filter(action__contains="stock").exists()
    response = staff.post(f"/api/v1/staff/variants/{variant.pk}/stock/", {"stock": -1})
    assert (response.status_code, error_of(response)["code"]) == (400, "VALIDATION_ERROR")
    response = staff.post(
        f"/api/v1/staff/products/{variant.product_id}/sold-out/", {"sold_out": True}
    )
    assert response.json() == {
        "id": variant.product_id,
        "status": "SOLD_OUT",
        "manually_sold_out": True,
    }
    assert Product.objects.get(pk=variant.product_id).status == Product.Status.SOLD_OUT


def test_settlement_numbers(order):
    from orders.services import payment_confirm
    from orders.services.numbering import store_today

    payment_confirm(order=order.pk)
    staff = as_staff("orders.view_order")
    today = store_today().isoformat()
    body = staff.get("/api/v1/staff/settlement/", {"start": today, "end": today}).json()
    assert body["count"] == 1 and body["revenue"] == "28.00" and body["daily"][0]["count"] == 1
    response = staff.get("/api/v1/staff/settlement/", {"start": today, "end": "2000-01-01"})
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR" and "종료일" in error["message"]
