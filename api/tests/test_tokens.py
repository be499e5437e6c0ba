"""Device tokens: created once, hashed at rest, listed, revoked, dead with the account."""

from __future__ import annotations

import hashlib

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.services import user_sessions_end, user_suspend
from api.models import ApiToken
from api.tests.conftest import ApiClient, error_of, token_for
from api.websocket import SUBPROTOCOL
from dorami.asgi import application
from live.models import LiveStream

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/auth/tokens/"


def test_a_logged_in_shopper_creates_a_token_shown_once_and_stored_hashed(shopper):
    # given the shopper's logged-in browser
    browser = Client()
    browser.force_login(shopper)
    # when it asks for a token for a device
    response = ApiClient(client=browser).post(TOKENS, {"name": "내 아이폰"})
    # then the token is in the answer, and only its hash is in the database
    assert response.status_code == 201
    body = response.json()
    raw = body["token"]
    assert raw.startswith("drm_") and len(raw) > 40
    row = ApiToken.objects.get(pk=body["id"])
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=row.pk).values().first())
    # and the list shows the device, never the token
    listed = ApiClient(token=raw).get(TOKENS).json()
    assert [t["name"] for t in listed] == ["내 아이폰"]
    assert "token" not in listed[0] and body["prefix"] == listed[0]["prefix"]


def test_the_token_opens_the_api_and_revoking_it_closes_it(api):
    assert api.get("/api/v1/profile/").status_code == 200
    token_id = ApiToken.objects.get(user=api.user).pk
    # when the device's token is revoked
    assert api.delete(f"{TOKENS}{token_id}/").status_code == 204
    # then it no longer works
    response = api.get("/api/v1/profile/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "TOKEN_INVALID"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_another_users_token_cannot_be_revoked(api, user_factory):
    other = user_factory(profile_complete=True)
    token_for(other)
    theirs = ApiToken.objects.get(user=other)
    response = api.delete(f"{TOKENS}{theirs.pk}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "TOKEN_NOT_FOUND"
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("end", ["suspend", "log_out_everywhere"])
def test_a_token_dies_with_suspension_and_log_out_everywhere(api, end):
    if end == "suspend":
        user_suspend(user=api.user)
    else:
        user_sessions_end(user=api.user)
    response = api.get("/api/v1/profile/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "TOKEN_INVALID"


def test_an_unknown_token_is_refused_not_taken_for_a_guest():
    response = ApiClient(token="drm_nope").get("/api/v1/products/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "TOKEN_INVALID"


def test_token_creation_needs_a_login_and_a_name(anon_api, api):
    response = anon_api.post(TOKENS, {"name": "x"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "LOGIN_REQUIRED"
    response = api.post(TOKENS, {})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR" and "name" in error["fields"]


# --- the websocket ---------------------------------------------------------------------------


ORIGIN = (b"origin", b"http://localhost")


async def _connect(path: str, **kwargs) -> tuple[WebsocketCommunicator, bool, object]:
    kwargs["headers"] = [ORIGIN, *kwargs.get("headers", [])]
    communicator = WebsocketCommunicator(application, path, **kwargs)
    connected, subprotocol = await communicator.connect(timeout=5)
    return communicator, connected, subprotocol


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_page_socket_accepts_the_token_three_ways(shopper):
    raw = await database_sync_to_async(token_for)(shopper)
    ways = [
        ({"headers": [(b"authorization", f"Bearer {raw}".encode())]}, "/ws/events/"),
        ({"subprotocols": [SUBPROTOCOL, raw]}, "/ws/events/"),
        ({}, f"/ws/events/?token={raw}"),
    ]
    for kwargs, path in ways:
        communicator, connected, subprotocol = await _connect(path, **kwargs)
        # (a guest's socket asking for nothing is closed: accepted means the user is known)
        assert connected, kwargs
        if "subprotocols" in kwargs:
            assert subprotocol == SUBPROTOCOL
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_bad_token_is_refused_and_no_token_is_a_guest(shopper):
    communicator, connected, _sub = await _connect("/ws/events/")
    assert not connected  # a guest asking for nothing

    stream = await database_sync_to_async(LiveStream.objects.create)(title="라이브", status="LIVE")
    path = f"/ws/live/{stream.public_id}/"
    communicator, connected, _sub = await _connect(path)
    assert connected  # guests watch the live room
    await communicator.disconnect()
    communicator, connected, _sub = await _connect(f"{path}?token=drm_wrong")
    assert not connected
