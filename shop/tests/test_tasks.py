from datetime import timedelta

import pytest
from django.utils import timezone

from dorami.celery import BEAT_SCHEDULE
from shop import services, tasks
from shop.models import CartLine
from shop.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


def test_holds_expire_runs_every_minute():
    assert BEAT_SCHEDULE["cart-holds-expire"] == {
        "task": "shop.tasks.holds_expire",
        "schedule": 60.0,
    }
    assert tasks.holds_expire.name == "shop.tasks.holds_expire"


def test_task_releases_overdue_lines_once(shopper):
    variant = VariantFactory(stock=2)
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    CartLine.objects.filter(pk=line.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.holds_expire.apply().get() == 1
    assert tasks.holds_expire.apply().get() == 0  # a doubled run is harmless
    variant.refresh_from_db()
    assert variant.held == 0
