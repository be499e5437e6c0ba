"""A shopper who adds too fast is told so in Korean (a toast), and nothing more is held."""

from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from e2e.conftest import login_browser, start_asgi_server, stop_asgi_server
from shop.models import ProductVariant
from shop.tests.factories import ProductFactory, VariantFactory


def test_too_many_adds_show_the_korean_toast(browser, transactional_db, tmp_path):
    server = start_asgi_server(extra_env={"RATE_LIMITS": "cart_add=user:1/60"}, tmp_path=tmp_path)
    try:
        variant = VariantFactory(product=ProductFactory(name="봄 니트"), stock=10)
        shopper = UserFactory(profile_complete=True)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        login_browser(context, shopper, server.url)
        page = context.new_page()
        page.goto(f"{server.url}/products/{variant.product_id}/")

        page.get_by_role("button", name="장바구니 담기").click()
        expect(page.get_by_test_id("add-result")).to_contain_text("장바구니에 담았습니다")
        page.get_by_role("button", name="장바구니 담기").click()

        toast = page.locator("[data-toast]")
        expect(toast).to_be_visible()
        expect(toast).to_contain_text("요청이 너무 많습니다")
        expect(toast).to_contain_text("초 후에 다시 시도해 주세요")
        page.screenshot(path=str(tmp_path / "rate-limit-toast.png"))
        assert ProductVariant.objects.get(pk=variant.pk).held == 1

        # the same form posted without JavaScript gets the Korean page
        page.evaluate(
            "() => HTMLFormElement.prototype.submit.call(document.querySelector('form.sheet-form'))"
        )
        expect(page.get_by_role("heading", name="요청이 너무 많습니다")).to_be_visible()
        expect(page.locator(".error-page")).to_contain_text("초 후에 다시 시도해 주세요")
        page.screenshot(path=str(tmp_path / "rate-limit-page.png"))
        assert ProductVariant.objects.get(pk=variant.pk).held == 1
        context.close()
    finally:
        stop_asgi_server(server)
