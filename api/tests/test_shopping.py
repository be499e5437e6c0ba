"""Cart, waitlist and checkout through the API: the page's rules and codes, one door for holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.tests.conftest import ApiClient, error_of, token_for
from orders.models import Order
from orders.tests.factories import hold, make_variant
from shop.models import CartLine, ProductVariant, WaitlistEntry
from shop.tests.checks import stock_held_lines
from shop.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db

CART, LINES, WAITLIST, CHECKOUT = (
    "/api/v1/cart/",
    "/api/v1/cart/lines/",
    "/api/v1/waitlist/",
    "/api/v1/checkout/",
)
KEY = {"Idempotency-Key": "app-order-0001-abcdef"}
AGREE = {"agree_terms": True, "agree_privacy": True, "payment_method": "BANK_TRANSFER"}


def held(variant) -> int:
    return ProductVariant.objects.get(pk=variant.pk).held


# --- the gate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", CART),
        ("post", LINES),
        ("get", WAITLIST),
        ("post", CHECKOUT),
        ("get", "/api/v1/cart/shipping/"),
    ],
)
def test_the_buying_doors_need_a_login_and_a_complete_profile(method, path, user_factory):
    response = getattr(ApiClient(), method)(path)
    assert response.status_code == 401
    assert error_of(response)["code"] == "LOGIN_REQUIRED"
    incomplete = ApiClient(token=token_for(user_factory()))
    response = getattr(incomplete, method)(path)
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "PROFILE_INCOMPLETE" and "프로필" in error["message"]


# --- cart ----------------------------------------------------------------------------------


def test_add_holds_stock_like_the_page(api):
    variant = VariantFactory(stock=5)
    response = api.post(LINES, {"variant_id": variant.pk, "quantity": 2})
    assert response.status_code == 201
    body = response.json()
    assert body["quantity"] == 2 and body["expires_at"]
    # the same option again: one line, summed
    assert api.post(LINES, {"variant_id": variant.pk}).json()["quantity"] == 3
    assert held(variant) == 3 and stock_held_lines(variant.pk) == (5, 3, 3)
    cart = api.get(CART).json()
    assert [(line["id"], line["quantity"], line["payable"]) for line in cart["lines"]] == [
        (body["id"], 3, True)
    ]
    assert cart["subtotal"] == "117.00" and cart["item_count"] == 3


def test_add_refusals_have_the_pages_codes(api):
    variant = VariantFactory(stock=1)
    response = api.post(LINES, {"variant_id": variant.pk, "quantity": 2})
    assert response.status_code == 409
    assert error_of(response) == {
        "code": "INSUFFICIENT_STOCK",
        "message": "재고가 부족합니다 (남은 수량 1개)",
        "fields": {},
        "available": 1,
    }
    for bad in (0, -1, "2.5", "x", None, [1], 10_000):
        response = api.post(LINES, {"variant_id": variant.pk, "quantity": bad})
        assert (response.status_code, error_of(response)["code"]) == (400, "INVALID_QUANTITY")
    response = api.post(LINES, {"variant_id": 99999999, "quantity": 1})
    assert (response.status_code, error_of(response)["code"]) == (409, "VARIANT_UNAVAILABLE")
    assert held(variant) == 0


def test_a_body_that_is_not_json_is_refused_in_the_error_format(api):
    response = api.client.post(
        LINES, "variant_id=1", content_type="application/x-www-form-urlencoded", headers=api.headers
    )
    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    response = api.client.post(LINES, "{nope", content_type="application/json", headers=api.headers)
    assert response.status_code == 400
    assert error_of(response)["code"] == "PARSE_ERROR"


def test_update_remove_and_clear_release_holds(api):
    variant = VariantFactory(stock=3)
    line_id = api.post(LINES, {"variant_id": variant.pk, "quantity": 1}).json()["id"]
    response = api.patch(f"{LINES}{line_id}/", {"quantity": 3})
    assert response.status_code == 200 and response.json()["lines"][0]["quantity"] == 3
    assert held(variant) == 3
    response = api.patch(f"{LINES}{line_id}/", {"quantity": 4})
    assert (response.status_code, error_of(response)["code"]) == (409, "INSUFFICIENT_STOCK")
    assert api.delete(f"{LINES}{line_id}/").status_code == 200
    assert held(variant) == 0
    response = api.delete(f"{LINES}{line_id}/")
    assert (response.status_code, error_of(response)["code"]) == (404, "CART_LINE_NOT_FOUND")
    api.post(LINES, {"variant_id": variant.pk, "quantity": 2})
    assert api.delete(CART).json()["lines"] == []
    assert held(variant) == 0 and stock_held_lines(variant.pk) == (3, 0, 0)


def test_another_shoppers_line_is_not_found_and_untouched(api, user_factory):
    other = user_factory(profile_complete=True)
    variant = VariantFactory(stock=5)
    line = hold(user=other, variant=variant)
    for response in (
        api.patch(f"{LINES}{line.pk}/", {"quantity": 3}),
        api.delete(f"{LINES}{line.pk}/"),
    ):
        assert (response.status_code, error_of(response)["code"]) == (404, "CART_LINE_NOT_FOUND")
    line.refresh_from_db()
    assert (line.status, line.quantity) == (CartLine.Status.ACTIVE, 1)


def test_shipping_preview_is_checkouts_figure(api):
    variant = make_variant(price="20.00", stock=5)
    api.post(LINES, {"variant_id": variant.pk, "quantity": 2})
    quote = api.get("/api/v1/cart/shipping/").json()
    assert quote["subtotal"] == "40.00" and quote["shipping_fee"] == "8.00"  # California
    assert quote["total"] == "48.00"


# --- waitlist ------------------------------------------------------------------------------


def test_waitlist_join_list_and_cancel(api):
    variant = VariantFactory(stock=0)
    response = api.post(WAITLIST, {"variant_id": variant.pk, "quantity": 2})
    assert response.status_code == 201
    entry = response.json()
    assert (entry["number"], entry["position"], entry["status"]) == (1, 1, "WAITING")
    response = api.post(WAITLIST, {"variant_id": variant.pk, "quantity": 1})
    assert (response.status_code, error_of(response)["code"]) == (409, "WAITLIST_ALREADY_JOINED")
    assert [e["id"] for e in api.get(WAITLIST).json()] == [entry["id"]]
    assert api.delete(f"{WAITLIST}{entry['id']}/").status_code == 204
    assert WaitlistEntry.objects.get(pk=entry["id"]).status == WaitlistEntry.Status.CANCELLED
    response = api.delete(f"{WAITLIST}{entry['id']}/")
    assert (response.status_code, error_of(response)["code"]) == (404, "WAITLIST_NOT_FOUND")


def test_waitlist_refusals_have_the_pages_codes(api):
    in_stock = VariantFactory(stock=5)
    response = api.post(WAITLIST, {"variant_id": in_stock.pk, "quantity": 1})
    assert (response.status_code, error_of(response)["code"]) == (409, "WAITLIST_NOT_NEEDED")
    response = api.post(WAITLIST, {"variant_id": in_stock.pk, "quantity": 11})
    error = error_of(response)
    assert (response.status_code, error["code"]) == (400, "INVALID_QUANTITY")
    assert "1~10" in error["message"]


# --- checkout ------------------------------------------------------------------------------


def test_checkout_with_the_same_key_makes_one_order(api):
    variant = make_variant(price="20.00", stock=5)
    line_id = api.post(LINES, {"variant_id": variant.pk, "quantity": 2}).json()["id"]
    body = {**AGREE, "line_ids": [line_id], "expected_total": "48.00"}
    first = api.post(CHECKOUT, body, headers=KEY)
    assert first.status_code == 201
    order = first.json()
    assert order["order_id"].startswith("ORD-") and order["total"] == "48.00"
    assert order["items"][0]["quantity"] == 2 and order["status"] == "PENDING_PAYMENT"
    # the same request again (a retry after a lost answer): the same order, nothing more
    again = api.post(CHECKOUT, body, headers=KEY)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["order_id"] == order["order_id"]
    assert Order.objects.count() == 1
    assert ProductVariant.objects.get(pk=variant.pk).stock == 3


def test_checkout_needs_the_key_and_the_agreements(api):
    variant = make_variant(stock=5)
    api.post(LINES, {"variant_id": variant.pk, "quantity": 1})
    response = api.post(CHECKOUT, AGREE)
    error = error_of(response)
    assert (response.status_code, error["code"]) == (400, "VALIDATION_ERROR")
    assert "Idempotency-Key" in error["fields"]
    response = api.post(CHECKOUT, {"payment_method": "BANK_TRANSFER"}, headers=KEY)
    error = error_of(response)
    assert set(error["fields"]) == {"agree_terms", "agree_privacy"}
    assert error["fields"]["agree_terms"] == ["주문 내용 확인에 동의해 주세요."]
    assert not Order.objects.exists()


def test_checkout_refusals_have_the_services_codes(api):
    response = api.post(CHECKOUT, AGREE, headers=KEY)
    assert (response.status_code, error_of(response)["code"]) == (400, "CART_EMPTY")
    variant = make_variant(stock=5)
    hold(user=api.user, variant=variant, expires_at=timezone.now() - timedelta(seconds=1))
    response = api.post(CHECKOUT, AGREE, headers=KEY)
    assert (response.status_code, error_of(response)["code"]) == (409, "CART_ITEMS_EXPIRED")
    line = hold(user=api.user, variant=make_variant(price="10.00", stock=5))
    body = {**AGREE, "line_ids": [line.pk], "expected_total": "1.00"}
    response = api.post(CHECKOUT, body, headers=KEY)
    assert (response.status_code, error_of(response)["code"]) == (400, "PRICE_CHANGED")
    assert not Order.objects.exists()


# --- session callers and limits -------------------------------------------------------------


def test_the_sites_scripts_use_the_session_with_csrf(shopper):
    variant = VariantFactory(stock=5)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(shopper)
    site = ApiClient(client=browser)
    assert site.get(CART).status_code == 200
    response = site.post(LINES, {"variant_id": variant.pk})
    assert (response.status_code, error_of(response)["code"]) == (403, "CSRF_FAILED")
    browser.get("/")  # the page sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    response = site.post(LINES, {"variant_id": variant.pk}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 201


def test_cart_adds_share_the_pages_limit(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart_add": (("user", 2, 60),)}
    variant = VariantFactory(stock=10)
    page = Client()
    page.force_login(api.user)
    json_page = {"HTTP_ACCEPT": "application/json"}
    data = {"variant_id": variant.pk, "quantity": 1}
    assert page.post(reverse("shop:cart-add"), data, **json_page).status_code == 201
    assert api.post(LINES, data).status_code == 201
    # the third add, by either door, is over the shopper's limit
    response = api.post(LINES, data)
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "RATE_LIMITED" and "요청이 너무 많습니다" in error["message"]
    assert int(response["Retry-After"]) >= 1 and error["retry_after"] == int(
        response["Retry-After"]
    )
    assert page.post(reverse("shop:cart-add"), data, **json_page).status_code == 429
    assert held(variant) == 2


def test_every_request_counts_against_the_api_limit(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": (("user", 3, 60), ("ip", 100, 60))}
    for _ in range(3):
        assert api.get("/api/v1/products/").status_code == 200
    response = api.get("/api/v1/products/")
    assert response.status_code == 429 and error_of(response)["code"] == "RATE_LIMITED"
