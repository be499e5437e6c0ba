"""Abuse limits in the shop: request rates (429) on cart add, line update and waitlist join, and
the per-user cap (`SystemConfig.max_per_user`) everywhere a hold is taken."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.models import DEFAULT_MAX_PER_USER, SystemConfig, get_config
from shop import services
from shop.models import CartLine, WaitlistEntry
from shop.services import AddRequest, ShopError
from shop.tests.checks import stock_held_lines
from shop.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}
KOREAN = "요청이 너무 많습니다"


@pytest.fixture
def limits(settings):
    def set_limits(**rules):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rules}

    return set_limits


def shopper_on(address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.force_login(UserFactory(profile_complete=True))
    return client


def assert_429(response, *, page: bool = False):
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    if page:
        assert KOREAN in response.content.decode()
    else:
        error = response.json()["error"]
        assert error["code"] == "RATE_LIMITED" and KOREAN in error["message"]
        assert error["retry_after"] == int(response["Retry-After"])


def cap(limit):
    config = get_config()
    config.max_per_user = limit
    config.save()


# --- request rates ---------------------------------------------------------------------------


def test_cart_adds_are_limited_per_user_in_json_htmx_and_page_form(limits, shopper_client):
    limits(cart_add=(("user", 2, 60), ("ip", 100, 60)))
    variant = VariantFactory(stock=10)
    url, data = reverse("shop:cart-add"), {"variant_id": variant.pk, "quantity": 1}
    assert shopper_client.post(url, data, **JSON).status_code == 201
    assert shopper_client.post(url, data, **HTMX).status_code == 200
    assert_429(shopper_client.post(url, data, **JSON))
    assert_429(shopper_client.post(url, data, **HTMX))
    assert_429(shopper_client.post(url, data), page=True)
    # nothing more was held, and another shopper on the same address is not affected
    assert CartLine.objects.get(user=shopper_client.user).quantity == 2
    assert shopper_on("127.0.0.1").post(url, data, **JSON).status_code == 201


def test_cart_adds_are_limited_per_address(limits, db):
    limits(cart_add=(("user", 100, 60), ("ip", 2, 60)))
    variant = VariantFactory(stock=10)
    url, data = reverse("shop:cart-add"), {"variant_id": variant.pk, "quantity": 1}
    for _ in range(2):
        assert shopper_on("10.0.0.1").post(url, data, **JSON).status_code == 201
    assert_429(shopper_on("10.0.0.1").post(url, data, **JSON))
    assert shopper_on("10.0.0.2").post(url, data, **JSON).status_code == 201
    assert stock_held_lines(variant.pk) == (10, 3, 3)


def test_line_updates_are_limited(limits, shopper_client):
    limits(cart_update=(("user", 2, 60),))
    variant = VariantFactory(stock=10)
    line = services.cart_add(user=shopper_client.user, variant_id=variant.pk, quantity=1)
    url = reverse("shop:cart-line-update", args=[line.pk])
    for quantity in (2, 3):
        assert shopper_client.post(url, {"quantity": quantity}, **JSON).json() == {"ok": True}
    assert_429(shopper_client.post(url, {"quantity": 4}, **JSON))
    assert_429(shopper_client.post(url, {"quantity": 4}), page=True)
    assert CartLine.objects.get(pk=line.pk).quantity == 3


def test_waitlist_joins_are_limited(limits, shopper_client):
    limits(waitlist_join=(("user", 1, 60),))
    url = reverse("shop:waitlist-join")
    first, second = VariantFactory(stock=0), VariantFactory(stock=0)
    response = shopper_client.post(url, {"variant_id": first.pk, "quantity": 1}, **JSON)
    assert response.status_code == 201
    assert_429(shopper_client.post(url, {"variant_id": second.pk, "quantity": 1}, **JSON))
    assert_429(shopper_client.post(url, {"variant_id": second.pk, "quantity": 1}, **HTMX))
    assert WaitlistEntry.objects.filter(user=shopper_client.user).count() == 1


# --- the per-user cap ------------------------------------------------------------------------


def test_the_cap_is_on_by_default():
    assert DEFAULT_MAX_PER_USER == 5
    assert SystemConfig().max_per_user == 5
    assert get_config().max_per_user == 5


def test_adds_stop_at_the_cap(shopper):
    variant = VariantFactory(stock=20)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    with pytest.raises(services.QuantityLimit) as exc:
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    assert exc.value.code == "MAX_PER_USER_EXCEEDED" and "5개" in exc.value.message
    with pytest.raises(services.QuantityLimit):
        services.cart_add(user=UserFactory(), variant_id=variant.pk, quantity=6)
    assert stock_held_lines(variant.pk) == (20, 5, 5)


def test_the_cap_is_answered_in_json(shopper_client):
    variant = VariantFactory(stock=20)
    url = reverse("shop:cart-add")
    response = shopper_client.post(url, {"variant_id": variant.pk, "quantity": 6}, **JSON)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "MAX_PER_USER_EXCEEDED"


def test_quantity_changes_stop_at_the_cap(shopper):
    variant = VariantFactory(stock=20)
    line = services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    services.cart_line_update(user=shopper, line_id=line.pk, quantity=5)
    with pytest.raises(services.QuantityLimit):
        services.cart_line_update(user=shopper, line_id=line.pk, quantity=6)
    assert stock_held_lines(variant.pk) == (20, 5, 5)


def test_a_batch_keeps_the_cap_and_still_groups_the_others(user_factory):
    a, b, c = (user_factory(profile_complete=True) for _ in range(3))
    variant = VariantFactory(stock=20)
    services.cart_add(user=a, variant_id=variant.pk, quantity=4)
    requests = [AddRequest(a, variant.pk, 2), AddRequest(b, variant.pk, 5)]
    requests += [AddRequest(c, variant.pk, 6), AddRequest(a, variant.pk, 1)]
    requests += [AddRequest(b, variant.pk, 1)]
    results = services.cart_add_batch(requests=requests)
    codes = [r.code if isinstance(r, ShopError) else r.quantity for r in results]
    capped = "MAX_PER_USER_EXCEEDED"
    assert codes == [capped, 5, capped, 5, capped]
    assert stock_held_lines(variant.pk) == (20, 10, 10)


def test_waitlist_join_counts_what_the_shopper_holds(shopper, user_factory):
    variant = VariantFactory(stock=4)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)
    services.cart_add(user=user_factory(), variant_id=variant.pk, quantity=1)
    with pytest.raises(services.QuantityLimit):
        services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=3)
    with pytest.raises(services.QuantityLimit):
        services.waitlist_join(user=user_factory(), variant_id=variant.pk, quantity=6)
    entry = services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=2)
    assert entry.quantity == 2


def test_a_promotion_past_the_cap_keeps_the_entry_waiting(shopper, user_factory):
    # given the shopper holds 2 and waits for 3 more (5: within the cap when joining)
    variant = VariantFactory(stock=5)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    holder = user_factory()
    held = services.cart_add(user=holder, variant_id=variant.pk, quantity=3)
    entry = services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=3)
    # when the cap is lowered and 3 units free up
    cap(4)
    services.cart_line_remove(user=holder, line_id=held.pk)
    # then the entry is not promoted past the cap; it keeps its number
    entry.refresh_from_db()
    assert entry.status == "WAITING"
    assert stock_held_lines(variant.pk) == (5, 2, 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_one_shopper_never_pass_the_cap(shopper):
    variant = VariantFactory(stock=100)
    barrier, refused, failures = threading.Barrier(20), [], []

    def add():
        try:
            barrier.wait()
            services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
        except services.QuantityLimit:
            refused.append(1)
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    assert stock_held_lines(variant.pk) == (100, 5, 5)
    assert len(refused) == 15
