"""Shop events: content, and only after commit (a rolled-back transaction announces nothing)."""

import json

import pytest
from django.db import transaction

from dorami import realtime
from dorami.realtime import STORE_GROUP, room_group
from shop import services
from shop.tests.factories import ProductFactory, VariantFactory

SENTINEL = "test-sentinel"


@pytest.fixture
def listen():
    """Subscribe to a group on the project transport (Redis pub/sub). `drain()` publishes a
    sentinel and returns every event received before it (Redis keeps order per connection)."""
    client = realtime.sync_redis()
    pubsubs = []

    def _listen(group: str):
        channel = realtime._namespace() + group
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel)
        pubsub.get_message(timeout=1)  # the subscribe confirmation
        pubsubs.append(pubsub)

        def drain():
            realtime.publish_text(group=group, text=SENTINEL)
            messages = []
            while True:
                message = pubsub.get_message(timeout=5)
                assert message is not None, "sentinel never arrived"
                text = message["data"].decode()
                if text == SENTINEL:
                    return messages
                messages.append(json.loads(text))

        return drain

    yield _listen
    for pubsub in pubsubs:
        pubsub.close()


def _events(messages):
    return [(m["event"], m["data"]) for m in messages]


@pytest.mark.django_db(transaction=True)
def test_add_announces_stock_low_stock_and_cart_activity(listen, shopper):
    from live.models import LiveStream

    stream = LiveStream.objects.create(title="라이브", status="LIVE")
    variant = VariantFactory(product=ProductFactory(stream=stream, name="실크 블라우스"), stock=5)
    drain = listen(room_group(stream.pk))
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    events = _events(drain())
    assert events[0] == (
        "stock.changed",
        {
            "product_id": variant.product_id,
            "variant_id": variant.pk,
            "stock": 5,
            "available": 3,
            "status": "ACTIVE",
        },
    )
    assert (
        "stock.low",
        {"product_id": variant.product_id, "variant_id": variant.pk, "available": 3},
    ) in events
    assert (
        "cart.activity",
        {
            "name": shopper.display_name,
            "product_name": "실크 블라우스",
            "product_id": variant.product_id,
            "others": 0,
        },
    ) in events


@pytest.mark.django_db(transaction=True)
def test_last_unit_announces_sold_out_to_the_store(listen, shopper):
    variant = VariantFactory(stock=1)
    drain = listen(STORE_GROUP)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    events = _events(drain())
    assert ("product.sold_out", {"product_id": variant.product_id, "variant_id": variant.pk}) in (
        events
    )
    seqs = [m for m in events if m[0] == "stock.changed"]
    assert seqs[0][1]["available"] == 0


@pytest.mark.django_db(transaction=True)
def test_plenty_of_stock_is_not_low(listen, shopper):
    variant = VariantFactory(stock=50)
    drain = listen(STORE_GROUP)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
    names = [event for event, _data in _events(drain())]
    assert names == ["stock.changed", "cart.activity"]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_announces_nothing(listen, shopper):
    variant = VariantFactory(stock=5)
    drain = listen(STORE_GROUP)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
        raise RuntimeError("checkout failed later")
    assert drain() == []


@pytest.mark.django_db(transaction=True)
def test_events_wait_for_the_outer_commit(listen, shopper):
    variant = VariantFactory(stock=5)
    drain = listen(STORE_GROUP)
    with transaction.atomic():
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
        assert drain() == []  # nothing while the transaction is open
    assert next(e for e, _d in _events(drain())) == "stock.changed"


@pytest.mark.django_db(transaction=True)
def test_product_added_updated_deleted_and_manual_sold_out(listen):
    drain = listen(STORE_GROUP)
    product = services.product_save(product=ProductFactory.build(name="새 상품"))
    product.name = "새 상품 (수정)"
    services.product_save(product=product)
    services.product_mark_sold_out(product_id=product.pk, sold_out=True)
    services.product_delete(product_id=product.pk)
    events = _events(drain())
    names = [e for e, _d in events]
    assert names == [
        "product.added",
        "product.updated",
        "product.sold_out",
        "product.updated",
        "product.deleted",
    ]
    assert events[1][1]["name"] == "새 상품 (수정)"
    assert events[-1][1] == {"product_id": product.pk}


@pytest.mark.django_db(transaction=True)
def test_expiry_and_stock_adjust_announce(listen, shopper):
    from datetime import timedelta

    from django.utils import timezone

    variant = VariantFactory(stock=2)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    drain = listen(STORE_GROUP)
    services.holds_expire(now=timezone.now() + timedelta(minutes=11))
    services.stock_adjust(variant_id=variant.pk, stock=3)
    changes = [d["available"] for e, d in _events(drain()) if e == "stock.changed"]
    assert changes == [2, 3]
