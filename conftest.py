"""Project-wide test fixtures. Tests run on real PostgreSQL and Redis (see Makefile)."""

import os

import pytest

os.environ.setdefault("DORAMI_TESTING", "1")


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Each test starts with an empty cache/Redis database (sequence numbers, rate limits)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    """Uploaded and generated files (product pictures) go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture
def user_factory(db):
    from accounts.tests.factories import UserFactory

    return UserFactory


@pytest.fixture
def shopper(db):
    """A logged-in-able shopper with a complete profile."""
    from accounts.tests.factories import UserFactory

    return UserFactory(profile_complete=True)


@pytest.fixture
def staff_user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True, profile_complete=True)


@pytest.fixture
def shopper_client(client, shopper):
    client.force_login(shopper)
    client.user = shopper
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.user = staff_user
    return client
