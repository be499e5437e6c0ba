"""Streams and products: public reads, never a publish key."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from api.tests.conftest import error_of
from live.models import ChatMessage, LiveStream
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def show():
    stream = LiveStream.objects.create(
        title="금요 라이브", status=LiveStream.Status.LIVE, started_at=timezone.now()
    )
    product = ProductFactory(stream=stream, name="라이브 니트")
    VariantFactory(product=product, stock=3)
    return stream


def test_streams_list_current_detail_and_state_never_show_the_key(anon_api, show):
    answers = [
        anon_api.get("/api/v1/streams/"),
        anon_api.get("/api/v1/streams/current/"),
        anon_api.get(f"/api/v1/streams/{show.public_id}/"),
        anon_api.get(f"/api/v1/streams/{show.public_id}/state/"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 200]
    assert answers[0].json()["results"][0]["public_id"] == show.public_id
    assert answers[1].json()["public_id"] == show.public_id
    assert answers[2].json()["player"]["flv_url"].endswith(f"{show.public_id}.flv")
    state = answers[3].json()
    assert state["products"][0]["available"] == 3 and "seq" in state
    for response in answers:
        assert show.publish_key not in response.content.decode()


def test_unknown_stream_is_404_in_the_error_format(anon_api):
    response = anon_api.get("/api/v1/streams/nope/")
    assert response.status_code == 404
    assert error_of(response) == {"code": "NOT_FOUND", "message": "찾을 수 없습니다.", "fields": {}}


def test_no_current_stream_is_404(anon_api):
    assert anon_api.get("/api/v1/streams/current/").status_code == 404


def test_chat_history_pages_by_cursor_without_deleted_messages(anon_api, show):
    for n in range(5):
        ChatMessage.objects.create(stream=show, display_name="@a", body=f"메시지 {n}")
    ChatMessage.objects.create(stream=show, display_name="@a", body="지운 말", is_deleted=True)
    path = f"/api/v1/streams/{show.public_id}/chat/"
    page = anon_api.get(path, {"limit": 3}).json()
    assert [m["body"] for m in page["results"]] == ["메시지 4", "메시지 3", "메시지 2"]
    rest = anon_api.get(page["next"]).json()
    assert [m["body"] for m in rest["results"]] == ["메시지 1", "메시지 0"]


def test_products_list_filters_and_detail(anon_api, show):
    store = ProductFactory(name="스토어 가디건", timer_enabled=False)
    VariantFactory(product=store, stock=0)
    other = ProductFactory(name="스토어 셔츠")
    VariantFactory(product=other, stock=2)
    names = [p["name"] for p in anon_api.get("/api/v1/products/").json()["results"]]
    assert set(names) == {
        "스토어 가디건",
        "스토어 셔츠",
    }  # the live show's item is not in the store
    found = anon_api.get("/api/v1/products/", {"q": "가디건"}).json()["results"]
    assert [(p["name"], p["sold_out"]) for p in found] == [("스토어 가디건", True)]
    in_stock = anon_api.get("/api/v1/products/", {"in_stock": "true"}).json()["results"]
    assert [p["name"] for p in in_stock] == ["스토어 셔츠"]
    live = anon_api.get("/api/v1/products/", {"stream": show.public_id}).json()["results"]
    assert [(p["name"], p["stream_public_id"]) for p in live] == [("라이브 니트", show.public_id)]
    detail = anon_api.get(f"/api/v1/products/{other.pk}/").json()
    assert detail["variants"][0]["available"] == 2 and detail["price"] == "39.00"
    response = anon_api.get("/api/v1/products/999999/")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")
    response = anon_api.get("/api/v1/products/", {"page": 99})
    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "NOT_FOUND"
