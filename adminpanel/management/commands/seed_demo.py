"""Idempotent demo data: an admin, shoppers, and (as the apps grow) products, streams, orders."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from core.models import get_config
from live import demo as live_demo
from orders import demo as orders_demo
from shop import demo as shop_demo


class Command(BaseCommand):
    help = "Create demo data (safe to run again: existing rows are kept)."

    @transaction.atomic
    def handle(self, *args, **options):
        get_config()
        result = accounts_demo.seed_accounts()
        shop_demo.seed_shop()
        stream = live_demo.seed_live()
        shop_demo.seed_shop(stream=stream)
        orders_demo.seed_orders()
        self.stdout.write(
            self.style.SUCCESS(
                f"demo ready: admin {accounts_demo.ADMIN_EMAIL} / {accounts_demo.ADMIN_PASSWORD}, "
                f"{len(result['shoppers'])} shoppers"
            )
        )
