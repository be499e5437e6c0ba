"""Domain errors of the orders app: a stable `code` and a Korean `message` each."""

from __future__ import annotations

from core.errors import ServiceError


class OrderError(ServiceError):
    code = "ORDER_ERROR"
    default_message = "주문을 처리할 수 없습니다."


class OrderAlreadyConfirmed(OrderError):
    code = "ORDER_ALREADY_CONFIRMED"
    default_message = "이미 입금 확인된 주문입니다."


class OrderCancelled(OrderError):
    code = "ORDER_CANCELLED"
    default_message = "취소된 주문입니다."


class InvalidOrderStatus(OrderError):
    code = "INVALID_ORDER_STATUS"
    default_message = "현재 주문 상태({status})에서는 할 수 없는 작업입니다."


class TrackingNumberRequired(OrderError):
    code = "TRACKING_NUMBER_REQUIRED"
    default_message = "운송장 번호를 입력해 주세요."


class CartLinesInvalid(OrderError):
    code = "CART_LINES_INVALID"
    default_message = "선택한 장바구니 상품을 확인할 수 없습니다. 장바구니를 새로고침해 주세요."


class PriceChanged(OrderError):
    code = "PRICE_CHANGED"
    default_message = "결제 금액이 변경되었습니다. 금액을 다시 확인해 주세요."


class PaymentMethodUnavailable(OrderError):
    code = "PAYMENT_METHOD_UNAVAILABLE"
    default_message = "선택한 결제 수단을 사용할 수 없습니다."


class ProfileIncomplete(OrderError):
    code = "PROFILE_INCOMPLETE"
    default_message = "주문 전에 프로필(입금자명, 배송지)을 완성해 주세요."


class LastItemRemoval(OrderError):
    code = "LAST_ITEM_REMOVAL"
    default_message = "주문의 마지막 상품은 삭제할 수 없습니다. 주문 취소를 이용해 주세요."


class InvalidQuantity(OrderError):
    code = "INVALID_QUANTITY"
    default_message = "수량은 0 이상 9999 이하의 정수여야 합니다."
