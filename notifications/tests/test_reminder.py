from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import triggers
from notifications.models import Channel, NotificationSend
from orders.models import Order
from orders.services import unpaid_reminders_send
from orders.tests.factories import make_order
from shop.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_unpaid_order(shopper):
    order = make_order(user=shopper, items=[(VariantFactory(stock=5), 1)])
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=7))
    return order


def test_reminder_job_pushes_exactly_once(
    vapid, subscribe, shopper, push_server, old_unpaid_order, django_capture_on_commit_callbacks
):
    subscribe(shopper)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            unpaid_reminders_send()
    assert len(push_server.requests) == 1
    send = NotificationSend.objects.get(channel=Channel.PUSH)
    assert send.dedupe_key == f"payment_reminder:{old_unpaid_order.order_id}"
    assert send.status == NotificationSend.Status.SENT
    assert old_unpaid_order.order_id in send.body
    # Alimtalk is off by default: recorded as skipped, not sent.
    alimtalk = NotificationSend.objects.get(channel=Channel.ALIMTALK)
    assert alimtalk.status == NotificationSend.Status.SKIPPED


def test_the_trigger_itself_is_deduplicated(
    vapid, subscribe, shopper, push_server, old_unpaid_order, django_capture_on_commit_callbacks
):
    subscribe(shopper)
    with django_capture_on_commit_callbacks(execute=True):
        triggers.payment_reminder(old_unpaid_order)
        triggers.payment_reminder(old_unpaid_order)
    assert len(push_server.requests) == 1
