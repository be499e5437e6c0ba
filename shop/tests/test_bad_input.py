"""Bad input never changes anything and answers with a Korean message or a stable code."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shop import services
from shop.models import CartLine, ProductVariant
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def _held(variant) -> int:
    return ProductVariant.objects.get(pk=variant.pk).held


@pytest.mark.parametrize("quantity", [0, -1, "abc", "1.5", "", "  ", 10**9, "99999999", True, None])
def test_bad_quantity_is_refused(shopper, variant, quantity):
    with pytest.raises(services.InvalidQuantity) as exc:
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=quantity)
    assert exc.value.code == "INVALID_QUANTITY"
    assert exc.value.message == "수량이 올바르지 않습니다"
    assert _held(variant) == 0


@pytest.mark.parametrize("quantity", ["0", "-3", "abc", "1e3", "100000"])
def test_bad_quantity_over_http(shopper_client, variant, quantity):
    url = reverse("shop:cart-add")
    data = {"variant_id": variant.pk, "quantity": quantity}
    response = shopper_client.post(url, data, **JSON)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_QUANTITY"
    html = shopper_client.post(url, data, **HTMX).content.decode()
    assert "수량이 올바르지 않습니다" in html
    assert _held(variant) == 0


def test_unknown_variant(shopper_client):
    for variant_id in ["999999", "abc", "", "-1"]:
        response = shopper_client.post(
            reverse("shop:cart-add"), {"variant_id": variant_id, "quantity": 1}, **JSON
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "VARIANT_UNAVAILABLE"


@pytest.mark.parametrize(
    "make",
    [
        lambda: VariantFactory(status="HIDDEN"),
        lambda: VariantFactory(status="SOLD_OUT"),
        lambda: VariantFactory(product=ProductFactory(hidden_from_store=True)),
        lambda: VariantFactory(product=ProductFactory(status="SOLD_OUT", manually_sold_out=True)),
        lambda: VariantFactory(
            product=ProductFactory(expires_at=timezone.now() - timedelta(minutes=1))
        ),
    ],
    ids=["variant-hidden", "variant-sold-out", "product-hidden", "product-sold-out", "expired"],
)
def test_unavailable_variants(shopper, make):
    variant = make()
    with pytest.raises(services.VariantUnavailable) as exc:
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    assert exc.value.message == "구매할 수 없는 상품입니다"
    assert _held(variant) == 0


def test_another_users_line(shopper_client, user_factory, variant):
    foreign = services.cart_add(user=user_factory(), variant_id=variant.pk, quantity=2)
    for name, data in [("shop:cart-line-update", {"quantity": 1}), ("shop:cart-line-remove", {})]:
        response = shopper_client.post(reverse(name, args=[foreign.pk]), data, **JSON)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "CART_LINE_NOT_FOUND"
    line = CartLine.objects.get(pk=foreign.pk)
    assert (line.quantity, line.status, _held(variant)) == (2, "ACTIVE", 2)
    with pytest.raises(services.LineNotFound):
        services.cart_line_update(user=shopper_client.user, line_id=foreign.pk, quantity=1)


def test_updating_an_expired_line_changes_nothing(shopper_client, variant):
    line = services.cart_add(user=shopper_client.user, variant_id=variant.pk, quantity=2)
    CartLine.objects.filter(pk=line.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    url = reverse("shop:cart-line-update", args=[line.pk])
    response = shopper_client.post(url, {"quantity": 3}, **JSON)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CART_LINE_EXPIRED"
    html = shopper_client.post(url, {"quantity": 3}, **HTMX).content.decode()
    assert "장바구니 유지 시간이 지났습니다" in html
    stored = CartLine.objects.get(pk=line.pk)
    assert (stored.quantity, _held(variant)) == (2, 2)


def test_bad_quantity_on_update_changes_nothing(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    for quantity in [0, -2, "many", 10**6]:
        with pytest.raises(services.InvalidQuantity):
            services.cart_line_update(user=shopper, line_id=line.pk, quantity=quantity)
    assert (CartLine.objects.get(pk=line.pk).quantity, _held(variant)) == (2, 2)


@pytest.mark.usefixtures("no_cap")
def test_absurd_but_numeric_quantity_reports_available(shopper, variant):
    with pytest.raises(services.InsufficientStock) as exc:
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=9999)
    assert exc.value.available == 10


def test_non_numeric_line_id_and_get_on_post_routes(shopper_client):
    assert shopper_client.get(reverse("shop:cart-add")).status_code == 405
    response = shopper_client.post("/cart/lines/abc/remove/")
    assert response.status_code == 404


def test_stock_adjust_bad_values(variant):
    for stock in [-1, 10000, "lots", None]:
        with pytest.raises(services.InvalidStock):
            services.stock_adjust(variant_id=variant.pk, stock=stock)
    assert ProductVariant.objects.get(pk=variant.pk).stock == 10


def test_plain_form_error_never_redirects_off_site(shopper_client):
    variant = VariantFactory(stock=0)
    data = {"variant_id": variant.pk, "quantity": 1, "next": "https://evil.example/"}
    response = shopper_client.post(reverse("shop:cart-add"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:cart")
    data["next"] = f"/products/{variant.product_id}/"
    response = shopper_client.post(reverse("shop:cart-add"), data)
    assert response["Location"] == data["next"]


@pytest.mark.parametrize("huge", ["99999999999999999999", str(2**63)])
def test_out_of_range_ids_are_unknown_not_500(shopper_client, huge):
    for name, data in [
        ("shop:cart-add", {"variant_id": huge, "quantity": 1}),
        ("shop:waitlist-join", {"variant_id": huge, "quantity": 1}),
    ]:
        response = shopper_client.post(reverse(name), data, **JSON)
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "VARIANT_UNAVAILABLE"
    response = shopper_client.post(f"/cart/lines/{huge}/", {"quantity": 1}, **JSON)
    assert response.json()["error"]["code"] == "CART_LINE_NOT_FOUND"
    response = shopper_client.post(f"/my/waitlist/{huge}/cancel/", **JSON)
    assert response.json()["error"]["code"] == "WAITLIST_NOT_FOUND"
    assert shopper_client.get(f"/products/{huge}/").status_code == 404
