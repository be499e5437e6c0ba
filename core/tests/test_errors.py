import json

import pytest

from accounts.services import AccountError, EmailTaken
from core.errors import ServiceError, service_error_json
from live.services.chat import ChatError
from live.services.errors import LiveError, StreamUnknown
from orders.services import InvalidOrderStatus, OrderError
from points.services import InsufficientPoints, PointsError
from shop.services import InsufficientStock, ShopError


@pytest.mark.parametrize(
    "family", [AccountError, PointsError, ShopError, OrderError, LiveError, ChatError]
)
def test_every_service_error_family_shares_one_base(family):
    assert issubclass(family, ServiceError)


@pytest.mark.parametrize(
    ("error", "code", "message", "status"),
    [
        (EmailTaken(), "EMAIL_TAKEN", "이미 사용 중인 이메일입니다.", 400),
        (
            InsufficientPoints(balance=1200),
            "INSUFFICIENT_POINTS",
            "보유 포인트(1,200P)가 부족합니다.",
            400,
        ),
        (InsufficientStock(available=0), "INSUFFICIENT_STOCK", "품절되었습니다", 409),
        (
            InvalidOrderStatus(status="배송 완료"),
            "INVALID_ORDER_STATUS",
            "현재 주문 상태(배송 완료)에서는 할 수 없는 작업입니다.",
            400,
        ),
        (StreamUnknown(), "STREAM_UNKNOWN", "알 수 없는 방송입니다.", 400),
    ],
)
def test_one_json_answer_for_every_family(error, code, message, status):
    response = service_error_json(error)
    body = json.loads(response.content)
    assert response.status_code == status
    assert body["error"]["code"] == code
    assert body["error"]["message"] == message == error.message == str(error)


def test_a_given_message_wins_over_the_default():
    error = OrderError("주문을 찾을 수 없습니다.")
    assert (error.code, error.message) == ("ORDER_ERROR", "주문을 찾을 수 없습니다.")
