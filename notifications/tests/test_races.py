"""The same message triggered at the same moment by two processes goes out once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from notifications.models import Channel, Kind, NotificationSend
from notifications.services import notify

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_notify_with_one_key_creates_one_row_per_channel(user_factory):
    shopper = user_factory(profile_complete=True)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            notify(
                user=shopper,
                kind=Kind.PAYMENT_CONFIRMED,
                context={"order_id": "D1", "total": "$1.00", "points_earned": "1"},
                dedupe_key="payment_confirmed:D1",
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT channel, count(*) FROM notifications_notificationsend "
            "WHERE dedupe_key = %s GROUP BY channel ORDER BY channel",
            ["payment_confirmed:D1"],
        )
        assert cursor.fetchall() == [(Channel.ALIMTALK, 1), (Channel.PUSH, 1)]
    assert NotificationSend.objects.count() == 2
