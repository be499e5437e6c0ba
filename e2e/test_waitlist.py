"""Shopper A takes the last unit; B joins the waitlist; A lets go; B is promoted into the cart."""

import re

from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from e2e.conftest import login_browser
from shop.tests.factories import ProductFactory, VariantFactory


def test_last_unit_waitlist_promotion(browser, asgi_live_server):
    base = asgi_live_server.url
    variant = VariantFactory(
        product=ProductFactory(name="마지막 한 벌 코트"), color="카멜", size="M", stock=1
    )
    product_url = f"{base}/products/{variant.product_id}/"
    shopper_a = UserFactory(profile_complete=True)
    shopper_b = UserFactory(profile_complete=True)
    context_a, context_b = browser.new_context(), browser.new_context()
    login_browser(context_a, shopper_a, base)
    login_browser(context_b, shopper_b, base)
    page_a, page_b = context_a.new_page(), context_b.new_page()

    # A takes the last unit
    page_a.goto(product_url)
    expect(page_a.get_by_text("1개 남음")).to_be_visible()
    page_a.get_by_role("button", name="장바구니 담기").click()
    expect(page_a.get_by_test_id("add-result")).to_contain_text("장바구니에 담았습니다")

    # B sees it sold out and joins the waitlist
    page_b.goto(product_url)
    expect(page_b.get_by_test_id("sold-out")).to_be_visible()
    expect(page_b.get_by_role("button", name="장바구니 담기")).to_be_hidden()
    page_b.get_by_role("button", name="예비번호 받기").click()
    expect(page_b.get_by_test_id("waitlist-result")).to_contain_text("예비번호 1번")
    page_b.goto(f"{base}/my/waitlist/")
    expect(page_b.get_by_test_id("waitlist-position")).to_have_text("대기 순서 1번")

    # A removes the line from the cart
    page_a.goto(f"{base}/cart/")
    expect(page_a.get_by_test_id("line-countdown")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    page_a.get_by_role("button", name="삭제", exact=True).click()
    expect(page_a.get_by_test_id("cart-empty")).to_be_visible()

    # B's waitlist page shows the promotion and B's cart holds the item
    page_b.goto(f"{base}/my/waitlist/")
    expect(page_b.get_by_test_id("waitlist-promoted")).to_contain_text("장바구니에 담아두었어요")
    page_b.get_by_role("link", name="장바구니로 가기").click()
    line = page_b.get_by_test_id("cart-line")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("마지막 한 벌 코트")
    expect(line.get_by_test_id("line-countdown")).to_have_text(re.compile(r"^(09|10):\d\d$"))

    context_a.close()
    context_b.close()
