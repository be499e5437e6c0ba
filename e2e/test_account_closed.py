"""Suspension ends an open live page at once (real uvicorn + Redis + Chromium).

A shopper and a viewer watch; an admin suspends the shopper from the user admin; the shopper's
page closes with "이용이 정지된 계정입니다" within 2 s and stays closed, the login page it links to
says why, and the viewer never receives anything the shopper sends afterwards.
"""

from __future__ import annotations

import time

from playwright.sync_api import expect

from e2e.conftest import login_browser


def test_admin_suspension_closes_the_shoppers_live_page(
    asgi_live_server, browser, browser_context_args
):
    from accounts.models import User
    from accounts.tests.factories import UserFactory
    from live.models import ChatMessage, LiveStream

    # given a shopper and another viewer on a live page, and an admin in the user admin
    stream = LiveStream.objects.create(title="정지 테스트", status=LiveStream.Status.LIVE)
    shopper = UserFactory(profile_complete=True, instagram_id="@to_suspend")
    viewer = UserFactory(profile_complete=True, instagram_id="@viewer_c")
    admin = UserFactory(profile_complete=True, is_staff=True, is_superuser=True)
    url = f"{asgi_live_server.url}/live/{stream.public_id}/"
    desktop = {**browser_context_args, "viewport": {"width": 1440, "height": 900}}
    contexts = [browser.new_context(**browser_context_args) for _ in range(2)]
    contexts.append(browser.new_context(**desktop))
    try:
        for context, user in zip(contexts, (shopper, viewer, admin), strict=True):
            login_browser(context, user, asgi_live_server.url)
        page_a, page_b, page_admin = (context.new_page() for context in contexts)
        page_a.goto(url)
        page_b.goto(url)
        expect(page_a.locator("#live-room")).to_have_attribute("data-ws-state", "open")
        expect(page_b.locator("#live-room")).to_have_attribute("data-ws-state", "open")
        page_a.locator("[data-chat-input]").fill("정지 전 인사")
        page_a.locator("[data-chat-input]").press("Enter")
        expect(page_b.locator(".chat-line", has_text="정지 전 인사")).to_be_visible()

        # when the admin suspends the shopper with the changelist action
        page_admin.goto(f"{asgi_live_server.url}/admin/accounts/user/")
        page_admin.locator(f'input[name="_selected_action"][value="{shopper.pk}"]').check()
        page_admin.locator('select[name="action"]').select_option("suspend_users")
        started = time.monotonic()
        with page_admin.expect_response(lambda r: r.request.method == "POST"):
            page_admin.locator('button[name="index"]').click()
        admin_seconds = time.monotonic() - started  # the suspension commits within this request

        # then the shopper's page closes with the Korean reason within 2 s, chat disabled
        notice = page_a.locator("[data-account-closed-message]")
        expect(notice).to_have_text("이용이 정지된 계정입니다.", timeout=2000)
        assert time.monotonic() - started <= 2.0 + admin_seconds
        expect(page_a.locator("#live-room")).to_have_attribute("data-account-closed", "4001")
        expect(page_a.locator("[data-chat-form]")).to_have_count(0)
        page_a.screenshot(path=str(asgi_live_server.log_path.parent / "suspended-live.png"))
        shopper.refresh_from_db()
        assert shopper.status == User.Status.SUSPENDED

        # the page's link leads to the login page, which says why
        ws_path = page_a.locator("#live-room").get_attribute("data-ws-path")
        page_a.locator("[data-account-closed-login]").click()
        expect(page_a.locator(".auth-alert")).to_contain_text("이용이 정지된 계정입니다")
        assert "/login/" in page_a.url

        # and nothing they send afterwards reaches the other viewer: a socket their browser
        # opens again is a guest's, whose chat is refused
        page_a.evaluate(
            """(path) => new Promise((resolve) => {
                const ws = new WebSocket("ws://" + location.host + path);
                ws.onopen = () => { ws.send(JSON.stringify({type: "chat", body: "정지 후 메시지"}));
                                    setTimeout(() => { ws.close(); resolve(); }, 500); };
                ws.onerror = () => resolve();
            })""",
            ws_path,
        )
        page_b.wait_for_timeout(500)
        expect(page_b.locator(".chat-line", has_text="정지 후 메시지")).to_have_count(0)
        assert not ChatMessage.objects.filter(body="정지 후 메시지").exists()
        expect(page_b.locator("#live-room")).to_have_attribute("data-ws-state", "open")
    finally:
        for context in contexts:
            context.close()


def test_demoted_staff_studio_socket_closes_with_a_korean_message(
    asgi_live_server, browser, browser_context_args
):
    from accounts.services import user_save_by_admin
    from accounts.tests.factories import UserFactory
    from live.models import LiveStream

    stream = LiveStream.objects.create(title="스튜디오", status=LiveStream.Status.LIVE)
    seller = UserFactory(profile_complete=True, is_staff=True, is_superuser=True)
    context = browser.new_context(
        **{**browser_context_args, "viewport": {"width": 1440, "height": 900}}
    )
    try:
        login_browser(context, seller, asgi_live_server.url)
        page = context.new_page()
        page.goto(f"{asgi_live_server.url}/studio/{stream.pk}/")
        state = page.locator("[data-chat-state]")
        expect(state).to_have_text("연결됨")

        seller.is_staff = False
        user_save_by_admin(user=seller)

        expect(page.locator("#studio")).to_have_attribute("data-account-closed", "4002")
        expect(page.locator("[data-chat-error]")).to_have_text("관리자 권한이 해제되었습니다.")
        expect(page.locator("[data-chat-form] input[name=body]")).to_be_disabled()
    finally:
        context.close()
