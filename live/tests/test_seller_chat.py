"""The seller chats from the studio without a shopper profile, under the seller's name with a
badge; shoppers still need their profile. Real PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.permissions import PROFILE_INCOMPLETE, can_buy_or_chat, can_chat
from core.models import SystemConfig, get_config
from live import presence
from live.models import ChatMessage
from live.tests.test_consumers import (  # noqa: F401 - the autouse fixture releases the hub
    _release_hub,
    is_error,
    is_event,
    join,
    make_stream,
    make_user,
    next_frame,
)

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def set_business_name(name: str) -> None:
    config = get_config()
    SystemConfig.objects.filter(pk=config.pk).update(business_name=name)
    from django.core.cache import cache

    cache.clear()


async def test_staff_without_profile_chats_as_the_seller_with_a_badge():
    # given a staff member without a shopper profile, and a shopper watching
    stream = await make_stream()
    seller = await make_user(is_staff=True, profile_complete=False)
    shopper = await make_user()
    await set_business_name("도라미 샵")
    studio = await join(stream, user=seller)
    viewer = await join(stream, user=shopper)
    assert studio.hello["can_chat"] is True

    # when the seller sends a message from the studio socket
    await studio.send_json_to({"type": "chat", "body": "곧 신상 나갑니다"})

    # then every viewer gets it under the business name, marked as the seller's
    frame = await next_frame(viewer, is_event("chat.message"))
    assert frame["data"]["name"] == "도라미 샵"
    assert frame["data"]["seller"] is True
    stored = await database_sync_to_async(ChatMessage.objects.get)(pk=frame["data"]["id"])
    assert (stored.display_name, stored.is_seller) == ("도라미 샵", True)

    # a shopper's message is not
    await viewer.send_json_to({"type": "chat", "body": "와 기대돼요"})
    frame = await next_frame(studio, lambda f: f.get("data", {}).get("body") == "와 기대돼요")
    assert frame["data"]["seller"] is False
    assert frame["data"]["name"] == shopper.instagram_id
    for comm in (studio, viewer):
        await comm.disconnect()


async def test_seller_name_falls_back_to_판매자():
    stream = await make_stream()
    seller = await make_user(is_staff=True, profile_complete=False)
    await set_business_name("  ")
    studio = await join(stream, user=seller)
    await studio.send_json_to({"type": "chat", "body": "안녕하세요"})
    frame = await next_frame(studio, is_event("chat.message"))
    assert frame["data"]["name"] == "판매자"
    await studio.disconnect()


async def test_shopper_without_profile_still_cannot_chat():
    stream = await make_stream()
    shopper = await make_user(profile_complete=False)
    comm = await join(stream, user=shopper)
    assert comm.hello["can_chat"] is False
    await comm.send_json_to({"type": "chat", "body": "안녕"})
    await next_frame(comm, is_error("PROFILE_INCOMPLETE"))
    await comm.disconnect()


async def test_a_join_records_the_viewer_count_for_the_studio_chart():
    stream = await make_stream()
    comm = await join(stream, guest="guestkey-chart1")
    await next_frame(comm, is_event("viewers"))  # announced (and recorded) in one pipeline
    history = await database_sync_to_async(presence.viewer_history)(stream.pk)
    assert [count for _minute, count in history] == [1]
    assert history[0][0] % 60 == 0
    await comm.disconnect()


def test_staff_skip_the_profile_for_chat_only(user_factory):
    seller = user_factory(is_staff=True, profile_complete=False)
    assert can_chat(seller) is None
    assert can_buy_or_chat(seller) == PROFILE_INCOMPLETE  # buying still needs it
    shopper = user_factory(profile_complete=False)
    assert can_chat(shopper) == PROFILE_INCOMPLETE
