"""Demo catalog for `manage.py seed_demo` (idempotent: products are matched by name)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from shop.models import Product, ProductVariant

PRODUCTS = [
    {
        "name": "캐시미어 라운드 니트",
        "description": "부드러운 캐시미어 혼방 니트. 데일리로 입기 좋은 기본 핏.",
        "price": "39.00",
        "original_price": "59.00",
        "discount_rate": 34,
        "is_new": True,
        "is_featured": True,
        "options": [("블랙", "S", 3), ("블랙", "M", 5), ("아이보리", "S", 2), ("아이보리", "M", 0)],
    },
    {
        "name": "와이드 데님 팬츠",
        "description": "허리 밴딩으로 편안한 와이드 데님.",
        "price": "45.00",
        "is_featured": True,
        "options": [("연청", "26", 4), ("연청", "28", 6), ("진청", "26", 1), ("진청", "28", 3)],
    },
    {
        "name": "실버 드롭 귀걸이",
        "description": "925 실버 포스트.",
        "price": "18.50",
        "original_price": "25.00",
        "timer_enabled": False,
        "is_featured": True,
        "options": [("", "", 12)],
    },
    {
        "name": "린넨 롱 셔츠",
        "description": "여름까지 입는 린넨 셔츠.",
        "price": "32.00",
        "options": [("화이트", "FREE", 7), ("스카이", "FREE", 2)],
    },
    {
        "name": "한정판 에코백",
        "description": "라이브 한정 수량.",
        "price": "15.00",
        "is_new": True,
        "options": [("", "", 0)],
    },
]


# Items sold during the demo broadcast (attached to the stream by `seed_stream_products`).
STREAM_PRODUCTS = [
    {
        "name": "라이브 특가 울 코트",
        "description": "방송 중에만 이 가격. 10분 안에 결제해 주세요.",
        "price": "89.00",
        "original_price": "129.00",
        "discount_rate": 31,
        "is_new": True,
        "options": [("카멜", "S", 2), ("카멜", "M", 3), ("차콜", "M", 1)],
    },
    {
        "name": "라이브 한정 니트 비니",
        "description": "코트와 함께 매치하기 좋은 비니.",
        "price": "19.00",
        "options": [("블랙", "FREE", 6), ("크림", "FREE", 4)],
    },
]


@transaction.atomic
def seed_shop(*, stream=None) -> list[Product]:
    """Store items; with `stream`, that broadcast's live items instead."""
    specs = STREAM_PRODUCTS if stream is not None else PRODUCTS
    products = []
    for order, spec in enumerate(specs):
        spec = dict(spec)
        options = spec.pop("options")
        product = Product.objects.filter(name=spec["name"]).first()
        if product is None:
            fields = {k: v for k, v in spec.items() if k not in ("price", "original_price")}
            product = Product.objects.create(
                price=Decimal(spec["price"]),
                original_price=Decimal(spec["original_price"])
                if spec.get("original_price")
                else None,
                sort_order=order,
                stream=stream,
                **fields,
            )
            for index, (color, size, stock) in enumerate(options):
                ProductVariant.objects.create(
                    product=product,
                    color=color,
                    size=size,
                    price=product.price,
                    stock=stock,
                    sort_order=index,
                )
            if not any(stock for _c, _s, stock in options):
                Product.objects.filter(pk=product.pk).update(status=Product.Status.SOLD_OUT)
        products.append(product)
    return products
