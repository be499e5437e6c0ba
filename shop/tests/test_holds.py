"""SPEC §4: cart holds. One test per rule."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shop import services
from shop.models import CartLine, Product, ProductVariant
from shop.services import holds_expire
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _refresh(variant) -> ProductVariant:
    variant.refresh_from_db()
    return variant


def _age(line, minutes=11):
    CartLine.objects.filter(pk=line.pk).update(
        expires_at=timezone.now() - timedelta(minutes=minutes - 10)
    )


def test_add_holds_stock_and_creates_one_line(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)
    assert _refresh(variant).held == 3
    assert variant.available == 7
    assert CartLine.objects.get(pk=line.pk).quantity == 3


@pytest.mark.usefixtures("no_cap")
def test_stock_10_with_8_held_add_5_reports_2_available(shopper, user_factory, variant):
    services.cart_add(user=user_factory(), variant_id=variant.pk, quantity=8)
    with pytest.raises(services.InsufficientStock) as exc:
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=5)
    assert exc.value.code == "INSUFFICIENT_STOCK"
    assert exc.value.available == 2
    assert "2개" in exc.value.message
    assert _refresh(variant).held == 8
    assert not CartLine.objects.filter(user=shopper).exists()


@pytest.mark.usefixtures("no_cap")
def test_stock_25_add_12_is_fine_no_cap(shopper):
    variant = VariantFactory(stock=25)
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=12)
    assert line.quantity == 12
    assert _refresh(variant).held == 12


def test_max_per_user_caps_when_configured(shopper, variant):
    from core.models import get_config

    config = get_config()
    config.max_per_user = 3
    config.save()
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    with pytest.raises(services.QuantityLimit) as exc:
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    assert exc.value.code == "MAX_PER_USER_EXCEEDED"
    assert _refresh(variant).held == 2


def test_same_variant_twice_is_one_line_with_summed_quantity(shopper, variant):
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)
    lines = CartLine.objects.filter(user=shopper, status="ACTIVE")
    assert [line.quantity for line in lines] == [5]
    assert _refresh(variant).held == 5


def test_timed_line_expires_after_timer_minutes(shopper):
    variant = VariantFactory(product=ProductFactory(timer_minutes=7))
    before = timezone.now()
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    assert before + timedelta(minutes=7) <= line.expires_at <= timezone.now() + timedelta(minutes=7)


def test_untimed_lines_never_expire(shopper, untimed_variant):
    line = services.cart_add(user=shopper, variant_id=untimed_variant.pk, quantity=2)
    assert line.expires_at is None
    assert holds_expire(now=timezone.now() + timedelta(days=365)) == 0
    assert CartLine.objects.get(pk=line.pk).status == "ACTIVE"
    assert _refresh(untimed_variant).held == 2


def test_quantity_change_resets_the_timer(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    CartLine.objects.filter(pk=line.pk).update(expires_at=timezone.now() + timedelta(minutes=1))
    updated = services.cart_line_update(user=shopper, line_id=line.pk, quantity=3)
    assert updated.expires_at > timezone.now() + timedelta(minutes=9)
    assert _refresh(variant).held == 3


def test_adding_again_resets_the_timer(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    CartLine.objects.filter(pk=line.pk).update(expires_at=timezone.now() + timedelta(minutes=1))
    again = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    assert again.pk == line.pk
    assert again.expires_at > timezone.now() + timedelta(minutes=9)


def test_quantity_decrease_releases_the_difference(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=5)
    services.cart_line_update(user=shopper, line_id=line.pk, quantity=2)
    assert _refresh(variant).held == 2


@pytest.mark.usefixtures("no_cap")
def test_quantity_increase_beyond_available_is_refused(shopper, user_factory, variant):
    services.cart_add(user=user_factory(), variant_id=variant.pk, quantity=8)
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    with pytest.raises(services.InsufficientStock) as exc:
        services.cart_line_update(user=shopper, line_id=line.pk, quantity=4)
    assert exc.value.available == 1
    assert CartLine.objects.get(pk=line.pk).quantity == 1
    assert _refresh(variant).held == 9


def test_expiry_releases_the_hold_exactly_once(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=4)
    _age(line)
    assert holds_expire() == 1
    assert holds_expire() == 0
    assert _refresh(variant).held == 0
    assert CartLine.objects.get(pk=line.pk).status == "EXPIRED"


@pytest.mark.usefixtures("no_cap")
def test_expired_line_never_counts_as_a_hold_when_the_job_is_late(shopper, user_factory, variant):
    # given all 10 units in a line whose timer ran out, and no periodic job since
    other = user_factory()
    line = services.cart_add(user=other, variant_id=variant.pk, quantity=10)
    _age(line)
    # when another shopper adds, the overdue hold is released first
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=10)
    # then
    assert CartLine.objects.get(pk=line.pk).status == "EXPIRED"
    assert _refresh(variant).held == 10
    assert holds_expire() == 0


def test_expired_line_never_reaches_checkout(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    _age(line)
    from shop.selectors import checkout_lines

    with pytest.raises(services.CartItemsExpired) as exc:
        checkout_lines(user=shopper)
    assert exc.value.code == "CART_ITEMS_EXPIRED"
    stale = CartLine.objects.get(pk=line.pk)
    with pytest.raises(services.CartItemsExpired):
        services.holds_convert_to_sale(lines=[stale])
    assert _refresh(variant).stock == 10


def test_own_expired_line_is_replaced_not_topped_up(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)
    _age(line)
    fresh = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    assert fresh.pk != line.pk
    assert fresh.quantity == 1
    assert _refresh(variant).held == 1


def test_remove_releases_the_hold(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=4)
    services.cart_line_remove(user=shopper, line_id=line.pk)
    assert _refresh(variant).held == 0
    assert CartLine.objects.get(pk=line.pk).status == "REMOVED"


def test_clear_releases_every_hold(shopper, variant):
    other = VariantFactory(stock=3)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=4)
    services.cart_add(user=shopper, variant_id=other.pk, quantity=3)
    assert services.cart_clear(user=shopper) == 2
    assert _refresh(variant).held == 0
    assert _refresh(other).held == 0


def test_deleting_a_product_releases_its_holds(shopper, user_factory):
    variant = VariantFactory(stock=5)
    kept = VariantFactory(stock=5)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    services.cart_add(user=shopper, variant_id=kept.pk, quantity=2)
    services.product_delete(product_id=variant.product_id)
    assert not Product.objects.filter(pk=variant.product_id).exists()
    assert _refresh(kept).held == 2


def test_hiding_a_product_releases_its_holds(shopper, variant):
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    services.product_hide(product_id=variant.product_id, hidden=True)
    assert _refresh(variant).held == 0
    assert CartLine.objects.get(pk=line.pk).status == "EXPIRED"
    with pytest.raises(services.VariantUnavailable):
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)


def test_manual_sold_out_releases_holds_and_survives_restock(shopper, variant):
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    services.product_mark_sold_out(product_id=variant.product_id, sold_out=True)
    assert _refresh(variant).held == 0
    services.stock_adjust(variant_id=variant.pk, stock=50)
    assert Product.objects.get(pk=variant.product_id).status == "SOLD_OUT"
    with pytest.raises(services.VariantUnavailable):
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    services.product_mark_sold_out(product_id=variant.product_id, sold_out=False)
    assert services.cart_add(user=shopper, variant_id=variant.pk, quantity=1).quantity == 1


def test_convert_to_sale_moves_held_to_sold(shopper, variant):
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)
    from shop.selectors import checkout_lines

    lines = checkout_lines(user=shopper)
    services.holds_convert_to_sale(lines=lines)
    assert (_refresh(variant).stock, variant.held) == (7, 0)
    assert CartLine.objects.get(pk=lines[0].pk).status == "COMPLETED"


def test_selling_the_last_units_marks_the_product_sold_out(shopper):
    variant = VariantFactory(stock=2)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    from shop.selectors import checkout_lines

    services.holds_convert_to_sale(lines=checkout_lines(user=shopper))
    assert Product.objects.get(pk=variant.product_id).status == "SOLD_OUT"
    services.stock_restore(items=[(variant.pk, 2)])
    assert Product.objects.get(pk=variant.product_id).status == "AVAILABLE"
    assert _refresh(variant).stock == 2


def test_checkout_lines_selection_rejects_foreign_lines(shopper, user_factory, variant):
    other_line = services.cart_add(user=user_factory(), variant_id=variant.pk, quantity=1)
    mine = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    from shop.selectors import checkout_lines

    assert [line.pk for line in checkout_lines(user=shopper, line_ids=[mine.pk])] == [mine.pk]
    with pytest.raises(services.CartItemsExpired):
        checkout_lines(user=shopper, line_ids=[mine.pk, other_line.pk])


def test_empty_cart_checkout_is_cart_empty(shopper):
    from shop.selectors import checkout_lines

    with pytest.raises(services.CartEmpty) as exc:
        checkout_lines(user=shopper)
    assert exc.value.code == "CART_EMPTY"


@pytest.mark.usefixtures("no_cap")
def test_stock_take_and_adjust(shopper, variant):
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=6)
    with pytest.raises(services.InsufficientStock) as exc:
        services.stock_take(variant_id=variant.pk, quantity=5)
    assert exc.value.available == 4
    services.stock_take(variant_id=variant.pk, quantity=4)
    assert (_refresh(variant).stock, variant.held) == (6, 6)
    with pytest.raises(services.StockBelowHeld) as below:
        services.stock_adjust(variant_id=variant.pk, stock=5)
    assert below.value.code == "STOCK_BELOW_HELD"
    assert _refresh(variant).stock == 6


@pytest.mark.usefixtures("no_cap")
def test_held_never_exceeds_stock_in_sql(shopper, variant):
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT stock, held FROM shop_productvariant WHERE id = %s", [variant.pk])
        assert cursor.fetchone() == (10, 10)


def test_hold_with_own_overdue_line_not_yet_released_is_never_topped_up(shopper, variant):
    # given the shopper's own line is overdue and the lazy release did not run (a concurrent
    # transaction held its lock at that moment)
    from shop.services.cart import _hold_and_line

    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)
    _age(line)
    # when the hold-and-line step runs on its own
    hold, (line_id, quantity, _created, expires_at) = _hold_and_line(
        user_id=shopper.pk, variant_id=variant.pk, quantity=2, now=timezone.now()
    )
    # then the overdue line is released and a fresh one holds exactly the new units
    assert line_id != line.pk and quantity == 2 and expires_at > timezone.now()
    assert CartLine.objects.get(pk=line.pk).status == "EXPIRED"
    assert _refresh(variant).held == 2 == hold.held


def test_checkout_lines_selection_with_garbage_ids(shopper, variant):
    from shop.selectors import checkout_lines

    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    for bad in (["x"], [line.pk, "abc"], [2**70], [None]):
        with pytest.raises(services.CartItemsExpired):
            checkout_lines(user=shopper, line_ids=bad)
    with pytest.raises(services.CartEmpty):
        checkout_lines(user=shopper, line_ids=[])


def test_deleting_an_option_withdraws_its_lines_with_their_name(shopper):
    variant = VariantFactory(product=ProductFactory(name="니트"), color="Red", size="S", stock=4)
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    services.variant_delete(variant_id=variant.pk)
    line = CartLine.objects.get(pk=line.pk)
    assert (line.status, line.variant_id) == ("WITHDRAWN", None)
    assert line.withdrawn_name == "니트 / Red / S"
    with pytest.raises(services.CartItemsRemoved):
        services.holds_convert_to_sale(lines=[line])
