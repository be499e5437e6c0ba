"""Lock order on real PostgreSQL: variants before cart lines, everywhere in `holds`.

An add locks the variant (its conditional UPDATE) and then the shopper's own line (the upsert).
Anything that locked a line first and then waited for the variant could deadlock with it: the
lazy expiry of another shopper's add or quantity change, or the periodic job, locking this
shopper's overdue line. Each test holds the variant lock in one transaction, lets the other
path run into it in a thread, and checks that the waiting path holds no line lock meanwhile."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.utils import OperationalError
from django.utils import timezone

from shop import services
from shop.models import CartLine
from shop.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_until_blocked(failures: list, timeout: float = 10.0) -> None:
    """Until another backend of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not failures:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a fresh view inside the atomic
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"the other path never waited for the variant: {failures}")


def _overdue_line(user, variant) -> CartLine:
    line = services.cart_add(user=user, variant_id=variant.pk, quantity=1)
    CartLine.objects.filter(pk=line.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return line


def _run_against_a_held_variant(variant, overdue_line, path) -> None:
    failures = []

    def other():
        try:
            path()
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            connections.close_all()

    with transaction.atomic():
        # what an add of the overdue line's owner does first: lock the variant row
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM shop_productvariant WHERE id = %s FOR UPDATE", [variant.pk]
            )
        thread = threading.Thread(target=other)
        thread.start()
        _wait_until_blocked(failures)
        # then its upsert needs its own line: it must be free (NOWAIT fails if it is not)
        with connection.cursor() as cursor:
            try:
                cursor.execute(
                    "SELECT 1 FROM shop_cartline WHERE id = %s FOR UPDATE NOWAIT",
                    [overdue_line.pk],
                )
            except OperationalError as error:
                raise AssertionError("a line was locked before its variant") from error
    thread.join(timeout=30)
    assert not failures, failures


def test_the_expiry_job_locks_the_variant_before_the_overdue_lines(user_factory):
    variant = VariantFactory(stock=5)
    line = _overdue_line(user_factory(profile_complete=True), variant)
    _run_against_a_held_variant(variant, line, lambda: services.holds_expire())
    assert CartLine.objects.get(pk=line.pk).status == "EXPIRED"


def test_a_quantity_change_locks_the_variant_before_any_line(user_factory):
    variant = VariantFactory(stock=5)
    line = _overdue_line(user_factory(profile_complete=True), variant)
    other = user_factory(profile_complete=True)
    own = services.cart_add(user=other, variant_id=variant.pk, quantity=1)

    def change():
        services.cart_line_update(user=other, line_id=own.pk, quantity=2)

    _run_against_a_held_variant(variant, line, change)
    assert CartLine.objects.get(pk=own.pk).quantity == 2
    assert CartLine.objects.get(pk=line.pk).status == "EXPIRED"


def test_clearing_a_cart_locks_the_variant_before_its_lines(user_factory):
    variant = VariantFactory(stock=5)
    user = user_factory(profile_complete=True)
    line = services.cart_add(user=user, variant_id=variant.pk, quantity=1)
    _run_against_a_held_variant(variant, line, lambda: services.cart_clear(user=user))
    assert CartLine.objects.get(pk=line.pk).status == "REMOVED"
