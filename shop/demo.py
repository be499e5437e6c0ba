"""Demo catalog for `manage.py seed_demo` (idempotent: products are matched by name)."""

from __future__ import annotations

import io
import logging
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from shop.models import Product, ProductImage, ProductVariant

logger = logging.getLogger("shop.demo")

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
        if not product.images.exists():
            colors = [color for color, _size, _stock in options if color]
            image = ProductImage(product=product, sort_order=0)
            image.image.save(
                f"demo-{product.pk}.jpg", ContentFile(demo_image(product.name, colors)), save=True
            )
        products.append(product)
    return products


# --- Demo product pictures, drawn at seed time (no network, no files in the repository) -----

SWATCHES = {
    "블랙": (38, 38, 44),
    "아이보리": (238, 230, 208),
    "연청": (160, 190, 222),
    "진청": (46, 70, 122),
    "화이트": (246, 246, 246),
    "스카이": (164, 212, 240),
    "카멜": (193, 150, 100),
    "차콜": (68, 68, 78),
    "크림": (246, 236, 206),
}
ACCENTS = [(255, 20, 147), (255, 140, 180), (120, 110, 230), (60, 180, 160), (250, 170, 60)]
FONT_PATHS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansKR-Bold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
]
SIZE = 720


def _font(size: int):
    """A font with Hangul, or None (the picture then carries no text)."""
    for path in FONT_PATHS:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return None


def _mix(color: tuple, other: tuple, amount: float) -> tuple:
    return tuple(round(a + (b - a) * amount) for a, b in zip(color, other, strict=True))


def demo_image(name: str, colors: list[str]) -> bytes:
    """A square JPEG: the product's colors as swatches on a soft background, and its name."""
    seed = sum(name.encode())
    swatches = [SWATCHES[c] for c in dict.fromkeys(colors) if c in SWATCHES]
    swatches = swatches or [ACCENTS[seed % len(ACCENTS)]]
    background = _mix(swatches[0], (255, 255, 255), 0.72)
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    # one overlapping circle per color, centred in the upper part
    count = min(len(swatches), 3)
    radius = 170 if count == 1 else 140
    step = 150
    left = SIZE // 2 - step * (count - 1) // 2
    for index, color in enumerate(swatches[:count]):
        x, y = left + index * step, 300
        draw.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=color,
            outline=_mix(color, (0, 0, 0), 0.25),
            width=6,
        )
    draw.rounded_rectangle([40, 560, SIZE - 40, 680], radius=28, fill=(255, 255, 255))
    font = _font(52)
    if font is not None:
        text = name if draw.textlength(name, font=font) <= SIZE - 120 else name[:12] + "…"
        draw.text((SIZE // 2, 620), text, font=font, fill=(30, 30, 36), anchor="mm")
        label = _font(30)
        draw.text((48, 40), "도라미", font=label, fill=_mix(background, (0, 0, 0), 0.55))
    else:
        logger.info("demo.image_without_text reason=no_hangul_font")
        draw.rounded_rectangle([120, 606, SIZE - 120, 634], radius=14, fill=ACCENTS[0])
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82, optimize=True)
    return buffer.getvalue()
