"""Checkout and order pages as a shopper reads them on a phone."""

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent
from orders.tests.factories import hold, make_order, make_variant
from points.services import points_adjust

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "message", "detail"),
    [
        ("CREATED", "주문 생성 (결제 금액 $108.00)", "결제 금액 $108.00"),
        ("PAYMENT_CONFIRMED", "입금 확인 ($108.00), 포인트 500P 적립", "$108.00, 포인트 500P 적립"),
        ("DELIVERED", "배송 완료", ""),
        ("CANCELLED", "주문 취소: 단순 변심", "단순 변심"),
        ("SHIPPED", "발송 (운송장 1Z999)", "운송장 1Z999"),
        ("NOTE", "고객 요청으로 합배송", "고객 요청으로 합배송"),
    ],
)
def test_event_detail_drops_the_kind_words(kind, message, detail):
    assert OrderEvent(kind=kind, message=message).detail == detail


def test_order_detail_has_number_and_status_in_one_row_and_no_repeated_text(shopper_client):
    order = make_order(user=shopper_client.user, items=[(make_variant(price="100.00"), 1)])
    OrderEvent.objects.create(order=order, kind="CREATED", message="주문 생성 (결제 금액 $108.00)")

    html = shopper_client.get(reverse("orders:detail", args=[order.order_id])).content.decode()

    head = html.split('class="order-row-head"', 1)[1].split("</div>", 1)[0]
    assert order.order_id in head and 'data-testid="order-status"' in head
    timeline = html.split('data-testid="order-timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("주문 생성") == 1
    assert "결제 금액 $108.00" in timeline


def test_points_below_the_minimum_are_explained_and_disabled(shopper_client):
    hold(user=shopper_client.user, variant=make_variant(price="100.00"))
    points_adjust(user=shopper_client.user, amount=500, reason="테스트 포인트 적립", actor=None)

    html = shopper_client.get(reverse("orders:checkout")).content.decode()

    assert 'data-testid="points-locked"' in html and "1,000P 이상" in html
    points_input = html.split('id="points-input"', 1)[1].split(">", 1)[0]
    assert " disabled" in points_input


def test_points_at_the_minimum_can_be_used(shopper_client):
    hold(user=shopper_client.user, variant=make_variant(price="100.00"))
    points_adjust(user=shopper_client.user, amount=1000, reason="테스트 포인트 적립", actor=None)

    html = shopper_client.get(reverse("orders:checkout")).content.decode()

    assert 'data-testid="points-locked"' not in html
    assert " disabled" not in html.split('id="points-input"', 1)[1].split(">", 1)[0]


def test_checkout_summary_includes_only_its_inputs_and_errors_sit_by_the_button(shopper_client):
    hold(user=shopper_client.user, variant=make_variant(price="100.00"))
    response = shopper_client.post(
        reverse("orders:checkout"),
        {"payment_method": "ZELLE", "idempotency_key": "k" * 32},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    include = html.split('class="checkout-inputs"', 1)[1].split(">", 1)[0]
    assert 'hx-include="#checkout-form [name=line_ids]' in include
    assert 'hx-include="#checkout-form"' not in html
    submit = html.split('class="checkout-submit"', 1)[1]
    assert submit.index("checkout-form-errors") < submit.index('data-testid="place-order"')
    assert Order.objects.count() == 0
