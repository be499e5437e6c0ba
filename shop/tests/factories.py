from decimal import Decimal

import factory

from shop.models import Product, ProductVariant


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"니트 가디건 {n}")
    price = Decimal("39.00")
    timer_enabled = True
    timer_minutes = 10


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    color = factory.Sequence(lambda n: f"색상{n}")
    size = "M"
    price = factory.LazyAttribute(lambda v: v.product.price)
    stock = 10
