"""Admin (Korean): broadcasts and their history, restream targets and sessions, chat messages
(read-only, delete action) and chat sanctions. Writes go through the live services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import AuditedModelAdmin
from dorami.templatetags.money import usd
from live.models import ChatMessage, ChatSanction, LiveStream, RestreamSession, RestreamTarget
from live.selectors import stream_history, streams_with_totals
from live.services import stream as stream_services
from live.services.errors import LiveError


def format_duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds or 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@admin.register(LiveStream)
class LiveStreamAdmin(AuditedModelAdmin):
    list_display = (
        "title",
        "status",
        "scheduled_at",
        "started_at",
        "duration",
        "peak_viewers",
        "chat_column",
        "orders_column",
        "revenue_column",
        "created_at",
    )
    list_filter = ("status", "free_shipping_mode")
    search_fields = ("title", "public_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("delete_not_live", "end_streams")
    readonly_fields = (
        "public_id",
        "publish_key",
        "status",
        "started_at",
        "ended_at",
        "total_duration_seconds",
        "peak_viewers",
        "key_expires_at",
        "last_publish_at",
        "offline_scheduled_at",
        "media_last_seen_at",
        "live_started_notified_at",
        "created_by",
    )
    fieldsets = (
        (None, {"fields": ("title", "description", "thumbnail", "scheduled_at", "notice_text")}),
        (_("무료배송"), {"fields": ("free_shipping_mode", "free_shipping_threshold")}),
        (
            _("방송 기록"),
            {
                "fields": (
                    "status",
                    "public_id",
                    "publish_key",
                    "key_expires_at",
                    "started_at",
                    "ended_at",
                    "total_duration_seconds",
                    "peak_viewers",
                    "created_by",
                )
            },
        ),
        (
            _("미디어 서버"),
            {
                "classes": ("collapse",),
                "fields": (
                    "last_publish_at",
                    "offline_scheduled_at",
                    "media_last_seen_at",
                    "live_started_notified_at",
                ),
            },
        ),
    )
    audit_exclude_fields = ("publish_key",)
    change_form_template = "live/admin/livestream_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The show's record (방송 기록) above the form, once it has started."""
        extra = dict(extra_context or {})
        stream = self.get_object(request, object_id)
        if stream is not None and stream.started_at is not None:
            extra["history"] = stream_history(stream=stream)
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_queryset(self, request):
        return streams_with_totals(super().get_queryset(request))

    @admin.display(description=_("채팅"), ordering="chat_total")
    def chat_column(self, obj: LiveStream) -> int:
        return obj.chat_total

    @admin.display(description=_("주문"), ordering="order_total")
    def orders_column(self, obj: LiveStream) -> int:
        return obj.order_total

    @admin.display(description=_("매출"), ordering="revenue_total")
    def revenue_column(self, obj: LiveStream) -> str:
        return usd(obj.revenue_total)

    @admin.display(description=_("방송 시간"), ordering="total_duration_seconds")
    def duration(self, obj: LiveStream) -> str:
        return format_duration(obj.total_duration_seconds) if obj.started_at else "-"

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by delete_not_live
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: LiveStream | None = None) -> bool:
        if obj is not None and obj.status == LiveStream.Status.LIVE:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("선택한 방송 삭제 (방송 중 제외)"), permissions=["delete"])
    def delete_not_live(self, request: HttpRequest, queryset: QuerySet) -> None:
        deleted, skipped = stream_services.streams_delete(
            stream_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        self.message_user(
            request,
            ngettext("%d개 방송을 삭제했습니다.", "%d개 방송을 삭제했습니다.", deleted) % deleted,
        )
        if skipped:
            self.message_user(
                request,
                _("방송 중인 %(n)d개 방송은 삭제하지 않았습니다.") % {"n": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("선택한 방송 종료"), permissions=["change"])
    def end_streams(self, request: HttpRequest, queryset: QuerySet) -> None:
        ended = 0
        for stream in queryset:
            try:
                stream_services.stream_end(stream=stream, actor=request.user)
                ended += 1
            except LiveError:
                continue
        self.message_user(request, _("%(n)d개 방송을 종료했습니다.") % {"n": ended})


@admin.register(RestreamTarget)
class RestreamTargetAdmin(AuditedModelAdmin):
    list_display = ("name", "platform", "rtmp_url", "enabled", "mute_audio", "updated_at")
    list_editable = ("enabled", "mute_audio")
    list_filter = ("platform", "enabled")
    search_fields = ("name", "rtmp_url")
    audit_exclude_fields = ("stream_key",)


@admin.register(RestreamSession)
class RestreamSessionAdmin(AuditedModelAdmin):
    """Owned by the restream worker: read-only here."""

    list_display = ("stream", "target", "state", "restart_count", "pid", "started_at", "updated_at")
    list_filter = ("state", "target")
    list_select_related = ("stream", "target")
    readonly_fields = [f.name for f in RestreamSession._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "stream", "display_name", "body", "is_deleted")
    list_filter = ("is_deleted", "stream")
    search_fields = ("body", "display_name", "user__email")
    list_select_related = ("stream",)
    readonly_fields = [f.name for f in ChatMessage._meta.fields]
    actions = ("hide_messages",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # "delete" hides the message for everyone (the action below)

    def has_moderate_permission(self, request: HttpRequest, obj=None) -> bool:
        # Hiding marks the message changed; the change form itself stays read-only.
        return request.user.has_perm("live.change_chatmessage")

    @admin.action(
        description=_("선택한 메시지 삭제 (모든 시청자 화면에서)"), permissions=["moderate"]
    )
    def hide_messages(self, request: HttpRequest, queryset: QuerySet) -> None:
        from live.services import chat as chat_services

        count = 0
        for message_id in queryset.values_list("pk", flat=True):
            chat_services.chat_message_delete(message_id=message_id, by=request.user)
            count += 1
        self.message_user(request, _("%(n)d개 메시지를 삭제했습니다.") % {"n": count})


@admin.register(ChatSanction)
class ChatSanctionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "stream", "user", "kind", "reason", "created_by")
    list_filter = ("kind", "stream")
    search_fields = ("user__email", "user__instagram_id", "reason")
    list_select_related = ("stream", "user", "created_by")
    raw_id_fields = ("stream", "user")
    fields = ("stream", "user", "kind", "reason")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from live.services import chat as chat_services

        sanction = chat_services.chat_sanction_add(
            stream_id=obj.stream_id,
            user_id=obj.user_id,
            kind=obj.kind,
            by=request.user,
            reason=obj.reason,
        )
        obj.pk = sanction.pk
        obj.created_at = sanction.created_at

    def delete_model(self, request, obj):
        from live.services import chat as chat_services

        chat_services.chat_sanction_remove(
            stream_id=obj.stream_id, user_id=obj.user_id, kind=obj.kind, by=request.user
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
