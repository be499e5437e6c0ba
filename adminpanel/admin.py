"""Admin site (Korean): site titles, and the admin pages of core's SystemConfig, notices and
audit log (their audited base, `core.admin.AuditedModelAdmin`, lives in core)."""

from __future__ import annotations

import json
from pathlib import Path

from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.sites.models import Site
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedModelAdmin
from core.models import AuditLog, Notice, SystemConfig, get_config
from orders.models import OrderEvent

admin.site.site_header = _("도라미 관리자")
admin.site.site_title = _("도라미 관리자")
admin.site.index_title = _("관리")
# The index page opens with the sales dashboard (templates/admin/_dashboard.html).
admin.site.index_template = "admin/dorami_index.html"

# Menus the seller never needs, their forms in English: the Kakao app is configured by settings
# (SOCIALACCOUNT_PROVIDERS), OAuth tokens are not stored (SOCIALACCOUNT_STORE_TOKENS=False), a
# Kakao link is made and used by login only, and the one Site row is SITE_ID.
for _model in (SocialApp, SocialToken, SocialAccount, Site):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(SystemConfig)
class SystemConfigAdmin(AuditedModelAdmin):
    """The singleton: the list page opens the one row; it can be neither added twice nor deleted."""

    base_fieldsets = (
        (_("배송"), {"fields": ("shipping_fee_ca", "shipping_fee_other")}),
        (
            _("장바구니/예비번호"),
            {
                "fields": (
                    "default_cart_timer_minutes",
                    "waitlist_promotion_minutes",
                    "max_per_user",
                    "low_stock_threshold",
                )
            },
        ),
        (
            _("결제"),
            {
                "fields": (
                    "bank_transfer_enabled",
                    "bank_name",
                    "bank_account_number",
                    "bank_account_holder",
                    "zelle_enabled",
                    "zelle_email",
                    "zelle_recipient_name",
                    "payment_deadline_hours",
                    "unpaid_reminder_hours",
                    "auto_cancel_hours",
                )
            },
        ),
        (
            _("포인트"),
            {
                "fields": (
                    "points_enabled",
                    "points_earn_rate_percent",
                    "points_min_use",
                    "points_max_use_percent",
                    "points_expiry_months",
                )
            },
        ),
        (
            _("알림/채팅"),
            {"fields": ("alimtalk_enabled", "chat_rate_limit_count", "chat_rate_limit_seconds")},
        ),
        (
            _("사업자 정보"),
            {
                "fields": (
                    "business_name",
                    "business_registration",
                    "business_address",
                    "business_owner",
                    "contact_email",
                    "contact_phone",
                    "contact_hours",
                )
            },
        ),
        (_("공지"), {"fields": ("notice_text",)}),
        (_("약관"), {"fields": ("terms_text", "privacy_text")}),
    )

    def get_fieldsets(self, request, obj=None):
        # Fields added to the model later still show up (under 기타) until grouped above.
        listed = {name for _title, options in self.base_fieldsets for name in options["fields"]}
        rest = tuple(
            field.name
            for field in SystemConfig._meta.get_fields()
            if getattr(field, "editable", False)
            and not field.auto_created
            and field.concrete
            and field.name not in listed
            and field.name != "id"
            and not getattr(field, "auto_now", False)
        )
        return self.base_fieldsets + (((_("기타"), {"fields": rest}),) if rest else ())

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SystemConfig.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        config = get_config()
        return HttpResponseRedirect(reverse("admin:core_systemconfig_change", args=[config.pk]))


@admin.register(Notice)
class NoticeAdmin(AuditedModelAdmin):
    list_display = ("title", "kind", "is_active", "created_at")
    list_display_links = ("title",)
    list_editable = ("is_active",)
    list_filter = ("kind", "is_active")
    search_fields = ("title", "body")
    fields = ("kind", "title", "body", "is_active")


# What each audit action code means, in Korean (the code stays the stored, stable value).
AUDIT_ACTIONS = {
    "admin.create": _("관리자 화면에서 추가"),
    "admin.update": _("관리자 화면에서 수정"),
    "admin.delete": _("관리자 화면에서 삭제"),
    "user.suspend": _("회원 정지"),
    "user.restore": _("회원 정지 해제"),
    "points.adjust": _("포인트 조정"),
    "payment_confirm": _("입금 확인"),
    "live.stream_delete": _("방송 삭제"),
    "stock_adjust": _("재고 조정"),
    "product_sold_out": _("품절 처리"),
    "product_reopen": _("판매 재개"),
    "product_hide": _("상품 숨김"),
    "product_show": _("상품 노출"),
    "product_delete": _("상품 삭제"),
    "product_duplicate": _("상품 복제"),
    "variant_delete": _("옵션 삭제"),
    "variant_create": _("옵션 추가"),
    "variant_update": _("옵션 수정"),
    "variants_generate": _("옵션 일괄 생성"),
    "product_import": _("상품 가져오기"),
    "live.stream_create": _("방송 생성"),
    "live.stream_key_refresh": _("스트림 키 재발급"),
    "live.stream_end": _("방송 종료"),
    "live.stream_feature": _("대표 상품 지정"),
    "live.stream_notice": _("방송 공지 수정"),
    "live.chat_delete": _("채팅 삭제"),
    "live.chat_mute": _("채팅 제한"),
    "live.chat_ban": _("강퇴"),
    "live.chat_unmute": _("채팅 제한 해제"),
    "live.chat_unban": _("강퇴 해제"),
    "live.restream_target_create": _("리스트리밍 대상 추가"),
    "live.restream_target_update": _("리스트리밍 대상 수정"),
    "live.restream_target_toggle": _("리스트리밍 대상 켜기/끄기"),
    "live.restream_target_delete": _("리스트리밍 대상 삭제"),
    "order.archive_read": _("탈퇴 회원 보관 정보 열람"),
    # order.<event kind>: written by orders.services.order_event_record
    **{f"order.{kind.lower()}": label for kind, label in OrderEvent.Kind.choices},
}


def audit_action_label(code: str) -> str:
    return str(AUDIT_ACTIONS.get(code, code))


# Rows written before SystemConfig, Notice and AuditLog moved to core name the old app.
MOVED_LABELS = {
    f"adminpanel.{name}": f"core.{name}" for name in ("SystemConfig", "Notice", "AuditLog")
}


def audit_object_type_label(label: str) -> str:
    try:
        return str(apps.get_model(MOVED_LABELS.get(label, label))._meta.verbose_name)
    except (LookupError, ValueError):
        return label


# Keys of audit data that are not fields of the audited model (order event details).
AUDIT_DATA_KEYS = {
    "message": _("내용"),
    "previous_status": _("이전 상태"),
    "points_earned": _("적립 포인트"),
    "points_refunded": _("환불 포인트"),
    "points_reversed": _("회수 포인트"),
    "restored": _("재고 복원"),
    "deadline": _("입금 기한"),
    "resend_key": _("재발송 키"),
    "item_id": _("주문 상품 ID"),
    "old_quantity": _("이전 수량"),
    "new_quantity": _("새 수량"),
    "shipping_rule": _("배송비 규칙"),
    "source": _("원본"),
    "key_replaced": _("스트림 키 교체"),
    "stream_key_replaced": _("스트림 키 교체"),
    "has_stream_key": _("스트림 키 있음"),
    "variants": _("옵션"),
}


def audit_data_labels(data: dict, *, object_type: str) -> dict:
    """Before/after data as people read it: field names → Korean labels, codes → labels."""
    try:
        fields = {}
        model = apps.get_model(MOVED_LABELS.get(object_type, object_type))
        for field in model._meta.concrete_fields:
            fields[field.name] = fields[field.attname] = field
    except (LookupError, ValueError):
        fields = {}
    labelled = {}
    for key, value in data.items():
        field = fields.get(key) or (fields.get("status") if key == "previous_status" else None)
        label = AUDIT_DATA_KEYS.get(key) or (field.verbose_name if field else key)
        if field is not None and field.choices and isinstance(value, str):
            value = str(dict(field.flatchoices).get(value, value))
        labelled[str(label)] = value
    return labelled


class AuditActionFilter(admin.SimpleListFilter):
    title = _("작업")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        codes = AuditLog.objects.order_by("action").values_list("action", flat=True).distinct()
        return [(code, audit_action_label(code)) for code in codes]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class AuditObjectTypeFilter(admin.SimpleListFilter):
    title = _("대상 종류")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        types = AuditLog.objects.order_by("object_type").values_list("object_type", flat=True)
        return [(label, audit_object_type_label(label)) for label in types.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: nobody adds, edits or deletes audit rows, not even superusers."""

    list_display = (
        "created_at",
        "actor",
        "action_label",
        "object_type_label",
        "object_id",
        "object_repr",
    )
    list_filter = (
        AuditActionFilter,
        AuditObjectTypeFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("actor__email", "object_id", "object_repr")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    fields = (
        "created_at",
        "actor",
        "action_label",
        "object_type_label",
        "object_id",
        "object_repr",
        "before_json",
        "after_json",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _pretty(self, value, obj: AuditLog) -> str:
        if value is None:
            return "-"
        if isinstance(value, dict):
            value = audit_data_labels(value, object_type=obj.object_type)
        text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    @admin.display(description=_("작업"), ordering="action")
    def action_label(self, obj: AuditLog) -> str:
        return audit_action_label(obj.action)

    @admin.display(description=_("대상 종류"), ordering="object_type")
    def object_type_label(self, obj: AuditLog) -> str:
        return audit_object_type_label(obj.object_type)

    @admin.display(description=_("변경 전"))
    def before_json(self, obj: AuditLog) -> str:
        return self._pretty(obj.before, obj)

    @admin.display(description=_("변경 후"))
    def after_json(self, obj: AuditLog) -> str:
        return self._pretty(obj.after, obj)


# --- Other packages' admins (auth groups, allauth email addresses) --------------------------
# Re-registered (from `AdminpanelConfig.ready`, once every admin module is loaded) so that their
# writes are audited like ours and so that their actions, which declare no permission, need
# "change" (Django would offer them to view-only staff).
def _is_project_app(app_config) -> bool:
    """An app of this project (a package at the project root), not an installed package."""
    return Path(app_config.path).parent == settings.BASE_DIR


class GuardedActionsMixin:
    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            return actions
        return {
            name: action
            for name, action in actions.items()
            if getattr(action[0], "allowed_permissions", None)
        }


def guard_other_admins() -> None:
    for model in apps.get_models():
        if _is_project_app(model._meta.app_config) or not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        if isinstance(model_admin, AuditedModelAdmin):
            continue
        base = type(model_admin)
        guarded = type(
            f"Audited{base.__name__}", (GuardedActionsMixin, AuditedModelAdmin, base), {}
        )
        admin.site.unregister(model)
        admin.site.register(model, guarded)


# The user admin with order stats, holds and points (extends accounts' UserAdmin from here).
from adminpanel import users  # noqa: E402, F401
