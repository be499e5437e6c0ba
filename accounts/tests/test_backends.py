"""The authentication backends' one-statement `get_user`, and sessions made before them."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.backends import AuthenticationBackend, ModelBackend
from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("backend_class", [ModelBackend, AuthenticationBackend])
def test_get_user_is_the_orm_user_in_one_query(backend_class, user_factory):
    user = user_factory(profile_complete=True)
    with CaptureQueriesContext(connection) as queries:
        found = backend_class().get_user(user.pk)
    assert len(queries) == 1
    expected = User.objects.get(pk=user.pk)
    assert isinstance(found, User)
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.get_session_auth_hash() == expected.get_session_auth_hash()
    assert found.shipping_address == expected.shipping_address


@pytest.mark.parametrize("user_id", [10**9, "not a number", None, "1; DROP TABLE x"])
def test_get_user_of_nobody_is_none(user_id):
    assert ModelBackend().get_user(user_id) is None


def test_inactive_user_is_not_returned(user_factory):
    user = user_factory(is_active=False)
    assert ModelBackend().get_user(user.pk) is None
    assert ModelBackend().get_user(str(user.pk)) is None


def _session_with_backend(user, backend_path: str) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = backend_path
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("django.contrib.auth.backends.ModelBackend", "accounts.backends.ModelBackend"),
        (
            "allauth.account.auth_backends.AuthenticationBackend",
            "accounts.backends.AuthenticationBackend",
        ),
    ],
)
def test_session_of_a_replaced_backend_stays_logged_in_and_moves(old, new, shopper):
    # given a session made when the backend had its old name
    key = _session_with_backend(shopper, old)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key

    # when the shopper opens a page that needs a login
    response = client.get("/my/")

    # then they are still logged in, and the session now names the new backend
    assert response.status_code == 200
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    assert store[BACKEND_SESSION_KEY] == new
    assert client.get("/my/").status_code == 200


def test_an_unknown_backend_path_is_still_refused(shopper):
    key = _session_with_backend(shopper, "somewhere.else.Backend")
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    response = client.get("/my/")
    assert response.status_code == 302
