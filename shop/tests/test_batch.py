"""`cart_add_batch`: many adds in one transaction behave exactly like the same adds one by one."""

import random
import threading

import pytest
from django.db import DatabaseError, connections

from shop import services
from shop.models import CartLine, ProductVariant
from shop.services import AddRequest, InsufficientStock, ShopError, inventory
from shop.tests.checks import stock_held_lines
from shop.tests.factories import ProductFactory, VariantFactory
from shop.tests.test_realtime import _events, listen  # noqa: F401 (fixture)


def _codes(results):
    return [r.code if isinstance(r, ShopError) else r.quantity for r in results]


def _state(variant):
    variant = ProductVariant.objects.get(pk=variant.pk)
    lines = CartLine.objects.filter(variant=variant, status="ACTIVE")
    return variant.held, sorted((line.user_id, line.quantity) for line in lines)


@pytest.fixture
def shoppers(user_factory):
    return [user_factory(profile_complete=True) for _ in range(5)]


def test_arrival_order_decides_and_a_smaller_later_add_still_fits(shoppers, no_retries):
    a, b, c, d, _e = shoppers
    variant = VariantFactory(stock=3)
    requests = [AddRequest(a, variant.pk, 2), AddRequest(b, variant.pk, 2)]
    requests += [AddRequest(c, variant.pk, 1), AddRequest(d, variant.pk, 1)]
    no_retries()
    results = services.cart_add_batch(requests=requests)
    assert _codes(results) == [2, "INSUFFICIENT_STOCK", 1, "INSUFFICIENT_STOCK"]
    assert results[1].available == 1 and results[3].available == 0
    assert _state(variant) == (3, sorted([(a.pk, 2), (c.pk, 1)]))


@pytest.fixture
def no_retries(monkeypatch):
    """Call it right before a batch: the test then fails if the batch's transaction failed
    and its adds were retried one by one (correct results that hide a broken statement)."""
    from shop.services import cart

    def retried(cleaned):
        raise AssertionError("the batch failed and was retried add by add")

    return lambda: monkeypatch.setattr(cart, "_adds_commit_retrying", retried)


def test_a_group_on_an_untimed_product_holds_without_a_timer(shoppers, no_retries):
    variant = VariantFactory(product=ProductFactory(timer_enabled=False), stock=5)
    no_retries()
    results = services.cart_add_batch(requests=[AddRequest(u, variant.pk, 1) for u in shoppers])
    assert _codes(results) == [1] * 5 and all(line.expires_at is None for line in results)
    assert not CartLine.objects.filter(variant=variant, expires_at__isnull=False).exists()


def test_the_same_shopper_twice_sums_into_one_line(shoppers, no_retries):
    a, b, *_rest = shoppers
    variant = VariantFactory(stock=10)
    requests = [AddRequest(a, variant.pk, 1), AddRequest(b, variant.pk, 4)]
    requests += [AddRequest(a, variant.pk, 2)]
    no_retries()
    results = services.cart_add_batch(requests=requests)
    assert _codes(results) == [1, 4, 3]  # each answer: the line after that add
    assert results[0].pk == results[2].pk
    assert _state(variant) == (7, sorted([(a.pk, 3), (b.pk, 4)]))


def test_bad_input_and_unavailable_variants_fail_alone(shoppers):
    a, b, c, d, e = shoppers
    variant = VariantFactory(stock=5)
    hidden = VariantFactory(product=ProductFactory(hidden_from_store=True), stock=5)
    requests = [
        AddRequest(a, variant.pk, "x"),
        AddRequest(b, "nope", 1),
        AddRequest(c, hidden.pk, 1),
        AddRequest(d, hidden.pk, 1),
        AddRequest(e, variant.pk, 1),
    ]
    results = services.cart_add_batch(requests=requests)
    assert _codes(results) == [
        "INVALID_QUANTITY",
        "VARIANT_UNAVAILABLE",
        "VARIANT_UNAVAILABLE",
        "VARIANT_UNAVAILABLE",
        1,
    ]
    assert _state(variant) == (1, [(e.pk, 1)]) and _state(hidden) == (0, [])


def test_a_per_user_limit_is_kept_in_a_batch(shoppers):
    from core.models import get_config

    a, b, *_rest = shoppers
    config = get_config()
    config.max_per_user = 2
    config.save()
    variant = VariantFactory(stock=10)
    requests = [AddRequest(a, variant.pk, 2), AddRequest(a, variant.pk, 1)]
    requests += [AddRequest(b, variant.pk, 1)]
    results = services.cart_add_batch(requests=requests)
    assert _codes(results) == [2, "MAX_PER_USER_EXCEEDED", 1]


def test_an_own_overdue_line_skipped_by_the_lazy_release_is_replaced(shoppers, monkeypatch):
    from django.utils import timezone

    a, b, *_rest = shoppers
    variant = VariantFactory(stock=5)
    services.cart_add(user=a, variant_id=variant.pk, quantity=2)
    CartLine.objects.filter(user=a).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    real = inventory.overdue_expire
    calls = []

    def skipped_once(**kwargs):  # as if another transaction held the line (SKIP LOCKED)
        calls.append(kwargs)
        return 0 if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(inventory, "overdue_expire", skipped_once)
    results = services.cart_add_batch(
        requests=[AddRequest(a, variant.pk, 1), AddRequest(b, variant.pk, 1)]
    )
    assert _codes(results) == [1, 1]
    assert _state(variant) == (2, sorted([(a.pk, 1), (b.pk, 1)]))
    assert CartLine.objects.filter(user=a, status="EXPIRED").count() == 1


def test_overdue_lines_are_released_before_a_group_is_measured(shoppers, no_retries):
    from django.utils import timezone

    a, b, c, *_rest = shoppers
    variant = VariantFactory(stock=3)
    services.cart_add(user=c, variant_id=variant.pk, quantity=2)
    CartLine.objects.filter(user=c).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    no_retries()
    results = services.cart_add_batch(
        requests=[AddRequest(a, variant.pk, 2), AddRequest(b, variant.pk, 1)]
    )
    assert _codes(results) == [2, 1]  # c's 2 overdue units were free again
    assert _state(variant) == (3, sorted([(a.pk, 2), (b.pk, 1)]))
    assert CartLine.objects.get(user=c).status == "EXPIRED"


@pytest.mark.django_db(transaction=True)
def test_a_commit_that_may_have_happened_is_never_retried(shoppers, monkeypatch):
    from django.db import OperationalError

    variant = VariantFactory(stock=10)
    wrapper = connections["default"]
    real = wrapper._commit

    def commits_then_fails():
        real()
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(wrapper, "_commit", commits_then_fails)
    results = services.cart_add_batch(
        requests=[AddRequest(user, variant.pk, 1) for user in shoppers[:3]]
    )
    monkeypatch.undo()
    wrapper.close()
    assert _codes(results) == ["ADD_UNCONFIRMED"] * 3
    assert _state(variant)[0] == 3  # committed once, not replayed


def test_a_failed_batch_is_retried_add_by_add(shoppers, monkeypatch):
    variant = VariantFactory(stock=2)
    real = inventory.variant_hold_with_lines
    calls = []

    def fails_first(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr(inventory, "variant_hold_with_lines", fails_first)
    results = services.cart_add_batch(
        requests=[AddRequest(user, variant.pk, 1) for user in shoppers[:3]]
    )
    assert _codes(results) == [1, 1, "INSUFFICIENT_STOCK"]
    assert isinstance(results[2], InsufficientStock) and len(calls) == 1
    assert _state(variant)[0] == 2


@pytest.mark.django_db(transaction=True)
def test_one_stock_event_per_variant_and_one_activity_line_per_product(listen, shoppers):  # noqa: F811
    from dorami.realtime import STORE_GROUP

    variant = VariantFactory(product=ProductFactory(name="니트"), stock=10)
    drain = listen(STORE_GROUP)
    services.cart_add_batch(requests=[AddRequest(user, variant.pk, 1) for user in shoppers])
    events = _events(drain())
    assert [name for name, _data in events] == ["stock.changed", "cart.activity"]
    assert events[0][1]["available"] == 5
    assert events[1][1]["name"] == shoppers[0].display_name and events[1][1]["others"] == 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_never_oversell(user_factory):
    variants = [VariantFactory(stock=9), VariantFactory(stock=4)]
    users = [user_factory(profile_complete=True) for _ in range(40)]
    failures = []

    def worker(seed):
        rng = random.Random(seed)
        try:
            for _ in range(6):
                batch = [
                    AddRequest(rng.choice(users), rng.choice(variants).pk, rng.randint(1, 2))
                    for _ in range(rng.randint(1, 12))
                ]
                for result in services.cart_add_batch(requests=batch):
                    if isinstance(result, Exception) and not isinstance(result, ShopError):
                        failures.append(repr(result))
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    for variant in variants:
        stock, held, lines = stock_held_lines(variant.pk)
        assert held == lines <= stock and held == stock  # 40 shoppers want more than there is


def test_an_add_aborted_to_break_a_deadlock_runs_once_more(shoppers, monkeypatch):
    from django.db import OperationalError

    from shop.services import cart

    variant = VariantFactory(stock=5)
    real = cart._adds_run
    calls = []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def aborted_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return real(*args)

    monkeypatch.setattr(cart, "_adds_run", aborted_once)
    line = services.cart_add(user=shoppers[0], variant_id=variant.pk, quantity=2)
    assert line.quantity == 2 and len(calls) == 2

    def broken(*args):
        calls.append(1)
        raise OperationalError("server closed the connection")

    calls.clear()
    monkeypatch.setattr(cart, "_adds_run", broken)
    with pytest.raises(OperationalError):  # any other database error is not retried
        services.cart_add(user=shoppers[1], variant_id=variant.pk, quantity=1)
    assert len(calls) == 1
