from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from orders import reconciliation as rec
from orders.models import Order
from orders.services.numbering import store_today
from orders.tests.factories import make_order, make_variant


def order_for(user_factory, *, depositor: str, price: str = "42.00"):
    user = user_factory(profile_complete=True, depositor_name=depositor)
    return make_order(user=user, items=[(make_variant(price=price), 1)], shipping_fee="0.00")


def statement(rows, header="date,name,amount", encoding="utf-8") -> bytes:
    text = "\n".join([header, *rows]) + "\n"
    return text.encode(encoding)


def upload(client, raw: bytes):
    return client.post(
        reverse("admin:orders_order_reconcile"),
        {
            "step": "upload",
            "file": SimpleUploadedFile("statement.csv", raw),
            "date_col": "date",
            "name_col": "name",
            "amount_col": "amount",
            "window_days": 7,
        },
    )


def run(raw: bytes, **kwargs):
    deposits = rec.statement_parse(raw=raw, date_col="date", name_col="name", amount_col="amount")
    return rec.reconcile(deposits=deposits, window_days=kwargs.get("window_days", 7))


@pytest.fixture
def today():
    return store_today().isoformat()


def test_exact_match_is_proposed(user_factory, today):
    order = order_for(user_factory, depositor="김민지")
    rows = run(statement([f"{today},김민지,42.00"]))
    assert [(r.status, r.order) for r in rows] == [(rec.PROPOSED, order)]


def test_spacing_case_and_width_do_not_matter(user_factory, today):
    order = order_for(user_factory, depositor="Jisoo Lee")
    rows = run(statement([f"{today},  JISOO   lee ,$42.00", f"{today},ＪＩＳＯＯＬＥＥ,42"]))
    assert [r.status for r in rows] == [rec.AMBIGUOUS, rec.AMBIGUOUS]  # both claim one order
    single = run(statement([f'{today},jisoolee,"42.00"']))
    assert single[0].status == rec.PROPOSED and single[0].order == order


def test_two_orders_same_name_and_amount_are_ambiguous(user_factory, today, staff_client):
    a = order_for(user_factory, depositor="박하늘")
    b = order_for(user_factory, depositor="박하늘")
    rows = run(statement([f"{today},박하늘,42.00"]))
    assert rows[0].status == rec.AMBIGUOUS
    assert {o.pk for o in rows[0].orders} == {a.pk, b.pk}
    # and the admin page offers no checkbox for it: nothing is auto-confirmed
    response = upload(staff_client, statement([f"{today},박하늘,42.00"]))
    html = response.content.decode()
    assert 'data-status="ambiguous"' in html
    assert 'name="order"' not in html
    assert Order.objects.filter(status="PAYMENT_CONFIRMED").count() == 0


def test_wrong_amount_or_outside_the_window_is_unmatched(user_factory, today):
    order_for(user_factory, depositor="김민지")
    late = (store_today() + timedelta(days=8)).isoformat()
    early = (store_today() - timedelta(days=1)).isoformat()
    rows = run(
        statement([f"{today},김민지,42.01", f"{late},김민지,42.00", f"{early},김민지,42.00"])
    )
    assert [r.status for r in rows] == [rec.UNMATCHED] * 3


def test_confirmed_or_cancelled_orders_are_not_candidates(user_factory, today):
    order = order_for(user_factory, depositor="김민지")
    Order.objects.filter(pk=order.pk).update(status="CANCELLED")
    assert run(statement([f"{today},김민지,42.00"]))[0].status == rec.UNMATCHED


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (statement(["2026-01-01,a,1"], header="when,who,how much"), "MISSING_COLUMNS"),
        (b"", "EMPTY_FILE"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "NOT_CSV"),
        (b"date,name,amount\n2026-01-01,\xff\xfe\xfa\xff,1\n", "BAD_ENCODING"),
    ],
)
def test_bad_files_are_reported_whole(db, raw, code):
    with pytest.raises(rec.StatementError) as caught:
        rec.statement_parse(raw=raw, date_col="date", name_col="name", amount_col="amount")
    assert caught.value.code == code
    assert caught.value.message


def test_bom_and_cp949_are_accepted(user_factory, today):
    order = order_for(user_factory, depositor="홍길동")
    for raw in (
        "\ufeff".encode() + statement([f"{today},홍길동,42.00"]),
        statement([f"{today},홍길동,42.00"], encoding="cp949"),
    ):
        rows = run(raw)
        assert rows[0].status == rec.PROPOSED and rows[0].order == order


def test_bad_rows_are_listed_not_fatal(user_factory, today):
    order_for(user_factory, depositor="김민지")
    rows = run(
        statement(
            [
                f"{today},김민지,abc",
                "yesterday,김민지,42.00",
                f"{today},김민지,-42.00",
                f"{today},,42.00",
            ]
        )
    )
    assert [r.status for r in rows] == [rec.UNMATCHED] * 4
    assert all(r.reason for r in rows)


def test_ten_thousand_rows_are_handled_and_more_are_refused(user_factory, today):
    order = order_for(user_factory, depositor="김민지")
    many = [f"{today},someone{i},{i}.00" for i in range(9_999)] + [f"{today},김민지,42.00"]
    rows = run(statement(many))
    assert len(rows) == 10_000
    assert rec.summarize(rows)[rec.PROPOSED] == 1
    assert rows[-1].order == order
    with pytest.raises(rec.StatementError) as caught:
        run(statement([*many, f"{today},x,1.00"]))
    assert caught.value.code == "TOO_MANY_ROWS"


def test_admin_one_click_confirms_selected_matches(user_factory, today, staff_client):
    a = order_for(user_factory, depositor="김민지")
    b = order_for(user_factory, depositor="이지수", price="10.00")
    rows = [f"{today},김민지,42.00", f"{today},이지수,10.00", f"{today},nobody,1.00"]
    html = upload(staff_client, statement(rows)).content.decode()
    assert html.count('name="order"') == 2
    assert "미일치 1건" in html
    confirm = staff_client.post(
        reverse("admin:orders_order_reconcile"), {"step": "confirm", "order": [a.pk, b.pk]}
    )
    assert "입금 확인 2건" in confirm.content.decode()
    assert Order.objects.filter(status="PAYMENT_CONFIRMED").count() == 2
    again = staff_client.post(
        reverse("admin:orders_order_reconcile"), {"step": "confirm", "order": [a.pk]}
    )
    assert "이미 입금 확인된 주문입니다." in again.content.decode()


def test_admin_reports_a_bad_file_without_500(staff_client, db):
    response = upload(staff_client, b"foo,bar\n1,2\n")
    assert response.status_code == 200
    assert "MISSING_COLUMNS" in response.content.decode()


def test_management_command(user_factory, today, tmp_path, capsys):
    order = order_for(user_factory, depositor="김민지")
    path = tmp_path / "bank.csv"
    path.write_bytes(
        statement([f"{today},김민지,42.00"], header="Posted,Payer,Credit", encoding="cp949")
    )
    call_command(
        "reconcile_payments",
        str(path),
        "--date-col",
        "Posted",
        "--name-col",
        "Payer",
        "--amount-col",
        "Credit",
    )
    out = capsys.readouterr().out
    assert order.order_id in out and "proposed" in out
    order.refresh_from_db()
    assert order.status == "PENDING_PAYMENT"
    call_command(
        "reconcile_payments",
        str(path),
        "--date-col",
        "Posted",
        "--name-col",
        "Payer",
        "--amount-col",
        "Credit",
        "--confirm",
    )
    order.refresh_from_db()
    assert order.status == "PAYMENT_CONFIRMED"
    assert order.confirmed_at <= timezone.now()
    assert Decimal(order.total) == Decimal("42.00")


@pytest.mark.parametrize(
    "written",
    [
        "{y}.{m}.{d} 04:36:55",
        "{y}/{m}/{d} 04:36:55",
        "{y}-{m}-{d}T04:36:55",
        "{y}-{m}-{d}T04:36:55.123",
        "{y}년 {m}월 {d}일",
        "{y}년 {m}월 {d}일 04:36",
        "{y}. {m}. {d}.",
    ],
)
def test_bank_date_formats_are_read(written):
    assert rec.parse_date(written.format(y="2026", m="12", d="03")).isoformat() == "2026-12-03"


def test_an_iso_date_with_an_offset_is_read_as_the_store_day(settings):
    settings.STORE_TIME_ZONE = "America/Los_Angeles"
    assert rec.parse_date("2026-12-03T04:36:55Z").isoformat() == "2026-12-02"


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("date,name,amount", "{today},김민지,-42.00"),
        ("date,name,amount", "{today},김민지,(42.00)"),
        ("date,name,amount,출금", "{today},김민지,,42.00"),  # deposit/withdrawal columns
        ("date,name,amount,출금", "{today},김민지,0,42.00"),
        ("date,name,amount,type", "{today},김민지,42.00,출금"),
        ("date,name,amount,Type", "{today},김민지,42.00,DEBIT"),
    ],
)
def test_a_withdrawal_row_is_reported_as_a_withdrawal(user_factory, today, header, row):
    order_for(user_factory, depositor="김민지")
    rows = run(statement([row.format(today=today)], header=header))
    assert [r.status for r in rows] == [rec.UNMATCHED]
    assert rows[0].reason == "출금 내역입니다(입금이 아님)"
