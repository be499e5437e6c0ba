"""Domain errors of the shop. Each carries a stable `code` (for JSON) and a Korean `message`."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import ServiceError


class ShopError(ServiceError):
    code = "SHOP_ERROR"
    default_message = "요청을 처리할 수 없습니다"
    status = 400

    def __init__(self, message: str | None = None, **extra):
        self.extra = extra
        super().__init__(message or _(self.default_message))

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), **self.extra}


class InsufficientStock(ShopError):
    code = "INSUFFICIENT_STOCK"
    status = 409

    def __init__(self, *, available: int, message: str | None = None):
        self.available = max(int(available), 0)
        if message is None:
            if self.available:
                message = _("재고가 부족합니다 (남은 수량 %(n)s개)") % {"n": self.available}
            else:
                message = _("품절되었습니다")
        super().__init__(message, available=self.available)


class InvalidQuantity(ShopError):
    code = "INVALID_QUANTITY"
    default_message = "수량이 올바르지 않습니다"


class QuantityLimit(ShopError):
    code = "MAX_PER_USER_EXCEEDED"
    status = 409

    def __init__(self, *, limit: int, message: str | None = None):
        self.limit = limit
        super().__init__(
            message or _("1인당 최대 %(n)s개까지 구매할 수 있습니다") % {"n": limit}, limit=limit
        )


class VariantUnavailable(ShopError):
    code = "VARIANT_UNAVAILABLE"
    status = 409
    default_message = "구매할 수 없는 상품입니다"


class AddUnconfirmed(ShopError):
    """The database lost the connection while committing adds: they may or may not be in the
    cart, so they are neither retried nor reported as done."""

    code = "ADD_UNCONFIRMED"
    status = 503
    default_message = "담기 결과를 확인하지 못했습니다. 장바구니를 확인해 주세요"


class ProductNotFound(ShopError):
    code = "PRODUCT_NOT_FOUND"
    status = 404
    default_message = "상품을 찾을 수 없습니다"


class LineNotFound(ShopError):
    code = "CART_LINE_NOT_FOUND"
    status = 404
    default_message = "장바구니 항목을 찾을 수 없습니다"


class LineExpired(ShopError):
    code = "CART_LINE_EXPIRED"
    status = 409
    default_message = "장바구니 유지 시간이 지났습니다. 다시 담아주세요"


class CartEmpty(ShopError):
    code = "CART_EMPTY"
    default_message = "장바구니가 비어 있습니다"


class CartItemsExpired(ShopError):
    code = "CART_ITEMS_EXPIRED"
    status = 409
    default_message = "장바구니 유지 시간이 지난 상품이 있습니다. 장바구니를 확인해주세요"


class CartItemsRemoved(CartItemsExpired):
    code = "CART_ITEMS_REMOVED"
    default_message = "판매자가 삭제한 상품이 장바구니에서 제외되었습니다. 장바구니를 확인해주세요"


class CartChanged(CartItemsExpired):
    code = "CART_CHANGED"
    default_message = "장바구니가 변경되었습니다. 다시 확인해주세요"


class WaitlistExists(ShopError):
    code = "WAITLIST_ALREADY_JOINED"
    status = 409
    default_message = "이미 예비번호를 받은 상품입니다"


class WaitlistNotNeeded(ShopError):
    code = "WAITLIST_NOT_NEEDED"
    status = 409
    default_message = "재고가 있어 바로 장바구니에 담을 수 있습니다"


class WaitlistNotFound(ShopError):
    code = "WAITLIST_NOT_FOUND"
    status = 404
    default_message = "예비번호를 찾을 수 없습니다"


class StockBelowHeld(ShopError):
    code = "STOCK_BELOW_HELD"
    status = 409

    def __init__(self, *, held: int, message: str | None = None):
        self.held = held
        super().__init__(
            message
            or _("장바구니에 담긴 수량(%(n)s개)보다 적게 재고를 줄일 수 없습니다") % {"n": held},
            held=held,
        )


class InvalidStock(ShopError):
    code = "INVALID_STOCK"
    default_message = "재고는 0~9999 사이여야 합니다"
