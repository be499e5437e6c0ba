from __future__ import annotations

import json

import pytest
from django.test import Client

from api.services import api_token_create


class ApiClient:
    """JSON requests with a device token (or a session, or nobody)."""

    def __init__(self, *, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _send(self, method: str, path: str, data=None, headers=None, **extra):
        kwargs = {"headers": {**self.headers, **(headers or {})}, **extra}
        if data is not None:
            kwargs["data"] = json.dumps(data)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path, data=None, **kw):
        return self.client.get(path, data or {}, headers={**self.headers, **kw.pop("headers", {})})

    def post(self, path, data=None, **kw):
        return self._send("post", path, {} if data is None else data, **kw)

    def patch(self, path, data=None, **kw):
        return self._send("patch", path, {} if data is None else data, **kw)

    def delete(self, path, data=None, **kw):
        return self._send("delete", path, data, **kw)


def token_for(user, name: str = "테스트 기기") -> str:
    _token, raw = api_token_create(user=user, name=name)
    return raw


@pytest.fixture
def api(shopper) -> ApiClient:
    """The shopper's app, with a device token."""
    client = ApiClient(token=token_for(shopper))
    client.user = shopper
    return client


@pytest.fixture
def anon_api() -> ApiClient:
    return ApiClient()


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]
