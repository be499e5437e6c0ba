from playwright.sync_api import expect

from accounts.models import User


def test_dev_login_then_profile_registration_then_my_page(page, asgi_live_server):
    base = asgi_live_server.url

    # dev login with an email, coming from the my page
    page.goto(base + "/login/?next=/my/")
    expect(page.get_by_test_id("kakao-login")).to_be_visible()
    page.locator("details.dev-login summary").click()
    page.fill("#dev-email", "e2e.shopper@example.com")
    page.get_by_test_id("dev-login").click()

    # → profile registration, email prefilled
    page.wait_for_url("**/profile/register/?next=*")
    expect(page.locator("#id_email")).to_have_value("e2e.shopper@example.com")
    page.fill("#id_instagram_id", "e2e.shopper")
    page.fill("#id_depositor_name", "이투이")
    page.fill("#id_phone", "213-555-0199")
    page.fill("#id_full_name", "E2E Shopper")
    page.fill("#id_address1", "777 Test Pilot Way")
    page.fill("#id_address2", "Unit 9")
    page.fill("#id_city", "Irvine")
    page.select_option("#id_state", "CA")

    # an invalid ZIP first: Korean error next to the field, nothing saved
    page.fill("#id_zip", "9261")
    page.get_by_test_id("profile-save").click()
    zip_field = page.locator('[data-field="zip"]')
    expect(zip_field.locator(".field-error")).to_have_text(
        "ZIP 코드는 12345 또는 12345-6789 형식으로 입력해 주세요."
    )
    assert not User.objects.get(email="e2e.shopper@example.com").has_complete_profile
    expect(page.locator("#id_address1")).to_have_value("777 Test Pilot Way")

    # fixed → saved → back to the my page, which shows the address
    page.fill("#id_zip", "92618")
    page.get_by_test_id("profile-save").click()
    page.wait_for_url(base + "/my/")
    address = page.get_by_test_id("shipping-address")
    expect(address).to_contain_text("777 Test Pilot Way")
    expect(address).to_contain_text("Irvine, CA 92618")
    expect(page.get_by_test_id("profile-summary")).to_contain_text("@e2e.shopper")

    user = User.objects.get(email="e2e.shopper@example.com")
    assert user.has_complete_profile
    assert user.phone == "+12135550199"
    assert "Test Pilot" not in user.shipping_address_encrypted

    # the live alert toggle works through htmx
    page.get_by_test_id("live-alert-toggle").click()
    expect(page.get_by_test_id("live-alert-toggle")).to_have_attribute("aria-checked", "true")
    user.refresh_from_db()
    assert user.live_alert_opt_in

    # logout
    page.get_by_test_id("logout").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/my/")
    page.wait_for_url("**/login/?next=/my/")
