"""A notice written in the admin reaches a shopper's home page as a banner; closing it sticks
across reloads (per user for IMPORTANT ones, per browser for a guest). Also the legal pages,
the device list and account deletion as a shopper sees them on a phone."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from core.models import Notice, NoticeDismissal, get_config
from e2e.conftest import login_browser
from live.models import LiveStream

SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/dorami-e2e-shots"))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_notice_from_the_admin_reaches_the_shoppers_home_and_stays_closed(
    browser, page, asgi_live_server
):
    base = asgi_live_server.url
    config = get_config()
    config.business_name = "도라미 샵"
    config.contact_email = "help@dorami.shop"
    config.notice_text = "오늘 밤 8시 라이브에서 만나요!"
    config.save()
    staff = UserFactory(is_staff=True, is_superuser=True, profile_complete=True)
    shopper = UserFactory(profile_complete=True)

    # given: the seller writes an IMPORTANT notice in the (Korean) admin
    admin = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ko-KR")
    login_browser(admin, staff, base)
    admin_page = admin.new_page()
    admin_page.goto(base + "/admin/core/notice/add/")
    admin_page.select_option("#id_kind", "IMPORTANT")
    admin_page.fill("#id_title", "설 연휴 배송 휴무 안내")
    admin_page.fill("#id_body", "2월 9일부터 12일까지 발송이 쉬어갑니다.")
    admin_page.locator("input[name=_save]").click()
    admin_page.wait_for_url("**/admin/core/notice/")
    admin.close()
    notice = Notice.objects.get()

    # when: the shopper opens the home page on their phone
    login_browser(page.context, shopper, base)
    page.goto(base + "/")
    banners = page.get_by_test_id("notice-banner")
    expect(banners).to_have_count(2)
    important = banners.first
    expect(important).to_contain_text("설 연휴 배송 휴무 안내")
    expect(important).to_contain_text("중요")
    expect(banners.nth(1)).to_contain_text("오늘 밤 8시 라이브에서 만나요!")
    expect(page.get_by_test_id("site-footer")).to_contain_text("도라미 샵")
    shot(page, "home-notice-banners-390")

    # then: closing it (htmx) removes it at once, and it stays closed after a reload
    important.get_by_test_id("notice-close").click()
    expect(page.get_by_test_id("notice-banner")).to_have_count(1)
    assert NoticeDismissal.objects.filter(user=shopper, key=f"n{notice.pk}").exists()
    page.reload()
    expect(page.get_by_test_id("notice-banner")).to_have_count(1)
    expect(page.get_by_test_id("notice-banners")).not_to_contain_text("설 연휴")
    page.goto(base + "/store/")
    expect(page.get_by_test_id("notice-banners")).not_to_contain_text("설 연휴")

    # the live page's ticker carries the show's notice, the notice box and the notice
    stream = LiveStream.objects.create(
        title="금요 라이브", status=LiveStream.Status.LIVE, notice_text="전 상품 무료배송"
    )
    page.goto(f"{base}/live/{stream.public_id}/")
    ticker = page.get_by_test_id("notice-ticker")
    expect(ticker).to_be_visible()
    expect(ticker).to_contain_text("전 상품 무료배송")
    expect(ticker).to_contain_text("설 연휴 배송 휴무 안내")
    expect(ticker).to_contain_text("오늘 밤 8시 라이브에서 만나요!")
    page.screenshot(path=str(SHOTS / "live-ticker-390.png"))

    # a guest in another browser still sees it, closes it, and it stays closed there
    guest = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR")
    guest_page = guest.new_page()
    guest_page.goto(base + "/")
    expect(guest_page.get_by_test_id("notice-banner")).to_have_count(2)
    guest_page.get_by_test_id("notice-close").first.click()
    expect(guest_page.get_by_test_id("notice-banner")).to_have_count(1)
    guest_page.reload()
    expect(guest_page.get_by_test_id("notice-banner")).to_have_count(1)
    guest.close()


def test_legal_pages_sessions_and_deletion_on_a_phone(page, asgi_live_server):
    base = asgi_live_server.url
    shopper = UserFactory(profile_complete=True)
    page.goto(base + "/login/")
    page.locator("#main").get_by_role("link", name="이용약관").click()
    page.wait_for_url("**/terms/")
    expect(page.get_by_test_id("legal-page")).to_contain_text("제1조 (목적)")
    shot(page, "terms-390")
    page.goto(base + "/contact/")
    shot(page, "contact-390")

    login_browser(page.context, shopper, base)
    page.goto(base + "/my/")
    page.get_by_test_id("sessions-link").click()
    expect(page.get_by_test_id("session-current")).to_be_visible()
    shot(page, "sessions-390")

    page.goto(base + "/my/delete/")
    page.get_by_test_id("delete-confirm").fill("탈퇴")
    page.get_by_test_id("delete-submit").click()
    expect(page.get_by_test_id("delete-error")).to_contain_text("탈퇴합니다")
    shot(page, "delete-390")
    page.get_by_test_id("delete-confirm").fill("탈퇴합니다")
    page.get_by_test_id("delete-submit").click()
    page.wait_for_url(base + "/")
    expect(page.locator("[data-flash]")).to_contain_text("탈퇴가 완료되었습니다")
    shopper.refresh_from_db()
    assert shopper.deleted_at is not None
