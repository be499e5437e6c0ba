"""What a shopper sees when the seller's side changes under an open page."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from e2e.conftest import login_browser
from live.models import LiveStream
from shop import services
from shop.tests.factories import ProductFactory, VariantFactory


def test_a_republished_show_leaves_the_ended_state(page, asgi_live_server):
    # given a show that went live and ended, open on a viewer's phone
    from live.services.stream import stream_publish

    now = timezone.now()
    stream = LiveStream.objects.create(
        title="재방송 테스트",
        status=LiveStream.Status.OFFLINE,
        started_at=now - timedelta(minutes=30),
        ended_at=now - timedelta(minutes=1),
        live_started_notified_at=now - timedelta(minutes=30),
    )
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
    expect(page.locator("[data-player-message]")).to_have_text("방송이 종료되었습니다")
    expect(page.locator("#live-room")).to_have_attribute("data-ws-state", "open")

    # when OBS publishes again
    stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)

    # then the page leaves "ended" and the player starts again
    expect(page.locator("[data-ended-badge]")).to_be_hidden()
    expect(page.locator("[data-live-badge]")).to_be_visible()
    expect(page.locator("video[data-player-state]")).not_to_have_attribute(
        "data-player-state", "ended"
    )


def test_the_cart_says_a_deleted_product_was_removed(browser, asgi_live_server):
    base = asgi_live_server.url
    shopper = UserFactory(profile_complete=True)
    doomed = VariantFactory(product=ProductFactory(name="봄 트렌치 코트"), stock=2)
    kept = VariantFactory(product=ProductFactory(name="니트 베스트"), stock=2, price="24.00")
    services.cart_add(user=shopper, variant_id=doomed.pk, quantity=1)
    services.cart_add(user=shopper, variant_id=kept.pk, quantity=1)
    services.product_delete(product_id=doomed.product_id)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR")
    login_browser(context, shopper, base)
    page = context.new_page()

    page.goto(f"{base}/cart/")
    notice = page.get_by_test_id("line-withdrawn")
    expect(notice).to_have_text("상품이 삭제되어 장바구니에서 제외되었습니다")
    expect(page.get_by_test_id("cart-line").filter(has=notice)).to_contain_text("봄 트렌치 코트")
    expect(page.get_by_test_id("cart-subtotal")).to_have_text("$24.00")

    page.get_by_test_id("cart-line").filter(has=notice).get_by_role("button", name="삭제").click()
    expect(page.get_by_test_id("line-withdrawn")).to_have_count(0)
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    context.close()


def test_a_post_without_the_csrf_token_gets_the_korean_403_page(page, asgi_live_server):
    page.goto(f"{asgi_live_server.url}/")
    # a form from a page whose token is gone (e.g. cookies cleared in another tab)
    page.evaluate(
        """() => {
          const form = document.createElement("form");
          form.method = "post";
          form.action = "/logout/";
          document.body.appendChild(form);
          form.submit();
        }"""
    )
    expect(page.get_by_role("heading", name="보안 확인에 실패했습니다")).to_be_visible()
    expect(page.get_by_text("새로고침")).to_be_visible()
