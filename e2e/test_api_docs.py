"""The API's documentation page works in a browser under the site's CSP, with no CDN."""

from __future__ import annotations

from playwright.sync_api import expect


def test_swagger_ui_lists_the_api_under_the_csp(page, asgi_live_server, tmp_path):
    blocked: list[str] = []
    remote: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    page.on(
        "request",
        lambda r: remote.append(r.url) if not r.url.startswith(asgi_live_server.url) else None,
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(asgi_live_server.url + "/api/docs/")
    expect(page.get_by_text("Dorami API")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/checkout/").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "api-docs-1440.png"))
    assert blocked == []
    assert remote == []
