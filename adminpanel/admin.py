"""Admin site (Korean): site titles, the audit mixin, SystemConfig, notices and the audit log.

`AuditedModelAdmin` is the one way admin writes get audited: inherit it in any app's admin and
every add/change/delete through that admin (forms, list_editable, the bulk delete action)
records an `AuditLog` row with before/after JSON in the same transaction as the write.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from adminpanel.models import AuditLog, Notice, SystemConfig, get_config
from adminpanel.services import audit_log_record

admin.site.site_header = _("도라미 관리자")
admin.site.site_title = _("도라미 관리자")
admin.site.index_title = _("관리")
# The index page opens with the sales dashboard (templates/admin/_dashboard.html).
admin.site.index_template = "admin/dorami_index.html"


def audit_snapshot(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete field values of `obj` as JSON-safe data (FKs as ids, Decimals as text)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or field.attname in exclude:
            continue
        value = field.value_from_object(obj)
        if isinstance(value, models.fields.files.FieldFile):
            value = value.name or ""
        data[field.attname if field.is_relation else field.name] = value
    return json.loads(json.dumps(data, cls=AuditJSONEncoder))


class AuditJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, and the text of anything else (time zones, ...)."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose every write leaves an AuditLog row (actor, action, before/after).

    - add: action ``admin.create``, ``after`` = all fields;
    - change: action ``admin.update``, ``before``/``after`` = only the fields that changed
      (``auto_now`` timestamps left out);
    - delete (single or bulk): action ``admin.delete``, ``before`` = all fields;
    - many-to-many fields of the form (groups, permissions): their own ``admin.update`` row
      with the ids before/after, when they changed.

    List secrets in ``audit_exclude_fields`` (``password`` is always left out). Inline formsets
    are not audited here; neither are custom admin actions: when those call services, the
    services audit (``audit_log_record``) with the request's user as actor.
    """

    audit_exclude_fields: tuple[str, ...] = ()

    def _audit_exclude(self) -> tuple[str, ...]:
        return ("password", *self.audit_exclude_fields)

    def _audit_stored(self, obj: models.Model) -> dict[str, Any]:
        stored = type(obj)._default_manager.filter(pk=obj.pk).first()
        return audit_snapshot(stored, exclude=self._audit_exclude()) if stored else {}

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        with transaction.atomic():
            before = self._audit_stored(obj) if change and obj.pk is not None else {}
            super().save_model(request, obj, form, change)
            after = audit_snapshot(obj, exclude=self._audit_exclude())
            if change:
                stamps = {f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", 0)}
                changed = sorted(k for k in after if k not in stamps and before.get(k) != after[k])
                before = {k: before.get(k) for k in changed}
                after = {k: after[k] for k in changed}
            audit_log_record(
                actor=request.user,
                action="admin.update" if change else "admin.create",
                obj=obj,
                before=before if change else None,
                after=after,
            )

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Many-to-many fields of the form (a user's groups and permissions, ...) are saved
        here, after `save_model`: their changes get their own ``admin.update`` row."""
        obj = form.instance
        names = [f.name for f in obj._meta.many_to_many if f.name in form.cleaned_data]
        before = self._audit_relations(obj, names) if change else {name: [] for name in names}
        super().save_related(request, form, formsets, change)
        after = self._audit_relations(obj, names)
        changed = sorted(name for name in names if before[name] != after[name])
        if changed:
            audit_log_record(
                actor=request.user,
                action="admin.update",
                obj=obj,
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )

    @staticmethod
    def _audit_relations(obj: models.Model, names: list[str]) -> dict[str, list]:
        return {
            name: sorted(str(pk) for pk in getattr(obj, name).values_list("pk", flat=True))
            for name in names
        }

    def _audit_delete(self, request: HttpRequest, obj) -> None:
        audit_log_record(
            actor=request.user,
            action="admin.delete",
            obj=obj,
            before=audit_snapshot(obj, exclude=self._audit_exclude()),
        )

    def delete_model(self, request: HttpRequest, obj) -> None:
        with transaction.atomic():
            self._audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)


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
                    "contact_email",
                    "contact_phone",
                )
            },
        ),
        (_("공지"), {"fields": ("notice_text",)}),
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
        return HttpResponseRedirect(
            reverse("admin:adminpanel_systemconfig_change", args=[config.pk])
        )


@admin.register(Notice)
class NoticeAdmin(AuditedModelAdmin):
    list_display = ("title", "kind", "is_active", "created_at")
    list_display_links = ("title",)
    list_editable = ("is_active",)
    list_filter = ("kind", "is_active")
    search_fields = ("title", "body")
    fields = ("kind", "title", "body", "is_active")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: nobody adds, edits or deletes audit rows, not even superusers."""

    list_display = ("created_at", "actor", "action", "object_type", "object_id", "object_repr")
    list_filter = ("action", "object_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("actor__email", "object_id", "object_repr")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    fields = (
        "created_at",
        "actor",
        "action",
        "object_type",
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

    def _pretty(self, value) -> str:
        if value is None:
            return "-"
        text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    @admin.display(description=_("변경 전"))
    def before_json(self, obj: AuditLog) -> str:
        return self._pretty(obj.before)

    @admin.display(description=_("변경 후"))
    def after_json(self, obj: AuditLog) -> str:
        return self._pretty(obj.after)


# --- Other packages' admins (auth groups, sites, Celery beat, allauth) ----------------------
# Re-registered (from `AdminpanelConfig.ready`, once every admin module is loaded) so that their
# writes are audited like ours and so that their actions, which declare no permission, need
# "change" (Django would offer them to view-only staff).
PROJECT_APPS = {"accounts", "shop", "live", "orders", "points", "notifications", "adminpanel"}
AUDIT_SECRETS = {
    "socialaccount.socialapp": ("secret", "key"),
    "socialaccount.socialtoken": ("token", "token_secret"),
}


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
        label = model._meta.label_lower
        if model._meta.app_label in PROJECT_APPS or not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        if isinstance(model_admin, AuditedModelAdmin):
            continue
        base = type(model_admin)
        guarded = type(
            f"Audited{base.__name__}",
            (GuardedActionsMixin, AuditedModelAdmin, base),
            {"audit_exclude_fields": AUDIT_SECRETS.get(label, ())},
        )
        admin.site.unregister(model)
        admin.site.register(model, guarded)
