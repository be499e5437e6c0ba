"""Profile forms: every rule of SPEC §2, each error in Korean next to its field."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import ADDRESS_KEYS, normalize_instagram_id

US_STATES = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"),
    ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"),
    ("DC", "District of Columbia"), ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"),
    ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"),
    ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"), ("MD", "Maryland"),
    ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"), ("MS", "Mississippi"),
    ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"),
    ("OR", "Oregon"), ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"),
    ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"),
    ("VT", "Vermont"), ("VA", "Virginia"), ("WA", "Washington"), ("WV", "West Virginia"),
    ("WI", "Wisconsin"), ("WY", "Wyoming"),
]  # fmt: skip
STATE_CODES = {code for code, _ in US_STATES}

INSTAGRAM_RE = re.compile(r"^@?[A-Za-z0-9._]+$")
ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
INSTAGRAM_MAX = 63  # the column holds 64 characters including the leading "@"

REQUIRED = "필수 입력 항목입니다."


def normalize_phone(value: str) -> str:
    """US (10 digits, optional +1/1) → +1XXXXXXXXXX; Korean (010…/+82…) → +82…; '' stays ''."""
    raw = value.strip()
    if not raw:
        return ""
    digits = re.sub(r"[\s\-().]", "", raw)
    if digits.startswith("+82"):
        rest = digits[3:]
        rest = rest[1:] if rest.startswith("0") else rest
        if re.fullmatch(r"1[016789]\d{7,8}", rest):
            return "+82" + rest
    elif digits.startswith("+1"):
        if re.fullmatch(r"[2-9]\d{9}", digits[2:]):
            return digits
    elif re.fullmatch(r"01[016789]\d{7,8}", digits):
        return "+82" + digits[1:]
    elif re.fullmatch(r"1?[2-9]\d{9}", digits):
        return "+1" + digits[-10:]
    raise ValidationError(
        "전화번호 형식이 올바르지 않습니다. "
        "미국 번호 10자리(+1) 또는 한국 번호(010, +82)를 입력해 주세요.",
        code="invalid_phone",
    )


def _text(
    label: str, max_length: int, *, missing: str | None, too_long: str, help_text: str = ""
) -> forms.CharField:
    """A stripped text field with Korean messages; `missing=None` makes it optional."""
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=missing is not None,
        error_messages={"required": missing or REQUIRED, "max_length": too_long},
        help_text=help_text,
    )


class ProfileForm(forms.Form):
    email = forms.EmailField(
        label="이메일",
        max_length=254,
        error_messages={
            "required": "이메일을 입력해 주세요.",
            "invalid": "올바른 이메일 주소를 입력해 주세요.",
        },
    )
    depositor_name = _text(
        "입금자명",
        100,
        missing="입금자명을 입력해 주세요.",
        too_long="입금자명은 100자 이하로 입력해 주세요.",
        help_text="계좌이체 시 보내는 분 이름과 같게 입력해 주세요.",
    )
    instagram_id = _text(
        "인스타그램 ID",
        INSTAGRAM_MAX + 1,
        missing="인스타그램 ID를 입력해 주세요.",
        too_long=f"인스타그램 ID는 {INSTAGRAM_MAX}자 이하로 입력해 주세요.",
        help_text="예: @dorami.style — 채팅에 표시됩니다.",
    )
    full_name = _text(
        "받는 분 성함",
        100,
        missing="받는 분 성함을 입력해 주세요.",
        too_long="성함은 100자 이하로 입력해 주세요.",
    )
    address1 = _text(
        "주소",
        200,
        missing="주소를 입력해 주세요.",
        too_long="주소는 200자 이하로 입력해 주세요.",
        help_text="번지와 도로명 (영문)",
    )
    address2 = _text(
        "상세 주소",
        200,
        missing=None,
        too_long="상세 주소는 200자 이하로 입력해 주세요.",
        help_text="아파트·건물 호수 등 (선택)",
    )
    city = _text(
        "도시", 100, missing="도시를 입력해 주세요.", too_long="도시는 100자 이하로 입력해 주세요."
    )
    state = forms.ChoiceField(
        label="주",
        choices=[("", "선택하세요")] + [(c, f"{c} — {n}") for c, n in US_STATES],
        error_messages={
            "required": "주를 선택해 주세요.",
            "invalid_choice": "미국 주(2자리 코드)를 목록에서 선택해 주세요.",
        },
    )
    zip = _text(
        "ZIP 코드",
        10,
        missing="ZIP 코드를 입력해 주세요.",
        too_long="ZIP 코드는 12345 또는 12345-6789 형식으로 입력해 주세요.",
    )
    phone = _text(
        "전화번호 (선택)",
        20,
        missing=None,
        too_long="전화번호가 너무 깁니다.",
        help_text="미국 10자리 또는 한국 010 번호",
    )

    def __init__(self, *args, user: User, email_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.email_locked = email_locked
        if email_locked:
            self.fields["email"].disabled = True
            self.fields["email"].help_text = "카카오 계정의 이메일입니다."
        autocomplete = {
            "email": "email",
            "full_name": "name",
            "address1": "address-line1",
            "address2": "address-line2",
            "city": "address-level2",
            "state": "address-level1",
            "zip": "postal-code",
            "phone": "tel",
            "instagram_id": "off",
        }
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("autocomplete", autocomplete.get(name, "on"))
        self.fields["zip"].widget.attrs.update(inputmode="numeric", placeholder="90010")
        self.fields["phone"].widget.attrs.update(inputmode="tel", placeholder="213-555-0100")
        self.fields["instagram_id"].widget.attrs.update(
            placeholder="@dorami.style", autocapitalize="none", spellcheck="false"
        )

    @classmethod
    def initial_for(cls, user: User) -> dict:
        address = user.shipping_address
        return {
            "email": user.email,
            "depositor_name": user.depositor_name,
            "instagram_id": user.instagram_id or "",
            "phone": user.phone,
            **{key: address.get(key, "") for key in ADDRESS_KEYS},
        }

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        taken = User.objects.filter(email__iexact=email).exclude(pk=self.user.pk).exists()
        if taken:
            raise ValidationError("이미 사용 중인 이메일입니다.", code="email_taken")
        return email

    def clean_instagram_id(self) -> str:
        value = self.cleaned_data["instagram_id"].strip()
        if not INSTAGRAM_RE.match(value):
            raise ValidationError(
                "인스타그램 ID는 영문, 숫자, 마침표(.), 밑줄(_)만 사용할 수 있습니다.",
                code="invalid_instagram",
            )
        value = normalize_instagram_id(value)
        if len(value) > INSTAGRAM_MAX + 1:
            raise ValidationError(
                f"인스타그램 ID는 {INSTAGRAM_MAX}자 이하로 입력해 주세요.", code="max_length"
            )
        taken = User.objects.filter(instagram_id__iexact=value).exclude(pk=self.user.pk).exists()
        if taken:
            raise ValidationError("이미 사용 중인 인스타그램 ID입니다", code="instagram_taken")
        return value

    def clean_state(self) -> str:
        value = self.cleaned_data["state"].strip().upper()
        if value not in STATE_CODES:
            raise ValidationError("미국 주(2자리 코드)를 목록에서 선택해 주세요.", code="invalid")
        return value

    def clean_zip(self) -> str:
        value = self.cleaned_data["zip"].strip()
        if not ZIP_RE.match(value):
            raise ValidationError(
                "ZIP 코드는 12345 또는 12345-6789 형식으로 입력해 주세요.", code="invalid_zip"
            )
        return value

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone") or "")


class DevLoginForm(forms.Form):
    email = ProfileForm.base_fields["email"]
