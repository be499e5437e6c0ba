"""Shop pages and the cart-add contract (HTMX partial / JSON)."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import get_config
from shop import services
from shop.models import CartLine, ProductVariant
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_home_without_streams_says_none_scheduled(client):
    response = client.get("/")
    assert "예정된 라이브가 없습니다" in response.content.decode()


def test_home_live_banner_and_countdown(client):
    from live.models import LiveStream

    upcoming = LiveStream.objects.create(
        title="봄 신상 라이브", scheduled_at=timezone.now() + timedelta(days=1)
    )
    page = client.get("/").content.decode()
    assert "봄 신상 라이브" in page and "data-countdown-to" in page
    live = LiveStream.objects.create(title="지금 방송", status="LIVE", started_at=timezone.now())
    page = client.get("/").content.decode()
    assert f"/live/{live.public_id}/viewers/" in page
    assert f'href="/live/{live.public_id}/"' in page
    assert upcoming.title in page


def test_store_lists_store_items_with_sold_out_badge(
    client, warm_site_cache, django_assert_num_queries
):
    for n in range(25):
        VariantFactory(product=ProductFactory(name=f"원피스 {n}"), stock=0 if n == 24 else 3)
    with django_assert_num_queries(2):  # count, one page of products (cover + price annotated)
        response = client.get(reverse("shop:store"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="product-card"') == 20
    assert "품절" in html


def test_store_search_and_htmx_partial(client):
    ProductFactory(name="린넨 셔츠")
    ProductFactory(name="데님 팬츠")
    response = client.get(reverse("shop:store"), {"q": "린넨"}, **HTMX)
    html = response.content.decode()
    assert "린넨 셔츠" in html and "데님 팬츠" not in html
    assert "<html" not in html


def test_store_hides_products_of_upcoming_or_live_streams(client):
    from live.models import LiveStream

    stream = LiveStream.objects.create(title="라이브", status="LIVE")
    ProductFactory(name="방송 전용", stream=stream)
    ProductFactory(name="숨김 상품", hidden_from_store=True)
    html = client.get(reverse("shop:store")).content.decode()
    assert "방송 전용" not in html and "숨김 상품" not in html


@pytest.mark.parametrize(("threshold", "shown"), [(2, False), (3, True)])
def test_product_detail_low_stock_note_follows_the_config(client, threshold, shown):
    config = get_config()
    config.low_stock_threshold = threshold
    config.save()
    product = ProductFactory(name="캐시미어 코트")
    VariantFactory(product=product, stock=3)
    html = client.get(reverse("shop:product-detail", args=[product.pk])).content.decode()
    assert ("3개 남음" in html) is shown


def test_product_detail_shows_sheet(client, django_assert_num_queries):
    product = ProductFactory(name="캐시미어 코트", original_price="199.00", timer_minutes=15)
    VariantFactory(product=product, color="블랙", size="S", stock=3)
    VariantFactory(product=product, color="블랙", size="M", stock=9)
    get_config()  # cached, as it is between the seller's edits
    with django_assert_num_queries(3):  # product, variants, images
        response = client.get(reverse("shop:product-detail", args=[product.pk]))
    html = response.content.decode()
    assert "3개 남음" in html
    assert "15분 내 결제 필요" in html
    assert "<del" in html and "$199.00" in html


def test_product_sheet_is_a_partial(client):
    variant = VariantFactory(stock=0)
    html = client.get(reverse("shop:product-sheet", args=[variant.product_id])).content.decode()
    assert "<html" not in html
    assert 'data-testid="sold-out"' in html and "예비번호 받기" in html


def test_unknown_product_is_404(client):
    assert client.get("/products/999999/").status_code == 404


def test_cart_add_json_contract(shopper_client):
    variant = VariantFactory(stock=5)
    response = shopper_client.post(
        reverse("shop:cart-add"), {"variant_id": variant.pk, "quantity": 2}, **JSON
    )
    body = response.json()
    assert response.status_code == 201
    assert body["ok"] is True and body["line_id"] and body["expires_at"]


def test_cart_add_json_insufficient(shopper_client):
    variant = VariantFactory(stock=1)
    response = shopper_client.post(
        reverse("shop:cart-add"), {"variant_id": variant.pk, "quantity": 2}, **JSON
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "INSUFFICIENT_STOCK",
        "message": "재고가 부족합니다 (남은 수량 1개)",
        "available": 1,
    }


def test_cart_add_htmx_renders_korean_partial(shopper_client):
    variant = VariantFactory(stock=1)
    url = reverse("shop:cart-add")
    ok = shopper_client.post(url, {"variant_id": variant.pk, "quantity": 1}, **HTMX)
    assert "장바구니에 담았습니다" in ok.content.decode()
    assert ok["HX-Trigger"] == "cart-changed"
    short = shopper_client.post(url, {"variant_id": variant.pk, "quantity": 1}, **HTMX)
    html = short.content.decode()
    assert "품절되었습니다" in html and "예비번호 받기" in html


def test_cart_add_requires_login(client):
    variant = VariantFactory(stock=1)
    response = client.post(reverse("shop:cart-add"), {"variant_id": variant.pk}, **JSON)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "LOGIN_REQUIRED"
    assert ProductVariant.objects.get(pk=variant.pk).held == 0


def test_cart_add_requires_complete_profile(client, user_factory):
    client.force_login(user_factory())
    variant = VariantFactory(stock=1)
    response = client.post(reverse("shop:cart-add"), {"variant_id": variant.pk}, **JSON)
    assert response.json()["error"]["code"] == "PROFILE_INCOMPLETE"


def test_cart_page_countdown_and_summary(shopper_client):
    variant = VariantFactory(stock=5, price="12.50")
    untimed = VariantFactory(product=ProductFactory(timer_enabled=False), stock=5, price="0.10")
    services.cart_add(user=shopper_client.user, variant_id=variant.pk, quantity=2)
    services.cart_add(user=shopper_client.user, variant_id=untimed.pk, quantity=3)
    html = shopper_client.get(reverse("shop:cart")).content.decode()
    assert html.count('data-testid="line-countdown"') == 1
    assert '<dd data-testid="cart-subtotal">$25.30</dd>' in html
    summary = shopper_client.get(reverse("shop:cart-summary"), **HTMX).content.decode()
    assert "$25.30" in summary and "<html" not in summary


def test_cart_flags_expired_and_sold_out_lines_and_removes_them(shopper_client):
    user = shopper_client.user
    expired = services.cart_add(user=user, variant_id=VariantFactory().pk, quantity=1)
    CartLine.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    gone = VariantFactory()
    services.cart_add(user=user, variant_id=gone.pk, quantity=1)
    services.product_mark_sold_out(product_id=gone.product_id, sold_out=True)
    html = shopper_client.get(reverse("shop:cart")).content.decode()
    assert 'data-testid="line-expired"' in html and 'data-testid="line-sold-out"' in html
    assert "$0.00" in html  # neither counts in the subtotal
    response = shopper_client.post(reverse("shop:cart-line-remove", args=[expired.pk]), **HTMX)
    assert response.status_code == 200
    assert CartLine.objects.get(pk=expired.pk).status == "REMOVED"


def test_cart_says_a_deleted_product_was_removed_and_lets_the_shopper_dismiss_it(
    shopper_client,
):
    # given a product in the cart that the seller deletes
    user = shopper_client.user
    doomed = VariantFactory(product=ProductFactory(name="봄 가디건"), stock=3)
    line = services.cart_add(user=user, variant_id=doomed.pk, quantity=2)
    kept = services.cart_add(user=user, variant_id=VariantFactory(price="5.00").pk, quantity=1)
    assert services.product_delete(product_id=doomed.product_id) is True
    # when the shopper opens the cart
    html = shopper_client.get(reverse("shop:cart")).content.decode()
    # then it says the product was deleted (not that time ran out), and charges nothing for it
    assert 'data-testid="line-withdrawn"' in html
    assert "봄 가디건" in html and "상품이 삭제되어 장바구니에서 제외되었습니다" in html
    assert 'data-testid="line-expired"' not in html
    assert '<dd data-testid="cart-subtotal">$5.00</dd>' in html
    # and dismissing it leaves only the kept line
    response = shopper_client.post(reverse("shop:cart-line-remove", args=[line.pk]), **HTMX)
    assert response.status_code == 200
    assert "봄 가디건" not in response.content.decode()
    assert CartLine.objects.get(pk=kept.pk).status == "ACTIVE"


@pytest.mark.usefixtures("no_cap")
def test_cart_line_update_page_and_json(shopper_client):
    variant = VariantFactory(stock=3)
    line = services.cart_add(user=shopper_client.user, variant_id=variant.pk, quantity=1)
    url = reverse("shop:cart-line-update", args=[line.pk])
    html = shopper_client.post(url, {"quantity": "9"}, **HTMX).content.decode()
    assert "재고가 부족합니다 (남은 수량 2개)" in html
    response = shopper_client.post(url, {"quantity": "3"}, **JSON)
    assert response.json() == {"ok": True}
    assert ProductVariant.objects.get(pk=variant.pk).held == 3


def test_waitlist_join_and_page(shopper_client):
    variant = VariantFactory(stock=0)
    response = shopper_client.post(
        reverse("shop:waitlist-join"), {"variant_id": variant.pk, "quantity": 1}, **JSON
    )
    assert response.status_code == 201
    assert json.loads(response.content)["position"] == 1
    html = shopper_client.get(reverse("shop:waitlist")).content.decode()
    assert "대기 순서 1번" in html


def test_product_page_does_not_count_overdue_lines_as_held(client, user_factory):
    variant = VariantFactory(stock=3)
    line = services.cart_add(user=user_factory(), variant_id=variant.pk, quantity=3)
    html = client.get(reverse("shop:product-detail", args=[variant.product_id])).content.decode()
    assert 'data-testid="sold-out"' in html
    CartLine.objects.filter(pk=line.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    html = client.get(reverse("shop:product-detail", args=[variant.product_id])).content.decode()
    assert 'data-testid="sold-out"' not in html and "3개 남음" in html
