"""Payment reconciliation: read a bank / Zelle statement CSV and propose which deposit pays
which PENDING_PAYMENT order. Reads only; confirming goes through `payment_confirm`.

Matching: normalized depositor name (NFKC, case-insensitive, all whitespace removed) and the
exact amount, with the deposit date inside [order day, order day + window] (store-local days).
One candidate → proposed; several (or one order claimed by several deposits) → ambiguous,
never auto-confirmed; none → unmatched. Withdrawal rows (negative amount, a 출금/debit kind
column, or a withdrawal column filled where the deposit is empty) are listed as withdrawals.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings

from orders.models import Order

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
# Year first, any of - . / 년월일 between the parts, an optional time after: 2026-12-03,
# 2026.12.03 04:36:55, 2026/12/03 04:36, 2026. 12. 3., 2026년 12월 03일 (09:15).
YEAR_FIRST = re.compile(
    r"(\d{4})\s*(?:[-./]|년)\s*(\d{1,2})\s*(?:[-./]|월)\s*(\d{1,2})\s*(?:일|\.)?"
    r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?"
)
DATE_FORMATS = (  # month first (US banks and Zelle)
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m-%d-%Y",
    "%Y%m%d",
)
WITHDRAWAL = "출금 내역입니다(입금이 아님)"
# A statement with a withdrawal column beside the deposit one, or a column naming the kind.
WITHDRAWAL_COLUMNS = {"출금", "출금액", "찾으신금액", "withdrawal", "withdrawals", "debit"}
KIND_COLUMNS = {"구분", "거래구분", "입출금구분", "type", "transactiontype", "details"}
WITHDRAWAL_KINDS = {"출금", "지급", "withdrawal", "debit", "dr"}

PROPOSED = "proposed"
AMBIGUOUS = "ambiguous"
UNMATCHED = "unmatched"


class StatementError(Exception):
    """The whole file is unusable; nothing is matched or confirmed."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass
class Deposit:
    row: int
    date: date | None
    name: str
    amount: Decimal | None
    error: str = ""


@dataclass
class MatchRow:
    deposit: Deposit
    status: str
    orders: list[Order] = field(default_factory=list)
    reason: str = ""

    @property
    def order(self) -> Order | None:
        return self.orders[0] if self.status == PROPOSED else None


def normalize_name(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).casefold()


def statement_decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949 (Korean bank exports)."""
    if len(raw) > MAX_BYTES:
        raise StatementError("FILE_TOO_LARGE", "파일이 너무 큽니다(최대 5MB).")
    if b"\x00" in raw[:4096]:
        raise StatementError("NOT_CSV", "CSV 텍스트 파일이 아닙니다.")
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementError(
        "BAD_ENCODING", "파일 인코딩을 읽을 수 없습니다. UTF-8 또는 CP949(EUC-KR)로 저장해 주세요."
    )


def parse_date(value: str) -> date | None:
    """The day of a statement row as banks write it (formats at YEAR_FIRST / DATE_FORMATS, and
    ISO 8601 with `T`; a time with an offset counts on the store's clock). None if unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return _store_day(moment) if moment.tzinfo else moment.date()
    match = YEAR_FIRST.fullmatch(text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_amount(value: str) -> Decimal | None:
    text = re.sub(r"[\s,$₩]|USD", "", value or "")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(Decimal("0.01"))


def statement_parse(*, raw: bytes, date_col: str, name_col: str, amount_col: str) -> list[Deposit]:
    text = statement_decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise StatementError("EMPTY_FILE", "빈 파일입니다.") from None
    except csv.Error as exc:
        raise StatementError("BAD_CSV", f"CSV 형식 오류: {exc}") from None
    columns = {name.strip().casefold(): index for index, name in enumerate(header)}
    wanted = {"date": date_col, "name": name_col, "amount": amount_col}
    missing = [label for label in wanted.values() if label.strip().casefold() not in columns]
    if missing:
        raise StatementError(
            "MISSING_COLUMNS",
            "열을 찾을 수 없습니다: "
            + ", ".join(missing)
            + " (파일의 열: "
            + ", ".join(h.strip() for h in header)[:300]
            + ")",
        )
    idx = {key: columns[label.strip().casefold()] for key, label in wanted.items()}
    by_kind = {normalize_name(name): index for index, name in enumerate(header)}
    withdrawal_cols = [i for n, i in by_kind.items() if n in WITHDRAWAL_COLUMNS]
    withdrawal_cols = [i for i in withdrawal_cols if i != idx["amount"]]
    kind_cols = [i for n, i in by_kind.items() if n in KIND_COLUMNS]
    deposits: list[Deposit] = []
    try:
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(deposits) >= MAX_ROWS:
                raise StatementError(
                    "TOO_MANY_ROWS",
                    f"행이 너무 많습니다(최대 {MAX_ROWS:,}행). 파일을 나눠 올려 주세요.",
                )
            values = {key: row[i].strip() if i < len(row) else "" for key, i in idx.items()}
            day, amount, name = (
                parse_date(values["date"]),
                parse_amount(values["amount"]),
                values["name"],
            )
            error = ""
            if _is_withdrawal(row, amount, withdrawal_cols=withdrawal_cols, kind_cols=kind_cols):
                error = WITHDRAWAL
            elif day is None:
                error = f"날짜를 읽을 수 없습니다: {values['date'][:40]}"
            elif amount is None:
                error = f"금액을 읽을 수 없습니다: {values['amount'][:40]}"
            elif amount <= 0:
                error = "입금이 아닌 행(0 이하 금액)"
            elif not normalize_name(name):
                error = "입금자명이 비어 있습니다"
            deposits.append(
                Deposit(row=number, date=day, name=name[:100], amount=amount, error=error)
            )
    except csv.Error as exc:
        raise StatementError("BAD_CSV", f"CSV 형식 오류: {exc}") from None
    return deposits


def _is_withdrawal(row: list[str], amount, *, withdrawal_cols, kind_cols) -> bool:
    """Money out: a negative amount, a kind column saying so, or no deposit beside a positive
    withdrawal column."""
    if amount is not None and amount < 0:
        return True
    if any(normalize_name(row[i]) in WITHDRAWAL_KINDS for i in kind_cols if i < len(row)):
        return True
    if amount:
        return False
    return any((parse_amount(row[i]) or 0) > 0 for i in withdrawal_cols if i < len(row))


def _store_day(moment) -> date:
    return moment.astimezone(ZoneInfo(settings.STORE_TIME_ZONE)).date()


def reconcile(*, deposits: list[Deposit], window_days: int = 7) -> list[MatchRow]:
    """Propose matches against every PENDING_PAYMENT order (one query, in-memory index)."""
    index: dict[tuple[str, Decimal], list[Order]] = defaultdict(list)
    for order in Order.objects.pending_payment().select_related("user").order_by("created_at"):
        index[(normalize_name(order.depositor_name), order.total)].append(order)
    window = timedelta(days=window_days)
    rows: list[MatchRow] = []
    for deposit in deposits:
        if deposit.error:
            rows.append(MatchRow(deposit=deposit, status=UNMATCHED, reason=deposit.error))
            continue
        candidates = [
            order
            for order in index.get((normalize_name(deposit.name), deposit.amount), [])
            if _store_day(order.created_at) <= deposit.date <= _store_day(order.created_at) + window
        ]
        if not candidates:
            rows.append(
                MatchRow(
                    deposit=deposit,
                    status=UNMATCHED,
                    reason="이름·금액·기간이 맞는 입금 대기 주문 없음",
                )
            )
        elif len(candidates) > 1:
            rows.append(
                MatchRow(
                    deposit=deposit,
                    status=AMBIGUOUS,
                    orders=candidates,
                    reason=f"같은 이름·금액의 주문 {len(candidates)}건",
                )
            )
        else:
            rows.append(MatchRow(deposit=deposit, status=PROPOSED, orders=candidates))
    # One order claimed by two deposits: neither is safe to confirm automatically.
    claims: dict[int, list[MatchRow]] = defaultdict(list)
    for row in rows:
        if row.status == PROPOSED:
            claims[row.orders[0].pk].append(row)
    for claimants in claims.values():
        if len(claimants) > 1:
            for row in claimants:
                row.status = AMBIGUOUS
                row.reason = f"같은 주문에 입금 {len(claimants)}건"
    return rows


def summarize(rows: list[MatchRow]) -> dict[str, int]:
    counts = {PROPOSED: 0, AMBIGUOUS: 0, UNMATCHED: 0}
    for row in rows:
        counts[row.status] += 1
    return counts


# --- Tracking numbers: `order_id,tracking_number` ------------------------------------------


@dataclass
class TrackingRow:
    row: int
    order_id: str
    tracking_number: str
    error: str = ""


def tracking_csv_parse(*, raw: bytes) -> list[TrackingRow]:
    """Rows of `order_id,tracking_number` (a header line is optional)."""
    text = statement_decode(raw)
    rows: list[TrackingRow] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if number == 1 and cells[0].casefold() in ("order_id", "주문번호"):
                continue
            if len(rows) >= MAX_ROWS:
                raise StatementError("TOO_MANY_ROWS", f"행이 너무 많습니다(최대 {MAX_ROWS:,}행).")
            if len(cells) < 2:
                rows.append(
                    TrackingRow(
                        number, cells[0][:40], "", "열이 2개(order_id,tracking_number)가 아닙니다"
                    )
                )
                continue
            rows.append(TrackingRow(number, cells[0][:40], cells[1][:120]))
    except csv.Error as exc:
        raise StatementError("BAD_CSV", f"CSV 형식 오류: {exc}") from None
    if not rows:
        raise StatementError("EMPTY_FILE", "처리할 행이 없습니다.")
    return rows
