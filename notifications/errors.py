"""What a channel raises when a message did not go out."""

from __future__ import annotations

from core.errors import ServiceError


class SendError(Exception):
    """`retryable`: network errors and 5xx (try again later); otherwise a permanent failure."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class SubscriptionGone(SendError):
    """The push service answered 404/410: the browser unsubscribed; the row is deleted."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message, retryable=False, status=status)


class InvalidSubscription(ServiceError):
    code = "INVALID_SUBSCRIPTION"
    default_message = "푸시 구독 정보가 올바르지 않습니다."
