"""Races on real PostgreSQL: many threads, then the invariant checked in SQL."""

import contextlib
import random
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from shop import services
from shop.models import CartLine, WaitlistEntry
from shop.services import ShopError
from shop.tests.factories import VariantFactory

THREADS = 50


def _run_threads(count, target):
    barrier = threading.Barrier(count)
    failures = []

    def runner(index):
        try:
            barrier.wait()
            target(index)
        except Exception as exc:  # anything but a domain error is a bug
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:5]


def _sql_one(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_random_adds_removes_and_expiries_never_oversell(user_factory):
    variant = VariantFactory(stock=7)
    users = [user_factory(profile_complete=True) for _ in range(THREADS)]

    def shopper(index):
        rng = random.Random(index)
        user = users[index]
        for _ in range(12):
            action = rng.random()
            try:
                if action < 0.5:
                    services.cart_add(user=user, variant_id=variant.pk, quantity=rng.randint(1, 3))
                elif action < 0.65:
                    line = CartLine.objects.filter(user=user, status="ACTIVE").first()
                    if line:
                        services.cart_line_remove(user=user, line_id=line.pk)
                elif action < 0.75:
                    line = CartLine.objects.filter(user=user, status="ACTIVE").first()
                    if line:
                        services.cart_line_update(
                            user=user, line_id=line.pk, quantity=rng.randint(1, 4)
                        )
                elif action < 0.9:
                    # this shopper's timer runs out; the job may or may not run before others add
                    CartLine.objects.filter(user=user, status="ACTIVE").update(
                        expires_at=timezone.now() - timedelta(seconds=1)
                    )
                else:
                    services.holds_expire()
            except ShopError:
                pass

    _run_threads(THREADS, shopper)

    # held is exactly the sum of the ACTIVE lines, and never above stock
    held, stock, active = _sql_one(
        "SELECT v.held, v.stock, COALESCE(SUM(l.quantity), 0) FROM shop_productvariant v "
        "LEFT JOIN shop_cartline l ON l.variant_id = v.id AND l.status = 'ACTIVE' "
        "WHERE v.id = %s GROUP BY v.id",
        [variant.pk],
    )
    assert held == active <= stock == 7
    # after the (late) job: held == Σ active unexpired lines
    services.holds_expire()
    held, unexpired = _sql_one(
        "SELECT v.held, COALESCE(SUM(l.quantity), 0) FROM shop_productvariant v "
        "LEFT JOIN shop_cartline l ON l.variant_id = v.id AND l.status = 'ACTIVE' "
        "AND (l.expires_at IS NULL OR l.expires_at > now()) WHERE v.id = %s GROUP BY v.id",
        [variant.pk],
    )
    assert held == unexpired <= 7
    assert CartLine.objects.filter(status__in=["EXPIRED", "REMOVED"]).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_the_last_units(user_factory):
    variant = VariantFactory(stock=7)
    users = [user_factory(profile_complete=True) for _ in range(THREADS)]
    won = []

    def buy(index):
        try:
            services.cart_add(user=users[index], variant_id=variant.pk, quantity=1)
            won.append(index)
        except services.InsufficientStock:
            pass

    _run_threads(THREADS, buy)
    variant.refresh_from_db()
    assert len(won) == variant.held == 7
    assert CartLine.objects.filter(status="ACTIVE").count() == 7


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_cap")
def test_same_shopper_double_click_makes_one_line(shopper):
    variant = VariantFactory(stock=100)

    def add(_index):
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)

    _run_threads(20, add)
    line = CartLine.objects.get(user=shopper, status="ACTIVE")
    variant.refresh_from_db()
    assert line.quantity == variant.held == 20


def _promotion_round(user_factory, seed: int) -> None:
    variant = VariantFactory(stock=1)
    holder = user_factory(profile_complete=True)
    line = services.cart_add(user=holder, variant_id=variant.pk, quantity=1)
    waiting = [user_factory(profile_complete=True) for _ in range(3)]
    entries = [services.waitlist_join(user=u, variant_id=variant.pk, quantity=1) for u in waiting]
    actions = [
        lambda: services.cart_line_remove(user=holder, line_id=line.pk),
        lambda: services.waitlist_cancel(user=waiting[0], entry_id=entries[0].pk),
        lambda: services.waitlist_promote(variant_id=variant.pk),
        lambda: services.waitlist_promote(variant_id=variant.pk),
        lambda: services.holds_expire(),
        lambda: services.waitlist_cancel(user=waiting[1], entry_id=entries[1].pk),
    ]
    random.Random(seed).shuffle(actions)

    def act(index):
        with contextlib.suppress(ShopError):
            actions[index]()

    _run_threads(len(actions), act)
    variant.refresh_from_db()
    active = CartLine.objects.filter(variant=variant, status="ACTIVE")
    assert variant.held == sum(line.quantity for line in active) <= variant.stock == 1
    promoted = WaitlistEntry.objects.filter(variant=variant, status="PROMOTED")
    assert promoted.count() <= 1
    for entry in promoted:  # a promoted entry always has its hold
        assert active.filter(waitlist_entry=entry).count() == 1
    if variant.held == 0:  # a freed unit is never lost while someone waits
        services.holds_expire()
        variant.refresh_from_db()
        still_waiting = WaitlistEntry.objects.filter(variant=variant, status="WAITING")
        assert variant.held == 1 or not still_waiting.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_promotion_and_cancel_never_promote_twice(user_factory):
    for seed in range(8):
        _promotion_round(user_factory, seed)
