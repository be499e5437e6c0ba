from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Order

MAX_LINES = 200


class CheckoutForm(forms.Form):
    """Only choices and amounts the shopper controls; prices always come from the database.
    `expected_total` is the total the page showed: a mismatch means prices moved (or the form
    was tampered with) and nothing is placed."""

    payment_method = forms.ChoiceField(
        label=_("결제 수단"),
        choices=Order.PaymentMethod.choices,
        error_messages={
            "required": _("결제 수단을 선택해 주세요."),
            "invalid_choice": _("결제 수단을 선택해 주세요."),
        },
    )
    points = forms.IntegerField(
        label=_("사용 포인트"),
        required=False,
        min_value=0,
        max_value=10_000_000,
        error_messages={
            "invalid": _("포인트는 0 이상의 정수로 입력해 주세요."),
            "min_value": _("포인트는 0 이상의 정수로 입력해 주세요."),
            "max_value": _("포인트가 너무 큽니다."),
        },
    )
    agree_terms = forms.BooleanField(
        label=_("주문 내용과 결제 조건(입금 기한 내 미입금 시 자동 취소)에 동의합니다"),
        error_messages={"required": _("주문 내용 확인에 동의해 주세요.")},
    )
    agree_privacy = forms.BooleanField(
        label=_("배송을 위한 개인정보 제공에 동의합니다"),
        error_messages={"required": _("개인정보 제공에 동의해 주세요.")},
    )
    idempotency_key = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{16,64}$",
        widget=forms.HiddenInput,
        error_messages={
            "invalid": _("잘못된 주문 요청입니다. 페이지를 새로고침해 주세요."),
            "required": _("잘못된 주문 요청입니다. 페이지를 새로고침해 주세요."),
        },
    )
    expected_total = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("결제 금액이 올바르지 않습니다. 페이지를 새로고침해 주세요.")},
    )

    def __init__(self, *args, line_ids_raw: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_ids_raw = line_ids_raw or []

    def clean(self):
        cleaned = super().clean()
        raw = self.line_ids_raw
        if len(raw) > MAX_LINES:
            raise forms.ValidationError(_("선택한 상품이 너무 많습니다."))
        try:
            cleaned["line_ids"] = sorted({int(value) for value in raw})
        except (TypeError, ValueError):
            raise forms.ValidationError(
                _("선택한 장바구니 상품을 확인할 수 없습니다. 장바구니를 새로고침해 주세요.")
            ) from None
        if not cleaned["line_ids"]:
            raise forms.ValidationError(_("주문할 상품을 선택해 주세요."))
        cleaned["points"] = cleaned.get("points") or 0
        return cleaned


def parse_line_ids(values: list[str]) -> list[int] | None:
    """Selected line ids from a query string; None when any is not an integer."""
    try:
        return sorted({int(value) for value in values[:MAX_LINES]})
    except (TypeError, ValueError):
        return None


def parse_points(value: str | None) -> int | None:
    if value in (None, ""):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 10_000_000 else None


class ShipCsvForm(forms.Form):
    file = forms.FileField(label=_("CSV 파일 (order_id,tracking_number)"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("취소 사유"), max_length=300, required=False)


class ReconcileForm(forms.Form):
    file = forms.FileField(label=_("입금 내역 CSV"))
    date_col = forms.CharField(label=_("날짜 열 이름"), initial="date", max_length=100)
    name_col = forms.CharField(label=_("입금자명 열 이름"), initial="name", max_length=100)
    amount_col = forms.CharField(label=_("금액 열 이름"), initial="amount", max_length=100)
    window_days = forms.IntegerField(label=_("허용 기간(일)"), initial=7, min_value=0, max_value=60)


class SettlementForm(forms.Form):
    """정산 기간: from/to days on the store's calendar, both inclusive, at most a year."""

    MAX_DAYS = 366

    start = forms.DateField(
        label=_("시작일"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("시작일을 입력해 주세요."),
            "invalid": _("날짜를 YYYY-MM-DD 형식으로 입력해 주세요."),
        },
    )
    end = forms.DateField(
        label=_("종료일"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("종료일을 입력해 주세요."),
            "invalid": _("날짜를 YYYY-MM-DD 형식으로 입력해 주세요."),
        },
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("종료일이 시작일보다 빠릅니다."))
            if (end - start).days >= self.MAX_DAYS:
                raise forms.ValidationError(_("기간은 최대 366일까지 조회할 수 있습니다."))
        return data
