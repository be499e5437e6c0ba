from decimal import Decimal

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.urls import reverse

from core.admin import AuditedModelAdmin
from core.models import AuditLog, Notice, SystemConfig, get_config
from core.services import audit_log_record

pytestmark = pytest.mark.django_db


def _form_data(instance) -> dict:
    """POST data equal to what the admin form would send back unchanged."""
    data = {}
    for name, value in model_to_dict(instance).items():
        if name == "id" or value is False:
            continue  # unchecked checkboxes are simply absent
        data[name] = "on" if value is True else ("" if value is None else value)
    return data


def test_admin_site_is_korean(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "도라미 관리자" in response.content.decode()


def test_config_changelist_opens_the_single_row(staff_client):
    response = staff_client.get(reverse("admin:core_systemconfig_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:core_systemconfig_change", args=[1])
    page = staff_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    for group in (
        "배송",
        "장바구니/예비번호",
        "결제",
        "포인트",
        "알림/채팅",
        "사업자 정보",
        "공지",
    ):
        assert f">{group}<" in html


def test_config_cannot_be_added_twice_or_deleted(staff_client):
    get_config()
    add = staff_client.get(reverse("admin:core_systemconfig_add"))
    delete = staff_client.get(reverse("admin:core_systemconfig_delete", args=[1]))
    assert add.status_code == 403
    assert delete.status_code == 403
    assert SystemConfig.objects.count() == 1


def test_config_fieldsets_show_every_editable_field(rf, staff_user):
    model_admin = admin.site._registry[SystemConfig]
    request = rf.get("/")
    request.user = staff_user
    shown = {
        name for _title, options in model_admin.get_fieldsets(request) for name in options["fields"]
    }
    editable = {
        f.name
        for f in SystemConfig._meta.concrete_fields
        if f.editable and f.name != "id" and not getattr(f, "auto_now", False)
    }
    assert shown == editable


def test_config_change_is_audited_with_before_and_after(staff_client, staff_user):
    config = get_config()
    data = _form_data(config) | {"shipping_fee_ca": "9.50", "bank_name": "Chase"}
    response = staff_client.post(reverse("admin:core_systemconfig_change", args=[config.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert get_config().shipping_fee_ca == Decimal("9.50")
    row = AuditLog.objects.get()
    assert row.actor == staff_user
    assert row.action == "admin.update"
    assert (row.object_type, row.object_id) == ("core.SystemConfig", "1")
    assert row.before == {"bank_name": "", "shipping_fee_ca": "8.00"}
    assert row.after == {"bank_name": "Chase", "shipping_fee_ca": "9.50"}


def test_invalid_config_is_refused_and_not_audited(staff_client):
    config = get_config()
    data = _form_data(config) | {"shipping_fee_ca": "-1", "default_cart_timer_minutes": "0"}
    response = staff_client.post(reverse("admin:core_systemconfig_change", args=[config.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert AuditLog.objects.count() == 0
    assert SystemConfig.objects.get(pk=1).shipping_fee_ca == Decimal("8.00")


def test_notice_add_toggle_delete_are_audited(staff_client, staff_user):
    response = staff_client.post(
        reverse("admin:core_notice_add"),
        {
            "kind": "IMPORTANT",
            "title": "배송 지연 안내",
            "body": "이번 주 배송이 늦어집니다.",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    notice = Notice.objects.get()
    created = AuditLog.objects.get(action="admin.create")
    assert created.before is None
    assert created.after["title"] == "배송 지연 안내"
    assert created.after["kind"] == "IMPORTANT"

    # list_editable on the changelist goes through the same audited save.
    response = staff_client.post(
        reverse("admin:core_notice_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(notice.pk),
            "_save": "저장",
        },
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.is_active is False
    updated = AuditLog.objects.get(action="admin.update")
    assert (updated.before, updated.after) == ({"is_active": True}, {"is_active": False})

    response = staff_client.post(
        reverse("admin:core_notice_delete", args=[notice.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Notice.objects.exists()
    deleted = AuditLog.objects.get(action="admin.delete")
    assert deleted.before["title"] == "배송 지연 안내"
    assert deleted.object_id == str(notice.pk)
    assert all(row.actor == staff_user for row in AuditLog.objects.all())


def test_audit_log_is_read_only_even_for_superusers(staff_client, staff_user, rf):
    row = audit_log_record(actor=staff_user, action="admin.update", object_type="x", object_id="7")
    model_admin = admin.site._registry[AuditLog]
    request = rf.get("/")
    request.user = staff_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
    assert model_admin.has_view_permission(request, row)

    assert staff_client.get(reverse("admin:core_auditlog_add")).status_code == 403
    change_url = reverse("admin:core_auditlog_change", args=[row.pk])
    assert staff_client.post(change_url, {"action": "forged"}).status_code == 403
    assert staff_client.get(change_url).status_code == 200  # view only
    delete_url = reverse("admin:core_auditlog_delete", args=[row.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.action == "admin.update"


def test_audit_log_list_filters_and_search(staff_client, staff_user, user_factory):
    other = user_factory(email="someone-else@example.com")
    audit_log_record(actor=staff_user, action="admin.update", object_type="a.B", object_id="41")
    audit_log_record(
        actor=other, action="payment_confirm", object_type="orders.Order", object_id="9"
    )
    url = reverse("admin:core_auditlog_changelist")

    def shown(params):
        response = staff_client.get(url, params)
        assert response.status_code == 200
        return {row.object_id for row in response.context["cl"].result_list}

    assert shown({}) == {"41", "9"}
    assert shown({"action": "payment_confirm"}) == {"9"}
    assert shown({"object_type": "a.B"}) == {"41"}
    assert shown({"q": "someone-else@"}) == {"9"}
    assert shown({"q": "41"}) == {"41"}
    assert "created_at__gte" in staff_client.get(url).content.decode()  # date filter links


def test_audited_mixin_is_reusable():
    assert issubclass(type(admin.site._registry[SystemConfig]), AuditedModelAdmin)
    assert issubclass(type(admin.site._registry[Notice]), AuditedModelAdmin)
    assert not issubclass(type(admin.site._registry[AuditLog]), AuditedModelAdmin)
