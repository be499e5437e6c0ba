from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import linebreaks_filter
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedModelAdmin
from notifications import services
from notifications.models import (
    KIND_VARIABLES,
    SAMPLE_CONTEXT,
    NotificationAttempt,
    NotificationSend,
    NotificationTemplate,
)


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(AuditedModelAdmin):
    """Saving runs `NotificationTemplate.clean` (unknown variables, body length) via the form.
    The change page has "나에게 테스트 발송": the saved template with sample values, to the
    staff member's own devices or phone (audited)."""

    change_form_template = "admin/notifications/notificationtemplate/change_form.html"

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
        # The filter escapes the body and marks the paragraphs it adds safe.
        return format_html("<strong>{}</strong>{}", title, linebreaks_filter(body, autoescape=True))

    def get_urls(self):
        return [
            path(
                "<int:pk>/test-send/",
                self.admin_site.admin_view(self.test_send_view),
                name="notifications_notificationtemplate_test_send",
            ),
            *super().get_urls(),
        ]

    def test_send_view(self, request, pk: int):
        template = get_object_or_404(NotificationTemplate, pk=pk)
        if not self.has_change_permission(request, template):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        send = services.notification_test_send(template=template, user=request.user)
        if send.status == NotificationSend.Status.SKIPPED:
            self.message_user(
                request, _("테스트 발송을 보내지 못했습니다: %s") % send.reason, messages.WARNING
            )
        else:
            target = _("내 기기") if send.channel == "PUSH" else _("내 전화번호")
            self.message_user(
                request,
                _("%(target)s로 테스트 발송을 보냈습니다. 결과는 알림 발송 기록에서 확인하세요.")
                % {"target": target},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse("admin:notifications_notificationtemplate_change", args=[template.pk])
        )


class NotificationAttemptInline(admin.TabularInline):
    """Every try of the send: time, result, error, provider id."""

    model = NotificationAttempt
    extra = 0
    can_delete = False
    fields = ("number", "created_at", "result", "error", "provider_id")
    readonly_fields = fields
    verbose_name = _("발송 시도")
    verbose_name_plural = _("발송 시도 기록")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(NotificationSend)
class NotificationSendAdmin(admin.ModelAdmin):
    """The send log: read-only for everyone; each send shows its attempts."""

    inlines = [NotificationAttemptInline]

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
