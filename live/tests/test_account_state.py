"""`live.selectors.account_state` (one prebuilt statement, made for every chat message and
logged-in join) answers what the ORM query it replaces answers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from live.models import ChatSanction, LiveStream
from live.selectors import account_state, account_state_query

pytestmark = pytest.mark.django_db


def both(stream_id: int, user_id: int):
    return (
        account_state(stream_id=stream_id, user_id=user_id),
        account_state_query(stream_id=stream_id, user_id=user_id),
    )


def test_the_statement_answers_like_the_orm_query_in_every_state():
    stream = LiveStream.objects.create(title="라이브", status=LiveStream.Status.LIVE)
    other = LiveStream.objects.create(title="다른 라이브", status=LiveStream.Status.LIVE)
    plain = UserFactory(profile_complete=True)
    banned = UserFactory(profile_complete=True)
    muted = UserFactory(profile_complete=True, is_staff=True)
    both_kinds = UserFactory(profile_complete=True)
    elsewhere = UserFactory(profile_complete=True)
    suspended = UserFactory(profile_complete=True, status="SUSPENDED", is_active=False)
    ChatSanction.objects.create(stream=stream, user=banned, kind=ChatSanction.Kind.BAN)
    ChatSanction.objects.create(stream=stream, user=muted, kind=ChatSanction.Kind.MUTE)
    ChatSanction.objects.create(stream=stream, user=both_kinds, kind=ChatSanction.Kind.BAN)
    ChatSanction.objects.create(stream=stream, user=both_kinds, kind=ChatSanction.Kind.MUTE)
    ChatSanction.objects.create(stream=other, user=elsewhere, kind=ChatSanction.Kind.BAN)
    suspended.session_version = 7
    suspended.save(update_fields=["session_version"])

    for user in (plain, banned, muted, both_kinds, elsewhere, suspended):
        fast, reference = both(stream.pk, user.pk)
        assert fast == reference, user
    assert both(stream.pk, banned.pk)[0]["banned"] is True
    assert both(stream.pk, muted.pk)[0] == {
        "status": muted.status,
        "is_active": True,
        "is_staff": True,
        "session_version": muted.session_version,
        "banned": False,
        "muted": True,
    }
    assert both(stream.pk, elsewhere.pk)[0]["banned"] is False  # banned in another show only
    assert both(stream.pk, suspended.pk)[0]["session_version"] == 7
    assert both(stream.pk, 987654321) == (None, None)


def test_one_query():
    stream = LiveStream.objects.create(title="라이브", status=LiveStream.Status.LIVE)
    user = UserFactory(profile_complete=True)
    with CaptureQueriesContext(connection) as queries:
        account_state(stream_id=stream.pk, user_id=user.pk)
    assert len(queries) == 1
