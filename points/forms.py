from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from points.services import MIN_REASON_LENGTH


class PointsAdjustForm(forms.Form):
    user = forms.CharField(label=_("회원 (이메일 또는 인스타그램 ID)"), max_length=254)
    amount = forms.IntegerField(
        label=_("포인트 (+지급 / −차감)"),
        min_value=-10_000_000,
        max_value=10_000_000,
        error_messages={"invalid": _("포인트는 정수로 입력해 주세요.")},
    )
    reason = forms.CharField(
        label=_("사유 (10자 이상)"),
        max_length=300,
        min_length=MIN_REASON_LENGTH,
        error_messages={"min_length": _("사유를 10자 이상 입력해 주세요.")},
    )

    def clean_user(self):
        value = self.cleaned_data["user"].strip()
        handle = value if value.startswith("@") else f"@{value}"
        user = (
            get_user_model()
            .objects.filter(Q(email__iexact=value) | Q(instagram_id__iexact=handle))
            .first()
        )
        if user is None:
            raise forms.ValidationError(_("회원을 찾을 수 없습니다."))
        return user

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("0이 아닌 포인트를 입력해 주세요."))
        return amount
