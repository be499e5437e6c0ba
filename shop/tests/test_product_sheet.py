"""The product sheet: name and price first, the chosen option kept, the logged-out add."""

import pytest
from django.urls import reverse

from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _checked_variant(html: str) -> str:
    # the value of the one checked variant radio
    before_checked = html.split(" checked required>")[0]
    return before_checked.rsplit('value="', 1)[1].split('"', 1)[0]


def test_name_and_price_come_before_the_description(client):
    product = ProductFactory(name="캐시미어 코트", description="부드러운 캐시미어 100%")
    VariantFactory(product=product, stock=3)
    html = client.get(reverse("shop:product-detail", args=[product.pk])).content.decode()
    assert html.index("캐시미어 코트</h1>") < html.index("$") < html.index("부드러운 캐시미어")


def test_the_first_option_in_stock_is_chosen(client):
    product = ProductFactory()
    VariantFactory(product=product, size="S", stock=0, sort_order=1)
    in_stock = VariantFactory(product=product, size="M", stock=2, sort_order=2)
    html = client.get(reverse("shop:product-detail", args=[product.pk])).content.decode()
    assert _checked_variant(html) == str(in_stock.pk)


def test_variant_in_the_query_is_chosen_again(client):
    product = ProductFactory()
    VariantFactory(product=product, size="S", stock=2, sort_order=1)
    large = VariantFactory(product=product, size="L", stock=2, sort_order=2)
    url = reverse("shop:product-sheet", args=[product.pk])
    assert _checked_variant(client.get(f"{url}?variant={large.pk}").content.decode()) == str(
        large.pk
    )
    # a hidden, unknown or malformed id falls back to the first option in stock
    assert _checked_variant(client.get(f"{url}?variant=x").content.decode()) != str(large.pk)


def test_logged_out_sheet_explains_the_login_instead_of_posting(client):
    variant = VariantFactory(stock=3)
    url = reverse("shop:product-detail", args=[variant.product_id])
    html = client.get(url).content.decode()
    assert 'data-testid="login-needed"' in html and "로그인이 필요합니다." in html
    assert f"/login/?next={url}" in html.replace("%2F", "/")
    assert "data-login-required" in html
    assert 'hx-post="/cart/add/"' not in html


def test_shopper_sheet_posts_once_per_tap(shopper_client):
    variant = VariantFactory(stock=3)
    html = shopper_client.get(
        reverse("shop:product-detail", args=[variant.product_id])
    ).content.decode()
    assert 'hx-post="/cart/add/"' in html and 'hx-sync="this:drop"' in html
    assert "data-login-required" not in html


def test_header_shows_the_cart_count(shopper_client):
    from shop import services

    variant = VariantFactory(stock=5)
    services.cart_add(user=shopper_client.user, variant_id=variant.pk, quantity=2)
    html = shopper_client.get(reverse("shop:store")).content.decode()
    assert 'data-testid="cart-count"' in html
    assert 'hx-trigger="cart-changed from:body"' in html
    assert _count(html) == "1"  # lines, as the cart badge endpoint counts them
    # the badge is a fragment keyed on the count: another line, another badge
    services.cart_add(user=shopper_client.user, variant_id=VariantFactory(stock=5).pk, quantity=1)
    assert _count(shopper_client.get(reverse("shop:store")).content.decode()) == "2"


def _count(html: str) -> str:
    return html.split('data-testid="cart-count"', 1)[1].split(">", 1)[1].split("<", 1)[0]


def test_guest_header_has_no_cart_count_and_no_query_for_it(
    client, warm_site_cache, django_assert_num_queries
):
    VariantFactory(stock=1)
    with django_assert_num_queries(2):  # count, one page of products
        html = client.get(reverse("shop:store")).content.decode()
    assert 'data-testid="cart-count"' not in html


def test_options_follow_stock_and_the_chosen_option(client, shopper):
    """The options come from the fragment cache keyed on their state: a changed state after
    an unchanged one is a new render."""
    from shop import services

    product = ProductFactory()
    small = VariantFactory(product=product, size="S", stock=6, sort_order=1)
    large = VariantFactory(product=product, size="L", stock=6, sort_order=2)
    other = type(shopper).objects.create_user(email="other@example.com")
    url = reverse("shop:product-detail", args=[product.pk])
    first = client.get(url).content.decode()
    assert f'value="{small.pk}" data-available="6"' in first and "개 남음" not in first
    assert client.get(url).content.decode().count('data-available="6"') == 2

    services.cart_add(user=shopper, variant_id=small.pk, quantity=3)
    held = client.get(url).content.decode()
    assert f'value="{small.pk}" data-available="3"' in held and "3개 남음" in held
    assert _checked_variant(client.get(f"{url}?variant={large.pk}").content.decode()) == str(
        large.pk
    )
    services.cart_add(user=other, variant_id=small.pk, quantity=3)
    gone = client.get(url).content.decode()
    assert f'value="{small.pk}" data-available="0"' in gone
    assert _checked_variant(gone) == str(large.pk)
