"""Seller studio in a real browser: the stream's websocket refreshes live sales on order events,
shows chat as it arrives, and the seller deletes a message for everyone."""

from __future__ import annotations

import pytest

from e2e.conftest import login_browser


@pytest.fixture
def seller(transactional_db, django_user_model):
    return django_user_model.objects.create_user(
        "seller@example.com", is_staff=True, is_superuser=True
    )


def test_studio_follows_the_room_and_moderates_chat(asgi_live_server, page, context, seller):
    from dorami.realtime import publish, room_group
    from live.models import ChatMessage
    from live.services.stream import stream_create, stream_publish

    created = stream_create(title="스튜디오 테스트")
    stream = stream_publish(public_id=created.public_id, publish_key=created.publish_key)
    login_browser(context, seller, asgi_live_server.url)
    page.goto(f"{asgi_live_server.url}/studio/{stream.pk}/")
    page.wait_for_selector("[data-chat-state]:has-text('연결됨')", timeout=10_000)

    # an order in the room → the sales partial is fetched again right away
    with page.expect_request(lambda r: "partial=sales" in r.url, timeout=5_000):
        publish(group=room_group(stream.pk), event="order.created", data={"name": "민지"})

    # a chat message arrives over the websocket, escaped
    message = ChatMessage.objects.create(
        stream=stream, user=seller, display_name="민지", body="<b>안녕하세요</b>"
    )
    publish(
        group=room_group(stream.pk),
        event="chat.message",
        data={
            "id": message.pk,
            "user_id": seller.pk,
            "name": "민지",
            "body": message.body,
            "created_at": message.created_at.isoformat(),
        },
    )
    row = page.locator(f'[data-message-id="{message.pk}"]')
    row.wait_for(timeout=5_000)
    assert row.locator(".chat-body").inner_text() == "<b>안녕하세요</b>"

    # the seller deletes it: gone from the page, hidden in the database
    row.locator('[data-mod="delete"]').click()
    row.wait_for(state="detached", timeout=5_000)
    message.refresh_from_db()
    assert message.is_deleted


def test_studio_shows_obs_settings_and_a_new_key_replaces_the_old_one(
    asgi_live_server, page, context, seller
):
    from live.models import LiveStream
    from live.services.stream import stream_create

    stream = stream_create(title="OBS 설정 테스트")
    old_key = stream.publish_key
    login_browser(context, seller, asgi_live_server.url)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{asgi_live_server.url}/studio/{stream.pk}/")

    # OBS "Stream Key": the public id as stream name, the secret as ?key=
    key_field = page.locator("[data-testid=stream-key]")
    assert key_field.input_value() == f"{stream.public_id}?key={old_key}"
    assert page.locator("#obs-server").input_value().endswith(":1935/live")
    watch_link = page.locator("a", has_text="시청 페이지 열기")
    assert watch_link.get_attribute("href") == f"/live/{stream.public_id}/"

    # when: the seller issues a new key
    page.click("text=새 스트림 키 발급")
    page.wait_for_function(
        "old => !document.querySelector('[data-testid=stream-key]').value.includes(old)",
        arg=old_key,
        timeout=10_000,
    )

    # then: the field holds the new key, the public id is unchanged
    new_key = LiveStream.objects.get(pk=stream.pk).publish_key
    assert new_key != old_key
    assert key_field.input_value() == f"{stream.public_id}?key={new_key}"
    assert old_key not in page.content()
