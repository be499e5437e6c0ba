"""Cart → checkout → order complete → admin confirms → the shopper sees 입금 확인 + points."""

import re

from playwright.sync_api import expect

from e2e.conftest import login_browser


def test_checkout_to_confirmed_payment(page, browser, asgi_live_server, login, user_factory):
    from orders.tests.factories import hold, make_variant

    shopper = user_factory(profile_complete=True)
    staff = user_factory(is_staff=True, is_superuser=True, profile_complete=True)
    variant = make_variant(price="100.00", stock=3, name="캐시미어 니트")
    hold(user=shopper, variant=variant, quantity=1)
    login(shopper)

    # cart → checkout
    page.goto(asgi_live_server.url + "/cart/")
    expect(page.get_by_text("캐시미어 니트")).to_be_visible()
    page.get_by_test_id("checkout-button").click()
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    expect(page.get_by_test_id("checkout-total")).to_have_text("$108.00")
    page.get_by_test_id("agree-terms").check()
    page.get_by_test_id("agree-privacy").check()
    page.get_by_test_id("place-order").click()

    # order complete
    expect(page).to_have_url(re.compile(r"/orders/ORD-\d{8}-\d{5}/complete/$"))
    order_id = page.get_by_test_id("order-id").inner_text()
    assert re.fullmatch(r"ORD-\d{8}-\d{5}", order_id)
    expect(page.get_by_test_id("order-total")).to_have_text("$108.00")
    expect(page.get_by_test_id("payment-info")).to_contain_text(shopper.depositor_name)

    # an admin confirms it with the bulk action
    admin_context = browser.new_context()
    login_browser(admin_context, staff, asgi_live_server.url)
    admin = admin_context.new_page()
    admin.goto(asgi_live_server.url + "/admin/orders/order/")
    row = admin.locator("#result_list tr", has_text=order_id)
    row.locator("input.action-select").check()
    admin.select_option("select[name=action]", "confirm_payment")
    admin.locator("button[name=index]").click()
    expect(admin.locator(".messagelist")).to_contain_text(order_id)
    admin_context.close()

    # the shopper's order page shows the confirmation and the earned points
    page.goto(asgi_live_server.url + f"/my/orders/{order_id}/")
    expect(page.get_by_test_id("order-status")).to_have_text("입금 확인")
    expect(page.get_by_test_id("points-earned")).to_contain_text("500P")
    expect(page.get_by_test_id("order-timeline")).to_contain_text("입금 확인")


def test_use_all_points_updates_the_summary(page, asgi_live_server, login, user_factory):
    from orders.tests.factories import hold, make_variant
    from points.services import points_adjust

    shopper = user_factory(profile_complete=True)
    points_adjust(user=shopper, amount=10000, reason="브라우저 테스트 포인트", actor=None)
    hold(user=shopper, variant=make_variant(price="100.00", stock=3), quantity=1)
    login(shopper)

    page.goto(asgi_live_server.url + "/checkout/")
    expect(page.get_by_test_id("points-rules")).to_contain_text("10,000P")
    page.get_by_test_id("points-all").click()
    expect(page.locator("#points-input")).to_have_value("5400")  # 50% of $108.00
    expect(page.get_by_test_id("checkout-points")).to_have_text("-$54.00")
    expect(page.get_by_test_id("checkout-total")).to_have_text("$54.00")
    page.locator("#points-input").fill("500")
    page.locator("#points-input").dispatch_event("change")
    expect(page.get_by_test_id("points-error")).to_contain_text("1,000P")
    page.locator("#points-input").fill("2000")
    page.locator("#points-input").dispatch_event("change")
    expect(page.get_by_test_id("checkout-total")).to_have_text("$88.00")
    page.get_by_test_id("agree-terms").check()
    page.get_by_test_id("agree-privacy").check()
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("order-total")).to_have_text("$88.00")
    page.goto(asgi_live_server.url + "/my/points/")
    expect(page.get_by_test_id("points-balance")).to_have_text("8,000P")
