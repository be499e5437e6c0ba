"""The shopper's journey on a phone (390×844): buying from the live sheet without leaving the
show, one unit per double tap, the countdown before a show, the logged-out add, checkout."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from e2e.test_mobile_layout import layout_problems, shoot


def _live_show(**extra):
    from orders.tests.factories import make_stream, make_variant

    now = timezone.now()
    stream = make_stream(title="금요 신상 라이브", status="LIVE", started_at=now, **extra)
    variant = make_variant(price="39.00", stock=3, stream=stream, name="캐시미어 라운드 니트")
    return stream, variant


def test_buy_from_the_live_sheet_and_stay_in_the_show(page, asgi_live_server, login, shopper):
    from core.models import get_config
    from orders.models import Order

    # given a live show with a featured product and the bank details in the config
    config = get_config()
    config.bank_name = "Hanmi Bank"
    config.bank_account_number = "123-456-7890"
    config.save()
    stream, variant = _live_show()
    stream.featured_product = variant.product
    stream.save()
    login(shopper)
    live_url = f"{asgi_live_server.url}/live/{stream.public_id}/"
    page.goto(live_url)
    expect(page.get_by_test_id("featured-card")).to_contain_text("지금 소개 중")
    expect(page.get_by_test_id("featured-card")).to_contain_text("캐시미어 라운드 니트")

    # when the shopper opens the product sheet and adds the item
    page.get_by_test_id("product-card").first.click()
    sheet = page.locator("[data-sheet]")
    expect(sheet.get_by_test_id("option-chip")).to_have_count(1)
    expect(sheet.get_by_test_id("add-to-cart")).to_be_in_viewport()
    page.wait_for_timeout(400)  # the sheet's slide-up
    shoot(page, "live-product-sheet")
    sheet.get_by_test_id("add-to-cart").click()
    expect(sheet.get_by_test_id("add-result")).to_contain_text("장바구니에 담았습니다")
    expect(page.locator("[data-rail=cart] [data-testid=cart-count]")).to_have_text("1")
    sheet.locator(".sheet-close").click()

    # and places the order from the checkout sheet
    page.locator("[data-open-checkout]").click()
    expect(sheet.get_by_test_id("checkout-total")).to_have_text("$47.00")
    sheet.get_by_test_id("agree-terms").check()
    sheet.get_by_test_id("agree-privacy").check()
    expect(sheet.get_by_test_id("place-order")).to_be_in_viewport()
    shoot(page, "live-checkout-sheet")
    sheet.get_by_test_id("place-order").click()

    # then the sheet shows the order number, amount and bank details, and the page is the show
    complete = sheet.get_by_test_id("order-complete")
    expect(complete).to_be_visible()
    order = Order.objects.get(user=shopper)
    expect(complete.get_by_test_id("order-id")).to_have_text(order.order_id)
    expect(complete.get_by_test_id("order-total")).to_have_text("$47.00")
    expect(complete).to_contain_text("123-456-7890")
    expect(complete.locator("[data-copy='123-456-7890']")).to_be_visible()
    expect(complete.get_by_role("link", name="내 주문")).to_have_attribute(
        "href", f"/my/orders/{order.order_id}/"
    )
    assert page.url == live_url
    shoot(page, "live-order-complete")

    # and closing it goes back to the video
    complete.get_by_test_id("back-to-show").click()
    expect(sheet).to_be_hidden()
    expect(page.locator("#live-video")).to_be_visible()
    assert layout_problems(page) == []


def test_one_tap_add_of_the_featured_product(page, asgi_live_server, login, shopper):
    from shop.models import CartLine

    stream, variant = _live_show()
    stream.featured_product = variant.product
    stream.save()
    login(shopper)
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")

    page.get_by_test_id("featured-add").click()

    expect(page.locator("[data-toast]")).to_have_text("장바구니에 담았습니다")
    assert CartLine.objects.get(user=shopper, variant=variant).quantity == 1


def test_double_tap_on_add_to_cart_adds_one_unit(page, asgi_live_server, login, shopper):
    from orders.tests.factories import make_variant
    from shop.models import CartLine

    # given a product page
    variant = make_variant(price="25.00", stock=9, name="울 머플러")
    login(shopper)
    page.goto(f"{asgi_live_server.url}/products/{variant.product_id}/")

    # when the shopper double-taps 장바구니 담기
    page.get_by_test_id("add-to-cart").dblclick()

    # then one unit is in the cart
    expect(page.get_by_test_id("add-result")).to_contain_text("장바구니에 담았습니다")
    page.wait_for_timeout(800)  # a second request, if one were sent, would land by now
    assert CartLine.objects.get(user=shopper, variant=variant).quantity == 1
    expect(page.get_by_test_id("cart-link").get_by_test_id("cart-count")).to_have_text("1")


def test_double_tap_in_the_live_sheet_adds_one_unit(page, asgi_live_server, login, shopper):
    from shop.models import CartLine

    stream, variant = _live_show()
    login(shopper)
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
    page.get_by_test_id("product-card").first.click()

    page.locator("[data-sheet]").get_by_test_id("add-to-cart").dblclick()

    expect(page.get_by_test_id("add-result")).to_contain_text("장바구니에 담았습니다")
    page.wait_for_timeout(800)
    assert CartLine.objects.get(user=shopper, variant=variant).quantity == 1


def test_countdown_before_the_show(page, asgi_live_server):
    from live.models import LiveStream

    # given a show scheduled in two hours
    starts = timezone.now() + timedelta(hours=2, minutes=5)
    stream = LiveStream.objects.create(title="금요 신상 라이브", scheduled_at=starts)

    # when a viewer opens it
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")

    # then the start time and a running countdown show, not a player error or "00:00"
    expect(page.get_by_test_id("scheduled-at")).to_have_text(re.compile(r"\d+월 \d+일 .* P[SD]T$"))
    countdown = page.get_by_test_id("countdown")
    expect(countdown).to_have_text(re.compile(r"^2:0[45]:\d\d$"))
    first = countdown.inner_text()
    page.wait_for_timeout(1500)
    assert countdown.inner_text() != first
    expect(page.locator("[data-elapsed]")).to_be_hidden()
    expect(page.locator("[data-unmute]")).to_be_hidden()
    expect(page.get_by_text("네트워크 오류")).to_have_count(0)
    shoot(page, "live-pending")
    assert layout_problems(page) == []


def test_after_the_show_the_input_hides_and_the_next_show_is_named(page, asgi_live_server):
    from live.models import LiveStream

    ended = LiveStream.objects.create(title="지난 라이브", status="OFFLINE")
    LiveStream.objects.create(title="다음 주 신상", scheduled_at=timezone.now() + timedelta(days=2))

    page.goto(f"{asgi_live_server.url}/live/{ended.public_id}/")

    expect(page.get_by_test_id("live-ended")).to_contain_text("방송이 종료되었습니다")
    expect(page.get_by_test_id("next-stream")).to_contain_text("다음 주 신상")
    expect(page.locator(".live-actions")).to_be_hidden()
    shoot(page, "live-ended")


def test_logged_out_add_explains_login_and_keeps_the_option(page, asgi_live_server):
    from orders.tests.factories import make_variant
    from shop.models import ProductVariant

    # given a product with two sizes
    small = make_variant(price="30.00", stock=5, name="린넨 셔츠", size="S")
    large = ProductVariant.objects.create(
        product=small.product, price=Decimal("35.00"), stock=5, size="L"
    )
    url = f"{asgi_live_server.url}/products/{small.product_id}/"
    page.goto(url)

    # when a logged-out shopper picks L and taps add
    page.locator("label", has_text="L").click()
    expect(page.locator(".sheet-price .price")).to_have_text("$35.00")  # the option's price
    page.get_by_test_id("add-to-cart").click()

    # then the page says a login is needed, and the login link comes back with L chosen
    expect(page.get_by_test_id("login-needed")).to_contain_text("로그인이 필요합니다")
    href = page.get_by_test_id("login-needed").get_by_role("link").get_attribute("href")
    assert f"variant%3D{large.pk}" in href or f"variant={large.pk}" in href
    page.goto(f"{url}?variant={large.pk}")
    expect(page.locator(f"input[name=variant_id][value='{large.pk}']")).to_be_checked()


def test_checkout_summary_sends_no_csrf_token_and_logs_no_errors(
    page, asgi_live_server, login, shopper
):
    from orders.tests.factories import hold, make_variant

    hold(user=shopper, variant=make_variant(price="100.00", stock=3), quantity=1)
    login(shopper)
    errors, summary_urls = [], []
    # (a failed load is caught by its response below; the browser's own favicon probe is not)
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
    page.on(
        "request", lambda r: summary_urls.append(r.url) if "/checkout/summary/" in r.url else None
    )
    page.goto(f"{asgi_live_server.url}/checkout/")

    # points below the minimum: the field says so and is disabled
    expect(page.get_by_test_id("points-locked")).to_contain_text("1,000P")
    expect(page.locator("#points-input")).to_be_disabled()

    # a change recomputes the summary with a GET that carries no CSRF token
    page.get_by_test_id("checkout-line").uncheck()
    expect(page.get_by_test_id("checkout-subtotal")).to_have_text("$0.00")
    page.get_by_test_id("checkout-line").check()
    expect(page.get_by_test_id("checkout-subtotal")).to_have_text("$100.00")
    assert summary_urls
    assert not any("csrfmiddlewaretoken" in url or "idempotency_key" in url for url in summary_urls)

    # a refused order shows its error right above the order button
    page.get_by_test_id("place-order").click()
    error = page.get_by_test_id("checkout-form-errors")
    expect(error).to_be_visible()
    assert (
        page.evaluate(
            "() => document.querySelector('[data-testid=checkout-form-errors]').nextElementSibling"
            ".dataset.testid"
        )
        == "place-order"
    )
    shoot(page, "checkout-error")
    assert errors == []
