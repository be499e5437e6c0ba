from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, linebreaks
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedModelAdmin
from notifications.models import (
    KIND_VARIABLES,
    SAMPLE_CONTEXT,
    NotificationSend,
    NotificationTemplate,
)


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(AuditedModelAdmin):
    """Saving runs `NotificationTemplate.clean` (unknown variables, body length) via the form."""

    list_display = ("name", "kind", "channel", "provider_template_code", "enabled", "updated_at")
    list_filter = ("channel", "kind", "enabled")
    search_fields = ("name", "provider_template_code", "body")
    readonly_fields = ("variables", "preview", "created_at", "updated_at")
    fields = (
        "name",
        "kind",
        "channel",
        "provider_template_code",
        "title",
        "body",
        "enabled",
        "variables",
        "preview",
        "created_at",
        "updated_at",
    )

    @admin.display(description=_("사용 가능한 변수"))
    def variables(self, obj) -> str:
        names = KIND_VARIABLES.get(obj.kind, ()) if obj and obj.kind else ()
        return ", ".join(f"{{{{{name}}}}}" for name in names) or "-"

    @admin.display(description=_("미리보기(예시 값)"))
    def preview(self, obj) -> str:
        if obj is None or obj.pk is None:
            return _("저장하면 예시 값으로 미리 볼 수 있습니다.")
        title, body = obj.render(SAMPLE_CONTEXT)
        return format_html("<strong>{}</strong>{}", title, linebreaks(body, autoescape=True))


@admin.register(NotificationSend)
class NotificationSendAdmin(admin.ModelAdmin):
    """The send log: read-only for everyone."""

    list_display = (
        "created_at",
        "kind",
        "channel",
        "user",
        "status",
        "attempts",
        "reason",
        "dedupe_key",
    )
    list_filter = ("status", "channel", "kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("dedupe_key", "user__email", "user__name", "provider_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
