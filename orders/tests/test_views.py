import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import get_config
from orders.models import Order
from orders.tests.factories import hold, make_order, make_stream, make_variant
from points.services import points_adjust

TOKEN = "t" * 32


def checkout_post(client, **overrides):
    data = {
        "payment_method": "BANK_TRANSFER",
        "points": "",
        "agree_terms": "1",
        "agree_privacy": "1",
        "idempotency_key": TOKEN,
        **overrides,
    }
    return client.post(reverse("orders:checkout"), data)


def test_checkout_page_shows_lines_shipping_and_points(shopper_client):
    user = shopper_client.user
    points_adjust(user=user, amount=10000, reason="테스트 포인트 지급 사유", actor=None)
    line = hold(user=user, variant=make_variant(price="72.00"))
    response = shopper_client.get(reverse("orders:checkout"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{line.pk}"' in html
    assert "$8.00" in html and "$80.00" in html
    assert "4,000P" in html  # at most 50% of $80
    assert "최대 50%" in html
    assert "전액 사용" in html
    assert 'name="idempotency_key"' in html


def test_checkout_places_the_order_and_shows_the_complete_page(shopper_client):
    user = shopper_client.user
    line = hold(user=user, variant=make_variant(price="19.99"))
    response = checkout_post(shopper_client, line_ids=[line.pk], expected_total="27.99")
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:complete", args=[order.order_id])
    page = shopper_client.get(response["Location"]).content.decode()
    assert order.order_id in page
    assert "$27.99" in page
    assert user.depositor_name in page
    assert 'data-copy="' in page
    # a resubmit of the same form lands on the same order
    again = checkout_post(shopper_client, line_ids=[line.pk], expected_total="27.99")
    assert again["Location"] == response["Location"]
    assert Order.objects.count() == 1


def _checkout_post(client, line, **extra):
    data = {
        "payment_method": "ZELLE",
        "agree_terms": "1",
        "agree_privacy": "1",
        "idempotency_key": TOKEN,
        "line_ids": [line.pk],
        **extra,
    }
    return client.post(reverse("orders:checkout"), data, HTTP_HX_REQUEST="true")


def test_htmx_checkout_page_redirects_the_client(shopper_client):
    line = hold(user=shopper_client.user, variant=make_variant(price="10.00"))
    response = _checkout_post(shopper_client, line)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/orders/ORD-")


def test_live_sheet_checkout_answers_the_complete_card_in_the_sheet(shopper_client):
    # given the payment details in the config and a held line
    config = get_config()
    config.zelle_email = "pay@dorami.example"
    config.save()
    line = hold(user=shopper_client.user, variant=make_variant(price="10.00"))

    # when the live page's checkout sheet places the order
    response = _checkout_post(shopper_client, line, sheet="1")

    # then the shopper stays on the live page: no redirect, the sheet gets the complete card
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert response["HX-Trigger"] == "cart-changed"
    order = Order.objects.get()
    html = response.content.decode()
    assert order.order_id in html
    assert "$18.00" in html  # $10.00 + $8.00 shipping
    assert 'data-copy="pay@dorami.example"' in html
    assert "data-sheet-close" in html
    assert "<html" not in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"points": "abc"}, "포인트는 0 이상의 정수로 입력해 주세요."),
        ({"points": "-5"}, "포인트는 0 이상의 정수로 입력해 주세요."),
        ({"agree_terms": ""}, "주문 내용 확인에 동의해 주세요."),
        ({"payment_method": "CASH"}, "결제 수단을 선택해 주세요."),
        ({"line_ids": ["1 OR 1=1"]}, "장바구니를 새로고침해 주세요."),
        ({"idempotency_key": "x"}, "페이지를 새로고침해 주세요."),
        ({"expected_total": "0.01"}, "결제 금액이 변경되었습니다."),
        ({"points": "500"}, "최소 1,000P부터"),
    ],
)
def test_bad_checkout_input_places_nothing(shopper_client, overrides, message):
    line = hold(user=shopper_client.user, variant=make_variant(price="10.00"))
    overrides.setdefault("line_ids", [line.pk])
    response = checkout_post(shopper_client, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_someone_elses_line_id_is_refused(shopper_client, user_factory):
    other = user_factory(profile_complete=True)
    theirs = hold(user=other, variant=make_variant())
    hold(user=shopper_client.user, variant=make_variant())
    response = checkout_post(shopper_client, line_ids=[theirs.pk])
    assert response.status_code == 400
    assert "CART_ITEMS_EXPIRED" in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_needs_a_complete_profile(client, user_factory):
    client.force_login(user_factory())
    response = client.get(reverse("orders:checkout"))
    assert response.status_code == 302
    assert "/profile/register/" in response["Location"]


def test_summary_recomputes_points_and_errors(shopper_client):
    user = shopper_client.user
    points_adjust(user=user, amount=10000, reason="테스트 포인트 지급 사유", actor=None)
    line = hold(user=user, variant=make_variant(price="72.00"))
    url = reverse("orders:checkout-summary")
    ok = shopper_client.get(url, {"line_ids": [line.pk], "points": "2000"}).content.decode()
    assert "-$20.00" in ok and "$60.00" in ok
    too_much = shopper_client.get(url, {"line_ids": [line.pk], "points": "5000"}).content.decode()
    assert "POINTS_EXCEED_MAX" in too_much


def test_checkout_sheet_is_a_partial(shopper_client):
    hold(user=shopper_client.user, variant=make_variant())
    html = shopper_client.get(reverse("orders:checkout-sheet")).content.decode()
    assert 'id="checkout-form"' in html
    assert "<html" not in html
    assert 'name="sheet"' in html


def test_cart_shipping_partial_matches_checkout(shopper_client):
    stream = make_stream(mode="THRESHOLD", threshold="20.00")
    hold(user=shopper_client.user, variant=make_variant(price="12.70", stream=stream), quantity=2)
    html = shopper_client.get(reverse("orders:cart-shipping")).content.decode()
    assert "$0.00" in html and "$25.40" in html


def test_my_orders_tabs_and_detail(shopper_client, staff_user, django_assert_num_queries):
    from orders import services

    user = shopper_client.user
    for _ in range(3):
        make_order(user=user, items=[(make_variant(), 1), (make_variant(name="양말"), 2)])
    paid = make_order(user=user, items=[(make_variant(price="100.00"), 1)])
    services.payment_confirm(order=paid, actor=staff_user)
    url = reverse("orders:my-orders")
    shopper_client.get(url)  # warm the session/config caches
    with django_assert_num_queries(5):  # + the header cart badge
        html = shopper_client.get(url).content.decode()
    assert html.count('data-testid="order-row"') == 4
    confirmed = shopper_client.get(url, {"status": "PAYMENT_CONFIRMED"}).content.decode()
    assert confirmed.count('data-testid="order-row"') == 1
    detail = shopper_client.get(reverse("orders:detail", args=[paid.order_id])).content.decode()
    assert "입금 확인" in detail
    assert "500P" in detail
    assert "Wilshire" in detail  # decrypted for its owner only


def test_other_users_order_is_404(shopper_client, user_factory):
    other = user_factory(profile_complete=True)
    order = make_order(user=other, items=[(make_variant(), 1)])
    assert shopper_client.get(reverse("orders:detail", args=[order.order_id])).status_code == 404
    assert shopper_client.get(reverse("orders:complete", args=[order.order_id])).status_code == 404


def test_my_points_page(shopper_client):
    points_adjust(
        user=shopper_client.user, amount=1234, reason="테스트 포인트 지급 사유", actor=None
    )
    html = shopper_client.get(reverse("points:my-points")).content.decode()
    assert "1,234P" in html
    assert "관리자 지급" in html


def test_cart_page_shows_shipping_from_orders(shopper_client):
    hold(user=shopper_client.user, variant=make_variant(price="10.00"))
    html = shopper_client.get(reverse("shop:cart")).content.decode()
    assert re.search(r"배송비.*\$8\.00", html, re.S)
    assert "$18.00" in html
    assert Decimal("18.00")


def test_checkout_page_query_count(shopper_client, django_assert_num_queries):
    user = shopper_client.user
    stream = make_stream()
    for index in range(5):
        hold(user=user, variant=make_variant(price="10.00", stream=stream, name=f"상품{index}"))
    url = reverse("orders:checkout")
    shopper_client.get(url)
    with django_assert_num_queries(6):  # + the header cart badge
        assert shopper_client.get(url).status_code == 200


def test_use_all_fills_in_the_maximum_out_of_band(shopper_client):
    user = shopper_client.user
    points_adjust(user=user, amount=10000, reason="테스트 포인트 지급 사유", actor=None)
    line = hold(user=user, variant=make_variant(price="72.00"))
    html = shopper_client.get(
        reverse("orders:checkout-summary"), {"line_ids": [line.pk], "points": "", "use_all": "1"}
    ).content.decode()
    assert re.search(r'id="points-input"[^>]*value="4000"[^>]*hx-swap-oob="true"', html)
    assert "-$40.00" in html


def test_htmx_checkout_error_swaps_only_the_form(shopper_client):
    line = hold(user=shopper_client.user, variant=make_variant(price="10.00"))
    response = shopper_client.post(
        reverse("orders:checkout"),
        {
            "payment_method": "BANK_TRANSFER",
            "agree_privacy": "1",
            "idempotency_key": TOKEN,
            "line_ids": [line.pk],
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="checkout-form"')
    assert "주문 내용 확인에 동의해 주세요." in html
    assert f'value="{TOKEN}"' in html  # the retry keeps the form token
    assert not Order.objects.exists()


def test_my_orders_tab_switch_swaps_list_and_tabs(shopper_client):
    make_order(user=shopper_client.user, items=[(make_variant(), 1)])
    html = shopper_client.get(
        reverse("orders:my-orders"), {"status": "CANCELLED"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert html.lstrip().startswith('<div id="order-list">')
    assert 'class="chip selected" href="?status=CANCELLED"' in html
    assert "주문 내역이 없습니다." in html
