import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditLog
from orders.models import Order
from orders.tests.factories import make_order, make_stream, make_variant
from points.models import PointTransaction
from points.services import balance_of

CHANGELIST = "admin:orders_order_changelist"


def action(client, name, orders):
    return client.post(
        reverse(CHANGELIST),
        {"action": name, "_selected_action": [o.pk for o in orders]},
        follow=False,
    )


def test_changelist_filters_and_search(staff_client, shopper, user_factory):
    stream = make_stream(title="금요 라이브")
    live = make_order(user=shopper, items=[(make_variant(price="120.00", stream=stream), 1)])
    other_user = user_factory(
        profile_complete=True, instagram_id="@other.one", depositor_name="OTHER"
    )
    store = make_order(user=other_user, items=[(make_variant(price="10.00"), 1)])
    url = reverse(CHANGELIST)
    assert staff_client.get(url).status_code == 200

    def ids(params):
        html = staff_client.get(url, params).content.decode()
        return {o.order_id for o in (live, store) if o.order_id in html}

    assert ids({"stream": stream.pk}) == {live.order_id}
    assert ids({"stream": "store"}) == {store.order_id}
    assert ids({"amount": "100-200"}) == {live.order_id}
    assert ids({"amount": "lt50"}) == {store.order_id}
    assert ids({"q": "other.one"}) == {store.order_id}
    assert ids({"q": "other"}) == {store.order_id}
    assert ids({"q": live.order_id}) == {live.order_id}
    assert ids({"status__exact": "PENDING_PAYMENT"}) == {live.order_id, store.order_id}


def test_bulk_confirm_goes_through_payment_confirm(staff_client, shopper):
    a = make_order(user=shopper, items=[(make_variant(price="100.00"), 1)])
    b = make_order(user=shopper, items=[(make_variant(), 1)], status=Order.Status.CANCELLED)
    action(staff_client, "confirm_payment", [a, b])
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == "PAYMENT_CONFIRMED" and a.points_earned == 500
    assert b.status == "CANCELLED"
    assert balance_of(user=shopper) == 500
    assert a.events.get(kind="PAYMENT_CONFIRMED").actor == staff_client.user
    assert AuditLog.objects.filter(action="order.payment_confirmed", object_id=str(a.pk)).exists()


def test_cancel_needs_a_confirmation_page(staff_client, shopper):
    variant = make_variant(stock=5)
    order = make_order(user=shopper, items=[(variant, 2)])
    response = action(staff_client, "cancel_orders", [order])
    assert response.status_code == 302
    page = staff_client.get(response["Location"])
    assert order.order_id in page.content.decode()
    order.refresh_from_db()
    assert order.status == "PENDING_PAYMENT"
    staff_client.post(
        reverse("admin:orders_order_cancel"),
        {"ids": str(order.pk), "confirm": "yes", "reason": "고객 요청"},
    )
    order.refresh_from_db()
    variant.refresh_from_db()
    assert (order.status, order.cancel_reason, variant.stock) == ("CANCELLED", "고객 요청", 5)


def test_item_edit_page(staff_client, shopper):
    variant = make_variant(price="10.00", stock=5)
    order = make_order(user=shopper, items=[(variant, 1)])
    item = order.items.get()
    url = reverse("admin:orders_order_items", args=[order.pk])
    assert staff_client.get(url).status_code == 200
    staff_client.post(url, {f"qty-{item.pk}": "3"})
    order.refresh_from_db()
    assert order.subtotal == 30 and order.total == 38
    bad = staff_client.post(url, {f"qty-{item.pk}": "0"})
    assert "마지막 상품은 삭제할 수 없습니다" in bad.content.decode()
    too_many = staff_client.post(url, {f"qty-{item.pk}": "100"})
    assert too_many.status_code == 200
    assert order.items.get().quantity == 3


def test_ship_from_csv_reports_applied_and_rejected(staff_client, shopper, staff_user):
    from orders import services

    paid = make_order(user=shopper, items=[(make_variant(), 1)])
    services.payment_confirm(order=paid, actor=staff_user)
    unpaid = make_order(user=shopper, items=[(make_variant(), 1)])
    body = "\n".join(
        [
            "order_id,tracking_number",
            f"{paid.order_id},1Z999AA10123456784",
            f"{unpaid.order_id},1Z2",
            "ORD-00000000-00000,1Z3",
            paid.order_id,
        ]
    )
    response = staff_client.post(
        reverse("admin:orders_order_ship_csv"),
        {"file": SimpleUploadedFile("t.csv", body.encode())},
    )
    html = response.content.decode()
    assert "적용 1건 · 거부 3건" in html
    paid.refresh_from_db()
    assert (paid.status, paid.tracking_number) == ("SHIPPED", "1Z999AA10123456784")
    bad = staff_client.post(
        reverse("admin:orders_order_ship_csv"),
        {"file": SimpleUploadedFile("t.csv", b"\xff\xfe\xfa\xff,\xff\n")},
    )
    assert "인코딩" in bad.content.decode()


def test_exports_one_row_per_item(staff_client, shopper):
    order = make_order(
        user=shopper, items=[(make_variant(price="12.70"), 3), (make_variant(name="양말"), 1)]
    )
    response = action(staff_client, "export_csv", [order])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "주문번호"
    assert len(rows) == 3
    assert rows[1][11] == "38.10"
    xlsx = action(staff_client, "export_xlsx", [order])
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 3


def test_exports_never_hand_a_spreadsheet_a_formula(staff_client, user_factory):
    # given text a shopper or seller typed that a spreadsheet would run as a formula
    shopper = user_factory(
        profile_complete=True, instagram_id="@jisoo.lee", depositor_name="=HYPERLINK(1)"
    )
    variant = make_variant(name="+82 스페셜", price="10.00")
    order = make_order(user=shopper, items=[(variant, 1)])
    from orders.models import OrderItem

    OrderItem.objects.filter(order=order).update(option_label="-1+2", product_name="\t=cmd")
    # when the seller exports the order
    response = action(staff_client, "export_csv", [order])
    (csv_row,) = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    from openpyxl import load_workbook

    xlsx = action(staff_client, "export_xlsx", [order])
    (cells,) = load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(min_row=2)
    # then CSV cells start with ' and XLSX cells are text typed with a quote prefix
    assert [csv_row[3], csv_row[5]] == ["'@jisoo.lee", "'=HYPERLINK(1)"]
    assert csv_row[7:9] == ["'\t=cmd", "'-1+2"]
    assert csv_row[11] == "10.00"  # money stays a number
    for cell in (cells[3], cells[5], cells[7], cells[8]):
        assert cell.data_type == "s" and cell.quotePrefix, (cell.value, cell.data_type)
    assert cells[3].value == "@jisoo.lee"
    assert not cells[0].quotePrefix  # the order id is left alone


def test_change_view_is_read_only_with_events(staff_client, shopper):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    html = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert order.order_id in html
    assert "상품 수정" in html


def test_points_adjust_page(staff_client, shopper):
    url = reverse("admin:points_pointtransaction_adjust")
    short = staff_client.post(url, {"user": shopper.email, "amount": "500", "reason": "짧음"})
    assert "10자 이상" in short.content.decode()
    staff_client.post(
        url, {"user": shopper.instagram_id, "amount": "500", "reason": "이벤트 당첨 보상 지급"}
    )
    assert balance_of(user=shopper) == 500
    tx = PointTransaction.objects.get()
    assert tx.actor == staff_client.user and tx.kind == "MANUAL_ADD"
    assert AuditLog.objects.filter(action="points.adjust").exists()
    over = staff_client.post(
        url, {"user": shopper.email, "amount": "-600", "reason": "잘못 지급한 포인트 회수"}
    )
    assert "부족" in over.content.decode()
    assert staff_client.get(reverse("admin:points_pointtransaction_changelist")).status_code == 200


def test_order_page_confirms_payment_after_a_confirmation_step(staff_client, shopper):
    # given an unpaid order, its admin page offers 입금 확인
    order = make_order(user=shopper, items=[(make_variant(price="100.00"), 1)])
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    confirm_url = reverse("admin:orders_order_confirm", args=[order.pk])
    page = staff_client.get(change_url).content.decode()
    assert confirm_url in page and "입금 확인" in page
    assert "$108.00" in page  # money in dollars: $100 + $8 shipping
    # when the button is followed, a confirmation page comes first and changes nothing
    summary = staff_client.get(confirm_url).content.decode()
    assert (
        order.order_id in summary and "$108.00" in summary and "예, 입금을 확인했습니다" in summary
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    # then confirming goes through payment_confirm (status, points, event row with the actor)
    response = staff_client.post(confirm_url)
    assert response.status_code == 302 and response["Location"] == change_url
    order.refresh_from_db()
    assert order.status == Order.Status.PAYMENT_CONFIRMED and order.points_earned == 500
    assert order.events.get(kind="PAYMENT_CONFIRMED").actor == staff_client.user
    assert confirm_url not in staff_client.get(change_url).content.decode()
    # and a second confirm is refused with a Korean message, nothing changes
    again = staff_client.post(confirm_url, follow=True).content.decode()
    assert "이미" in again
    assert order.events.filter(kind="PAYMENT_CONFIRMED").count() == 1


def test_confirm_page_refuses_a_cancelled_order(staff_client, shopper):
    order = make_order(user=shopper, items=[(make_variant(), 1)], status=Order.Status.CANCELLED)
    confirm_url = reverse("admin:orders_order_confirm", args=[order.pk])
    page = staff_client.get(confirm_url).content.decode()
    assert "입금 확인할 수 없습니다" in page and "예, 입금을 확인했습니다" not in page
    staff_client.post(confirm_url)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_confirm_page_is_staff_only(shopper_client, shopper):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    response = shopper_client.post(reverse("admin:orders_order_confirm", args=[order.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
