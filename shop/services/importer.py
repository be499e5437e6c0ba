"""Product import from CSV (UTF-8 with/without BOM, or CP949) and XLSX, with a per-row report.

One row = one option (variant). Consecutive rows with the same name become one product with
several options. Headers may be English or Korean:
    name/상품명, price/가격, stock/재고, original_price/정가, description/설명,
    color/색상, size/사이즈, timer_minutes/타이머(분), is_new/NEW
A bad row is rejected with the reasons; good rows are imported in one transaction each product.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core.services import audit_log_record
from shop.models import MAX_STOCK, MIN_PRICE, Product, ProductVariant

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
HEADERS = {
    "name": "name",
    "상품명": "name",
    "price": "price",
    "가격": "price",
    "stock": "stock",
    "재고": "stock",
    "original_price": "original_price",
    "정가": "original_price",
    "description": "description",
    "설명": "description",
    "color": "color",
    "색상": "color",
    "size": "size",
    "사이즈": "size",
    "timer_minutes": "timer_minutes",
    "타이머(분)": "timer_minutes",
    "타이머": "timer_minutes",
    "is_new": "is_new",
    "new": "is_new",
}
TRUE_WORDS = {"1", "y", "yes", "true", "o", "예", "네"}


class ImportFileError(Exception):
    code = "IMPORT_FILE_INVALID"

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass
class RowResult:
    row: int
    name: str
    ok: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    products_created: int = 0
    variants_created: int = 0

    @property
    def rejected(self) -> list[RowResult]:
        return [row for row in self.rows if not row.ok]

    @property
    def accepted(self) -> list[RowResult]:
        return [row for row in self.rows if row.ok]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("파일 인코딩을 읽을 수 없습니다 (UTF-8 또는 CP949로 저장해 주세요)")


def _rows_from_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    try:
        return [row for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ImportFileError(f"CSV 형식이 올바르지 않습니다: {exc}") from None


def _rows_from_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ImportFileError("XLSX 파일을 열 수 없습니다") from None
    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else str(v) for v in values])
        if len(rows) > MAX_ROWS + 1:
            break
    workbook.close()
    return rows


def rows_read(*, filename: str, data: bytes) -> list[list[str]]:
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError("파일이 너무 큽니다 (최대 5MB)")
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return _rows_from_xlsx(data)
    return _rows_from_csv(data)


def _parse_price(value: str, *, required: bool, label: str, reasons: list[str]):
    value = (value or "").strip().replace("$", "").replace(",", "")
    if not value:
        if required:
            reasons.append(f"{label}이(가) 비어 있습니다")
        return None
    try:
        price = Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation:
        reasons.append(f"{label}이(가) 숫자가 아닙니다: {value[:20]}")
        return None
    if not price.is_finite() or price < MIN_PRICE or price >= Decimal("100000000"):
        reasons.append(f"{label}은(는) 0.01 이상이어야 합니다: {value[:20]}")
        return None
    return price


def _parse_int(value: str, *, low: int, high: int, label: str, reasons: list[str], default):
    value = (value or "").strip()
    if not value:
        return default
    try:
        number = Decimal(value)
    except InvalidOperation:
        reasons.append(f"{label}이(가) 숫자가 아닙니다: {value[:20]}")
        return None
    if number != number.to_integral_value() or not low <= number <= high:
        reasons.append(f"{label}은(는) {low}~{high} 사이의 정수여야 합니다: {value[:20]}")
        return None
    return int(number)


def _row_clean(values: dict[str, str], reasons: list[str]) -> dict:
    name = (values.get("name") or "").strip()
    if not name:
        reasons.append("상품명이 비어 있습니다")
    elif len(name) > 100:
        reasons.append("상품명은 100자 이하여야 합니다")
    cleaned = {
        "name": name,
        "price": _parse_price(
            values.get("price", ""), required=True, label="가격", reasons=reasons
        ),
        "original_price": _parse_price(
            values.get("original_price", ""), required=False, label="정가", reasons=reasons
        ),
        "stock": _parse_int(
            values.get("stock", ""), low=0, high=MAX_STOCK, label="재고", reasons=reasons, default=0
        ),
        "timer_minutes": _parse_int(
            values.get("timer_minutes", ""),
            low=1,
            high=7200,
            label="타이머(분)",
            reasons=reasons,
            default=10,
        ),
        "description": (values.get("description") or "").strip(),
        "color": (values.get("color") or "").strip(),
        "size": (values.get("size") or "").strip(),
        "is_new": (values.get("is_new") or "").strip().lower() in TRUE_WORDS,
    }
    if len(cleaned["color"]) > 50 or len(cleaned["size"]) > 50:
        reasons.append("색상/사이즈는 50자 이하여야 합니다")
    return cleaned


def products_import(
    *, filename: str, data: bytes, actor=None, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import products; returns what was created and, per rejected row, why. Each created
    product is audited with `actor`. `progress(n)` is called after each product with the
    number of its rows (a progress bar)."""
    rows = rows_read(filename=filename, data=data)
    rows = [row for row in rows if any((cell or "").strip() for cell in row)]
    if not rows:
        raise ImportFileError("빈 파일입니다")
    header = [
        HEADERS.get((cell or "").strip().lower(), HEADERS.get((cell or "").strip()))
        for cell in rows[0]
    ]
    if "name" not in header or "price" not in header:
        raise ImportFileError("첫 줄에 name(상품명)과 price(가격) 열이 있어야 합니다")
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(f"한 번에 최대 {MAX_ROWS}행까지 가져올 수 있습니다")
    report = ImportReport()
    groups: list[tuple[str, list[tuple[RowResult, dict]]]] = []
    for index, row in enumerate(rows[1:], start=2):
        values = {key: row[i] if i < len(row) else "" for i, key in enumerate(header) if key}
        reasons: list[str] = []
        cleaned = _row_clean(values, reasons)
        result = RowResult(row=index, name=cleaned["name"][:100], ok=not reasons, reasons=reasons)
        report.rows.append(result)
        if not result.ok:
            continue
        if groups and groups[-1][0] == cleaned["name"]:
            groups[-1][1].append((result, cleaned))
        else:
            groups.append((cleaned["name"], [(result, cleaned)]))
    if progress:
        progress(len(report.rejected))
    for _name, members in groups:
        _product_create(members, report, actor=actor)
        if progress:
            progress(len(members))
    return report


@transaction.atomic
def _product_create(
    members: list[tuple[RowResult, dict]], report: ImportReport, *, actor=None
) -> None:
    first = members[0][1]
    seen: set[tuple[str, str]] = set()
    variants = []
    for result, cleaned in members:
        option = (cleaned["color"], cleaned["size"])
        if option in seen:
            result.ok = False
            result.reasons.append("같은 상품에 같은 색상/사이즈가 중복되었습니다")
            continue
        seen.add(option)
        variants.append(cleaned)
    if not variants:
        return
    product = Product.objects.create(
        name=first["name"],
        description=first["description"],
        price=min(v["price"] for v in variants),
        original_price=first["original_price"],
        timer_minutes=first["timer_minutes"],
        is_new=first["is_new"],
    )
    ProductVariant.objects.bulk_create(
        ProductVariant(
            product=product,
            color=v["color"],
            size=v["size"],
            price=v["price"],
            stock=v["stock"],
            sort_order=i,
        )
        for i, v in enumerate(variants)
    )
    if not any(v["stock"] for v in variants):
        Product.objects.filter(pk=product.pk).update(status=Product.Status.SOLD_OUT)
    if actor is not None:
        audit_log_record(
            actor=actor,
            action="product_import",
            obj=product,
            after={
                "name": product.name,
                "variants": [
                    {
                        "color": v["color"],
                        "size": v["size"],
                        "price": str(v["price"]),
                        "stock": v["stock"],
                    }
                    for v in variants
                ],
            },
        )
    from shop import realtime

    realtime.announce_product_added(product=product)
    report.products_created += 1
    report.variants_created += len(variants)
