from playwright.sync_api import expect


def test_home_renders_in_a_phone_browser(page, asgi_live_server):
    page.goto(asgi_live_server.url + "/")
    expect(page.get_by_text("예정된 라이브가 없습니다")).to_be_visible()
    expect(page.locator("nav.tabbar")).to_contain_text("마이페이지")
