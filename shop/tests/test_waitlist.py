"""SPEC §4: the waitlist (예비번호)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shop import services
from shop.models import CartLine, WaitlistEntry
from shop.selectors import waitlist_entries, waitlist_position
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_unit(user_factory):
    """A variant whose only unit is in shopper A's cart."""
    variant = VariantFactory(stock=1)
    holder = user_factory(profile_complete=True)
    line = services.cart_add(user=holder, variant_id=variant.pk, quantity=1)
    return variant, holder, line


def _status(entry) -> str:
    entry.refresh_from_db()
    return entry.status


def test_join_only_when_short(shopper):
    variant = VariantFactory(stock=3)
    with pytest.raises(services.WaitlistNotNeeded) as exc:
        services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=3)
    assert exc.value.code == "WAITLIST_NOT_NEEDED"
    entry = services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=4)
    assert entry.status == "WAITING"


def test_second_entry_for_the_same_product_is_refused(shopper):
    product = ProductFactory()
    first = VariantFactory(product=product, stock=0)
    second = VariantFactory(product=product, stock=0)
    services.waitlist_join(user=shopper, variant_id=first.pk, quantity=1)
    with pytest.raises(services.WaitlistExists) as exc:
        services.waitlist_join(user=shopper, variant_id=second.pk, quantity=1)
    assert exc.value.code == "WAITLIST_ALREADY_JOINED"


def test_numbers_and_positions_start_at_1_per_product(user_factory):
    a, b = VariantFactory(stock=0), VariantFactory(stock=0)
    users = [user_factory() for _ in range(3)]
    entries = [services.waitlist_join(user=u, variant_id=a.pk, quantity=1) for u in users]
    other = services.waitlist_join(user=users[0], variant_id=b.pk, quantity=1)
    assert [e.number for e in entries] == [1, 2, 3]
    assert other.number == 1
    assert [waitlist_position(entry=e) for e in entries] == [1, 2, 3]
    services.waitlist_cancel(user=users[0], entry_id=entries[0].pk)
    assert waitlist_position(entry=entries[2]) == 2
    listed = waitlist_entries(user=users[2])
    assert listed[0].position == 2


@pytest.mark.parametrize("quantity", [0, 11, -1, "x"])
def test_waitlist_quantity_must_be_1_to_10(shopper, quantity):
    variant = VariantFactory(stock=0)
    with pytest.raises(services.InvalidQuantity):
        services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=quantity)


def test_removal_promotes_the_first_waiting_entry_into_the_cart(shopper, last_unit):
    variant, holder, line = last_unit
    entry = services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=1)
    before = timezone.now()
    services.cart_line_remove(user=holder, line_id=line.pk)
    entry.refresh_from_db()
    assert entry.status == "PROMOTED"
    promoted_line = CartLine.objects.get(user=shopper, status="ACTIVE")
    assert promoted_line.waitlist_entry_id == entry.pk
    assert promoted_line.expires_at >= before + timedelta(minutes=10)
    variant.refresh_from_db()
    assert variant.held == 1


def test_promotion_never_exceeds_the_freed_units(user_factory, last_unit):
    variant, holder, line = last_unit
    first, second = user_factory(), user_factory()
    e1 = services.waitlist_join(user=first, variant_id=variant.pk, quantity=1)
    e2 = services.waitlist_join(user=second, variant_id=variant.pk, quantity=1)
    services.cart_line_remove(user=holder, line_id=line.pk)
    assert (_status(e1), _status(e2)) == ("PROMOTED", "WAITING")
    variant.refresh_from_db()
    assert variant.held == variant.stock == 1


def test_entries_that_do_not_fit_keep_their_number(user_factory, last_unit):
    variant, holder, line = last_unit
    big, small = user_factory(), user_factory()
    e_big = services.waitlist_join(user=big, variant_id=variant.pk, quantity=2)
    e_small = services.waitlist_join(user=small, variant_id=variant.pk, quantity=1)
    services.cart_line_remove(user=holder, line_id=line.pk)
    assert (_status(e_big), _status(e_small)) == ("WAITING", "PROMOTED")


def test_cancelling_a_waiting_entry_promotes_no_one(user_factory, last_unit):
    variant, _holder, _line = last_unit
    first, second = user_factory(), user_factory()
    e1 = services.waitlist_join(user=first, variant_id=variant.pk, quantity=1)
    e2 = services.waitlist_join(user=second, variant_id=variant.pk, quantity=1)
    services.waitlist_cancel(user=first, entry_id=e1.pk)
    assert (_status(e1), _status(e2)) == ("CANCELLED", "WAITING")
    assert not CartLine.objects.filter(user=second).exists()


def test_cancelling_a_promoted_entry_promotes_the_next(user_factory, last_unit):
    variant, holder, line = last_unit
    first, second = user_factory(), user_factory()
    e1 = services.waitlist_join(user=first, variant_id=variant.pk, quantity=1)
    e2 = services.waitlist_join(user=second, variant_id=variant.pk, quantity=1)
    services.cart_line_remove(user=holder, line_id=line.pk)
    assert _status(e1) == "PROMOTED"
    services.waitlist_cancel(user=first, entry_id=e1.pk)
    assert (_status(e1), _status(e2)) == ("CANCELLED", "PROMOTED")
    assert not CartLine.objects.filter(user=first, status="ACTIVE").exists()
    assert CartLine.objects.get(user=second, status="ACTIVE").quantity == 1
    variant.refresh_from_db()
    assert variant.held == 1


def test_expired_promotion_releases_and_promotes_the_next(user_factory, last_unit):
    variant, holder, line = last_unit
    first, second = user_factory(), user_factory()
    e1 = services.waitlist_join(user=first, variant_id=variant.pk, quantity=1)
    e2 = services.waitlist_join(user=second, variant_id=variant.pk, quantity=1)
    services.cart_line_remove(user=holder, line_id=line.pk)
    later = timezone.now() + timedelta(minutes=11)
    assert services.holds_expire(now=later) == 1
    assert (_status(e1), _status(e2)) == ("EXPIRED", "PROMOTED")


def test_expiry_job_promotes_the_waitlist(shopper, last_unit):
    variant, _holder, _line = last_unit
    entry = services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=1)
    services.holds_expire(now=timezone.now() + timedelta(minutes=11))
    assert _status(entry) == "PROMOTED"


def test_admin_stock_increase_promotes(user_factory):
    variant = VariantFactory(stock=0)
    users = [user_factory() for _ in range(3)]
    entries = [services.waitlist_join(user=u, variant_id=variant.pk, quantity=1) for u in users]
    services.stock_adjust(variant_id=variant.pk, stock=2)
    assert [_status(e) for e in entries] == ["PROMOTED", "PROMOTED", "WAITING"]


def test_order_cancel_restore_promotes(shopper):
    variant = VariantFactory(stock=0)
    entry = services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=2)
    services.stock_restore(items=[(variant.pk, 2)])
    assert _status(entry) == "PROMOTED"
    variant.refresh_from_db()
    assert (variant.stock, variant.held) == (2, 2)


def test_checkout_of_a_promoted_line_fulfils_the_entry(shopper, last_unit):
    variant, holder, line = last_unit
    entry = services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=1)
    services.cart_line_remove(user=holder, line_id=line.pk)
    from shop.selectors import checkout_lines

    services.holds_convert_to_sale(lines=checkout_lines(user=shopper))
    assert _status(entry) == "FULFILLED"
    assert WaitlistEntry.objects.filter(status="PROMOTED").count() == 0


def _lapse(line) -> None:
    """The line's timer ran out and the periodic job has not run."""
    CartLine.objects.filter(pk=line.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize("grouped", [False, True], ids=["one-add", "batch"])
def test_a_lazily_expired_hold_goes_to_the_waitlist_not_the_next_adder(
    user_factory, last_unit, grouped
):
    # given the only unit sits in a lapsed line and a shopper waits for it
    variant, _holder, line = last_unit
    waiting = user_factory(profile_complete=True)
    entry = services.waitlist_join(user=waiting, variant_id=variant.pk, quantity=1)
    _lapse(line)
    # when other shoppers add before the periodic job runs
    adders = [user_factory(profile_complete=True) for _ in range(2 if grouped else 1)]
    results = services.cart_add_batch(
        requests=[services.AddRequest(user, variant.pk, 1) for user in adders]
    )
    # then the waiting shopper got the unit, the adders were told it is gone
    assert [getattr(r, "code", None) for r in results] == ["INSUFFICIENT_STOCK"] * len(adders)
    assert _status(entry) == "PROMOTED"
    assert CartLine.objects.get(user=waiting, status="ACTIVE").quantity == 1
    variant.refresh_from_db()
    assert variant.held == 1


def test_a_lazily_expired_hold_goes_to_the_waitlist_before_a_quantity_increase(
    user_factory, shopper
):
    variant = VariantFactory(stock=2)
    holder = user_factory(profile_complete=True)
    held = services.cart_add(user=holder, variant_id=variant.pk, quantity=1)
    mine = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    entry = services.waitlist_join(user=user_factory(), variant_id=variant.pk, quantity=1)
    _lapse(held)
    # the freed unit is the waiting shopper's: the increase is refused (and rolled back whole)
    with pytest.raises(services.InsufficientStock):
        services.cart_line_update(user=shopper, line_id=mine.pk, quantity=2)
    assert CartLine.objects.get(pk=mine.pk).quantity == 1
    services.holds_expire()
    assert _status(entry) == "PROMOTED"
