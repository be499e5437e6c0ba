"""The per-tab events socket in a real browser: a shopper reading a product page is told when
the waitlist promotes them; a store page marks a product 품절 when its last unit goes."""

import os

from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from e2e.conftest import login_browser
from shop import services
from shop.tests.factories import ProductFactory, VariantFactory

SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def test_the_waitlist_promotion_shows_a_toast_on_the_page_the_shopper_is_reading(
    browser, asgi_live_server
):
    base = asgi_live_server.url
    # given: the last unit of a coat is in A's cart and B waits for it
    coat = VariantFactory(product=ProductFactory(name="마지막 한 벌 코트"), stock=1)
    holder = UserFactory(profile_complete=True)
    waiting = UserFactory(profile_complete=True)
    line = services.cart_add(user=holder, variant_id=coat.pk, quantity=1)
    services.waitlist_join(user=waiting, variant_id=coat.pk, quantity=1)
    # and B is reading another product's page on a phone
    other = VariantFactory(product=ProductFactory(name="실크 스카프"), stock=5)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    login_browser(context, waiting, base)
    page = context.new_page()
    page.goto(f"{base}/products/{other.product_id}/")
    expect(page.locator("body")).to_have_attribute("data-events-socket", "open")

    # when: A lets the coat go
    services.cart_line_remove(user=holder, line_id=line.pk)

    # then: B's page shows the promotion with a link to the cart, without a reload
    toast = page.locator("[data-user-toast]")
    expect(toast).to_contain_text("예비번호 차례가 되었습니다: 마지막 한 벌 코트.")
    expect(toast).to_contain_text("분 안에 결제해 주세요.")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "waitlist-toast-390.png"))
    toast.get_by_role("link", name="장바구니로 가기").click()
    expect(page).to_have_url(f"{base}/cart/")
    expect(page.get_by_test_id("cart-line")).to_contain_text("마지막 한 벌 코트")
    context.close()


def test_the_store_page_marks_a_product_sold_out_when_its_last_unit_goes(browser, asgi_live_server):
    base = asgi_live_server.url
    scarf = VariantFactory(product=ProductFactory(name="한정 스카프"), stock=1)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()  # a guest
    page.goto(f"{base}/store/")
    card = page.locator(f'.product-card[data-product-id="{scarf.product_id}"]')
    expect(card).to_be_visible()
    expect(card.locator("[data-sold-out-badge]")).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-events-socket", "open")

    services.cart_add(user=UserFactory(profile_complete=True), variant_id=scarf.pk, quantity=1)

    expect(card.locator("[data-sold-out-badge]")).to_have_text("품절")
    context.close()
