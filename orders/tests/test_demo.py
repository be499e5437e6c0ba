from django.core.management import call_command
from django.db.models import Sum

from orders.models import Order
from points.models import PointBalance, PointTransaction


def test_seed_demo_makes_orders_in_every_status_once(db):
    call_command("seed_demo")
    first = Order.objects.count()
    call_command("seed_demo")
    assert Order.objects.count() == first == 10
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(Order.Status.values)
    for row in PointBalance.objects.all():
        ledger = PointTransaction.objects.filter(user_id=row.user_id).aggregate(s=Sum("amount"))
        assert row.balance == ledger["s"]
