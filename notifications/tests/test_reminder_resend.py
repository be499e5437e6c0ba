"""Staff's "입금 안내 다시 보내기" reaches the shopper's browser again: each request has its own
dedupe key, while the scheduled reminder still goes out once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Channel, NotificationSend
from orders.services import order_remind_unpaid
from orders.tests.factories import make_order
from shop.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


def test_each_resend_is_pushed_once_more(
    vapid, subscribe, shopper, push_server, staff_client, django_capture_on_commit_callbacks
):
    subscribe(shopper)
    order = make_order(user=shopper, items=[(VariantFactory(stock=5), 1)])
    # the scheduled reminder, twice (the job is idempotent): one push
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            order_remind_unpaid(order=order.pk)
    assert len(push_server.requests) == 1
    # two staff resends: one push each
    url = reverse("admin:orders_order_remind", args=[order.pk])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert staff_client.post(url).status_code == 302
    assert len(push_server.requests) == 3
    pushes = NotificationSend.objects.filter(channel=Channel.PUSH).order_by("pk")
    keys = [send.dedupe_key for send in pushes]
    assert keys[0] == f"payment_reminder:{order.order_id}"
    assert all(key.startswith(f"payment_reminder:{order.order_id}:resend:") for key in keys[1:])
    assert len(set(keys)) == 3
    assert all(send.status == NotificationSend.Status.SENT for send in pushes)
    assert all(order.order_id in send.body for send in pushes)


def test_a_refused_resend_sends_nothing(
    vapid, subscribe, shopper, push_server, staff_client, django_capture_on_commit_callbacks
):
    subscribe(shopper)
    order = make_order(user=shopper, items=[(VariantFactory(stock=5), 1)], status="CANCELLED")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:orders_order_remind", args=[order.pk]))
    assert push_server.requests == []
    assert not NotificationSend.objects.exists()
