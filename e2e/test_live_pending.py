from playwright.sync_api import expect

from live.models import LiveStream


def test_scheduled_show_says_not_started_instead_of_a_network_error(page, asgi_live_server):
    # given a scheduled show that has not gone live
    stream = LiveStream.objects.create(title="금요 신상 라이브")

    # when a viewer opens it and the player's first attempts fail (nothing is published)
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
    page.wait_for_timeout(4000)

    # then the page says the show has not started, never "network error"
    message = page.locator("[data-player-message]")
    expect(message).to_have_text("방송 시작 전입니다")
    expect(page.locator("video[data-player-state]")).to_have_attribute(
        "data-player-state", "connecting"
    )
    expect(page.get_by_text("네트워크 오류")).to_have_count(0)
