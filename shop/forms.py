"""Shopper input, parsed before it reaches a service: services take ints, never POST strings.

A form's bad field becomes the ShopError the page or the JSON client has always got
(`INVALID_QUANTITY`, `VARIANT_UNAVAILABLE`), so bad input loses nothing and says why."""

from __future__ import annotations

from django import forms

from shop.models import MAX_ID, MAX_STOCK
from shop.services import AddRequest, InvalidQuantity, ShopError, VariantUnavailable
from shop.services.waitlist import WAITLIST_MAX_QUANTITY


def int_in_range(value, *, low: int, high: int) -> int | None:
    """An int within [low, high] from an int or a plain digit string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdecimal() or len(value) > len(str(high)):
            return None
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def id_clean(value) -> int | None:
    """A primary key from user input (int or digit string), or None — never a DB error."""
    return int_in_range(value, low=1, high=MAX_ID)


class DigitsField(forms.Field):
    """A whole number typed as plain digits within [low, high] ("1.0", "1e3", "+1" are not)."""

    def __init__(self, *, low: int, high: int, **kwargs):
        self.low, self.high = low, high
        super().__init__(**kwargs)

    def to_python(self, value):
        parsed = int_in_range(value, low=self.low, high=self.high)
        if parsed is None:
            raise forms.ValidationError("out of range", code="invalid")
        return parsed


class _ShopForm(forms.Form):
    """`parsed()`: the cleaned values, or raises the first bad field's ShopError."""

    errors_by_field: dict[str, type[ShopError]] = {}
    defaults: dict[str, str] = {}

    @classmethod
    def from_post(cls, post) -> _ShopForm:
        data = {name: post.get(name, cls.defaults.get(name, "")) for name in cls.base_fields}
        return cls(data=data)

    def parsed(self) -> dict:
        if not self.is_valid():
            for name in self.base_fields:
                if name in self.errors:
                    raise self.error_for(name)
        return self.cleaned_data

    def error_for(self, name: str) -> ShopError:
        return self.errors_by_field[name]()


class CartAddForm(_ShopForm):
    quantity = DigitsField(low=1, high=MAX_STOCK)
    variant_id = DigitsField(low=1, high=MAX_ID)
    errors_by_field = {"quantity": InvalidQuantity, "variant_id": VariantUnavailable}
    defaults = {"quantity": "1"}

    def add_request(self, user) -> AddRequest:
        """The add for `cart_add_batch`; a bad field is passed as None, which the batch
        answers with that field's error, like every other refusal of the batch."""
        self.is_valid()
        data = self.cleaned_data
        return AddRequest(user, data.get("variant_id"), data.get("quantity"))


class LineQuantityForm(_ShopForm):
    quantity = DigitsField(low=1, high=MAX_STOCK)
    errors_by_field = {"quantity": InvalidQuantity}


class WaitlistJoinForm(_ShopForm):
    quantity = DigitsField(low=1, high=WAITLIST_MAX_QUANTITY)
    variant_id = DigitsField(low=1, high=MAX_ID)
    errors_by_field = {"quantity": InvalidQuantity, "variant_id": VariantUnavailable}
    defaults = {"quantity": "1"}

    def error_for(self, name: str) -> ShopError:
        if name == "quantity":
            return InvalidQuantity(f"예비번호 수량은 1~{WAITLIST_MAX_QUANTITY}개 사이여야 합니다")
        return super().error_for(name)
