"""The shopper's own through the API: orders, payment info, points, profile, push."""

from __future__ import annotations

import pytest

from api.tests.conftest import ApiClient, error_of, token_for
from core.models import get_config
from notifications.models import PushSubscription
from notifications.tests.conftest import browser_keys
from orders.tests.factories import make_order, make_variant
from points.services import points_adjust

pytestmark = pytest.mark.django_db


def test_orders_page_by_cursor_newest_first(api):
    variant = make_variant(stock=50)
    made = [make_order(user=api.user, items=[(variant, 1)]).order_id for _ in range(5)]
    first = api.get("/api/v1/orders/", {"limit": 2}).json()
    assert [o["order_id"] for o in first["results"]] == made[::-1][:2]
    second = ApiClient(token=token_for(api.user)).get(first["next"]).json()
    assert [o["order_id"] for o in second["results"]] == made[::-1][2:4]
    assert second["previous"]
    response = api.get("/api/v1/orders/", {"cursor": "garbage"})
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


def test_order_detail_and_payment_are_the_owners_only(api, user_factory):
    config = get_config()
    config.bank_name, config.bank_account_number = "Chase", "123-456"
    config.save()
    order = make_order(user=api.user, items=[(make_variant(price="20.00"), 1)])
    detail = api.get(f"/api/v1/orders/{order.order_id}/").json()
    assert detail["total"] == "28.00" and detail["items"][0]["unit_price"] == "20.00"
    payment = api.get(f"/api/v1/orders/{order.order_id}/payment/").json()
    assert payment["amount"] == "28.00" and payment["depositor_name"] == order.depositor_name
    assert payment["account"]["bank_name"] == "Chase"
    assert payment["account"]["account_number"] == "123-456"
    other = ApiClient(token=token_for(user_factory(profile_complete=True)))
    for path in (f"/api/v1/orders/{order.order_id}/", f"/api/v1/orders/{order.order_id}/payment/"):
        response = other.get(path)
        assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


def test_points_balance_and_ledger(api, staff_user):
    for amount in (1500, 700, -200):
        points_adjust(
            user=api.user, amount=amount, reason="이벤트 참여 포인트 조정", actor=staff_user
        )
    assert api.get("/api/v1/points/").json() == {"balance": 2000, "value": "20.00"}
    page = api.get("/api/v1/points/ledger/", {"limit": 2}).json()
    assert [(r["amount"], r["balance_after"]) for r in page["results"]] == [
        (-200, 2000),
        (700, 2200),
    ]
    rest = api.get(page["next"]).json()
    assert [r["amount"] for r in rest["results"]] == [1500] and rest["next"] is None


def test_profile_reads_and_updates_with_the_pages_rules(api):
    profile = api.get("/api/v1/profile/").json()
    assert profile["state"] == "CA" and profile["profile_complete"] is True
    response = api.patch("/api/v1/profile/", {"city": "San Jose", "zip": "95112-1234"})
    assert response.status_code == 200
    assert response.json()["city"] == "San Jose"
    api.user.refresh_from_db()
    assert api.user.shipping_address["zip"] == "95112-1234"
    response = api.patch("/api/v1/profile/", {"zip": "9511", "instagram_id": "no spaces"})
    error = error_of(response)
    assert (response.status_code, error["code"]) == (400, "VALIDATION_ERROR")
    assert error["fields"]["zip"] == ["ZIP 코드는 12345 또는 12345-6789 형식으로 입력해 주세요."]
    assert "instagram_id" in error["fields"]
    api.user.refresh_from_db()
    assert api.user.shipping_address["zip"] == "95112-1234"


def test_profile_keeps_instagram_ids_unique(api, user_factory):
    user_factory(instagram_id="@Dora.Mi_22")
    response = api.patch("/api/v1/profile/", {"instagram_id": "dora.mi_22"})
    error = error_of(response)
    assert error["fields"]["instagram_id"] == ["이미 사용 중인 인스타그램 ID입니다"]


def test_a_new_user_completes_the_profile_through_the_api(user_factory):
    newbie = user_factory()
    app = ApiClient(token=token_for(newbie))
    assert error_of(app.get("/api/v1/cart/"))["code"] == "PROFILE_INCOMPLETE"
    data = {
        "depositor_name": "김도라",
        "instagram_id": "dora_new",
        "full_name": "Dora Kim",
        "address1": "1 Main St",
        "city": "Austin",
        "state": "TX",
        "zip": "73301",
    }
    response = app.patch("/api/v1/profile/", data)
    assert response.status_code == 200, response.json()
    assert response.json()["instagram_id"] == "@dora_new"
    assert app.get("/api/v1/cart/").status_code == 200


def test_push_subscribe_and_unsubscribe(api):
    p256dh, auth = browser_keys()
    endpoint = "https://push.example.com/send/abc"
    body = {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}
    response = api.post("/api/v1/notifications/subscriptions/", body)
    assert response.status_code == 201
    assert PushSubscription.objects.get(pk=response.json()["id"]).user == api.user
    bad = api.post("/api/v1/notifications/subscriptions/", {**body, "keys": {"auth": auth}})
    assert (bad.status_code, error_of(bad)["code"]) == (400, "INVALID_SUBSCRIPTION")
    response = api.post("/api/v1/notifications/subscriptions/remove/", {"endpoint": endpoint})
    assert response.json() == {"deleted": 1}
    assert not PushSubscription.objects.exists()
