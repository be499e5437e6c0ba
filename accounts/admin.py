"""User admin (Korean). Status changes go through the suspend/restore actions only, so a
suspension always ends the user's sessions and lands in the audit log."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html_join

from accounts import services
from accounts.crypto import DecryptionError
from accounts.models import User
from core.admin import AuditedModelAdmin

# Only a superuser grants admin access or permissions (otherwise "change user" would let any
# staff member make themselves a superuser).
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

PERMISSION_ACTIONS = {"add": "추가", "change": "변경", "delete": "삭제", "view": "보기"}


def permission_label(permission: Permission) -> str:
    """'주문 · 주문 변경' instead of Django's English 'orders | order | Can change order'."""
    model = permission.content_type.model_class()
    if model is None:
        return permission.name
    action, _sep, _rest = permission.codename.partition("_")
    app = apps.get_app_config(model._meta.app_label).verbose_name
    what = PERMISSION_ACTIONS.get(action)
    if what is None or permission.codename != f"{action}_{model._meta.model_name}":
        return f"{app} · {permission.name}"
    return f"{app} · {model._meta.verbose_name} {what}"


class KoreanPermissionsMixin(admin.ModelAdmin):
    """Permission pickers list existing models only, labelled in Korean."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in ("permissions", "user_permissions"):
            current = [ct.pk for ct in ContentType.objects.all() if ct.model_class() is not None]
            kwargs["queryset"] = Permission.objects.filter(content_type__in=current).select_related(
                "content_type"
            )
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in ("permissions", "user_permissions"):
            field.label_from_instance = permission_label
        return field


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(KoreanPermissionsMixin, DjangoGroupAdmin):
    pass


class ProfileCompleteFilter(admin.SimpleListFilter):
    title = "프로필 완료"
    parameter_name = "profile"

    def lookups(self, request, model_admin):
        return [("complete", "완료"), ("incomplete", "미완료")]

    def queryset(self, request, queryset):
        if self.value() == "complete":
            return queryset.filter(profile_completed_at__isnull=False)
        if self.value() == "incomplete":
            return queryset.filter(profile_completed_at__isnull=True)
        return queryset


class UserServiceAdminMixin(admin.ModelAdmin):
    """Placed after AuditedModelAdmin in the bases so the audit wraps the service call."""

    def save_model(self, request, obj, form, change):
        services.user_save_by_admin(user=obj)


@admin.register(User)
class UserAdmin(KoreanPermissionsMixin, AuditedModelAdmin, UserServiceAdminMixin):
    list_display = (
        "email",
        "instagram_id",
        "name",
        "depositor_name",
        "status",
        "is_staff",
        "profile_complete",
        "date_joined",
    )
    list_filter = ("status", "is_staff", ProfileCompleteFilter, "live_alert_opt_in")
    search_fields = ("email", "instagram_id", "name", "depositor_name")
    ordering = ("-date_joined",)
    list_per_page = 50
    actions = ("suspend_users", "restore_users")
    readonly_fields = (
        "status",
        "shipping_address_display",
        "address_key_version",
        "profile_completed_at",
        "session_version",
        "last_login",
        "date_joined",
        "updated_at",
    )
    filter_horizontal = ("groups", "user_permissions")
    audit_exclude_fields = ("shipping_address_encrypted",)
    # The ciphertext and the password hash are never editable here.
    fieldsets = (
        (None, {"fields": ("email", "name", "status")}),
        (
            "프로필",
            {
                "fields": (
                    "instagram_id",
                    "depositor_name",
                    "phone",
                    "shipping_address_display",
                    "profile_completed_at",
                    "live_alert_opt_in",
                )
            },
        ),
        (
            "권한",
            {
                "classes": ("collapse",),
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
            },
        ),
        (
            "기록",
            {
                "classes": ("collapse",),
                "fields": (
                    "address_key_version",
                    "session_version",
                    "last_login",
                    "date_joined",
                    "updated_at",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, *PRIVILEGE_FIELDS)

    @admin.display(boolean=True, description="프로필 완료", ordering="profile_completed_at")
    def profile_complete(self, obj: User) -> bool:
        return obj.has_complete_profile

    @admin.display(description="배송지")
    def shipping_address_display(self, obj: User):
        try:
            address = obj.shipping_address
        except DecryptionError:
            return "복호화할 수 없습니다 (키 확인 필요)"
        if not address:
            return "—"
        lines = [
            address.get("full_name", ""),
            " ".join(filter(None, [address.get("address1"), address.get("address2")])),
            f"{address.get('city', '')}, {address.get('state', '')} {address.get('zip', '')}",
        ]
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    @admin.action(
        description="선택한 회원 이용 정지 (모든 기기에서 로그아웃)", permissions=["change"]
    )
    def suspend_users(self, request, queryset):
        done = 0
        for user in queryset.exclude(pk=request.user.pk).exclude(status=User.Status.SUSPENDED):
            services.user_suspend(user=user, actor=request.user)
            done += 1
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "자기 자신은 정지할 수 없습니다.", messages.WARNING)
        self.message_user(request, f"{done}명을 이용 정지했습니다.", messages.SUCCESS)

    @admin.action(description="선택한 회원 정지 해제", permissions=["change"])
    def restore_users(self, request, queryset):
        done = 0
        for user in queryset.filter(status=User.Status.SUSPENDED):
            services.user_restore(user=user, actor=request.user)
            done += 1
        self.message_user(request, f"{done}명의 정지를 해제했습니다.", messages.SUCCESS)
