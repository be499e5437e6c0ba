"""core.statements: a queryset compiled once, then bound with each call's values (the product
page's reads run through it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.statements import Statement
from shop.models import CartLine, ProductVariant
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_each_call_binds_its_own_values_and_rows_match_the_orm():
    first, second = ProductFactory(name="첫째"), ProductFactory(name="둘째")
    for product, sizes in ((first, ("S", "M")), (second, ("L",))):
        for size in sizes:
            VariantFactory(product=product, size=size, stock=5)
    statement = Statement(
        lambda product_id: ProductVariant.objects.filter(product_id=product_id).order_by("id"),
        product_id="int",
    )
    for product in (first, second, first):
        rows = statement(product_id=product.pk)
        expected = list(ProductVariant.objects.filter(product_id=product.pk).order_by("id"))
        assert [(v.pk, v.size, v.price, v.stock) for v in rows] == [
            (v.pk, v.size, v.price, v.stock) for v in expected
        ]
    assert statement(product_id=10**9) == []


def test_annotations_and_datetimes_are_bound(shopper):
    from django.db.models import Q, Sum
    from django.db.models.functions import Coalesce

    variant = VariantFactory(stock=10)
    now = timezone.now()
    CartLine.objects.create(
        user=shopper, variant=variant, quantity=2, expires_at=now - timedelta(minutes=1)
    )
    statement = Statement(
        lambda variant_id, now: ProductVariant.objects.filter(pk=variant_id).annotate(
            overdue=Coalesce(Sum("lines__quantity", filter=Q(lines__expires_at__lte=now)), 0)
        ),
        variant_id="int",
        now="datetime",
    )
    assert statement(variant_id=variant.pk, now=now)[0].overdue == 2
    assert statement(variant_id=variant.pk, now=now - timedelta(hours=1))[0].overdue == 0


def test_values_list_rows_and_one_query_per_call():
    product = ProductFactory()
    VariantFactory(product=product, size="S")
    statement = Statement(
        lambda product_id: ProductVariant.objects.filter(product_id=product_id).values_list("size"),
        tuples=True,
        product_id="int",
    )
    statement(product_id=product.pk)
    with CaptureQueriesContext(connection) as captured:
        assert statement(product_id=product.pk) == [("S",)]
    assert len(captured.captured_queries) == 1


def test_a_parameter_the_sql_does_not_carry_is_refused():
    statement = Statement(lambda product_id: ProductVariant.objects.all(), product_id="int")
    with pytest.raises(ValueError, match="product_id"):
        statement(product_id=1)


def test_a_queryset_reading_other_rows_than_its_model_is_refused():
    statement = Statement(
        lambda product_id: ProductVariant.objects.filter(product_id=product_id).select_related(
            "product"
        ),
        product_id="int",
    )
    with pytest.raises(ValueError, match="whole rows"):
        statement(product_id=1)
