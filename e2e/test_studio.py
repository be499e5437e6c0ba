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

    stream = stream_publish(stream_key=stream_create(title="스튜디오 테스트").stream_key)
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
