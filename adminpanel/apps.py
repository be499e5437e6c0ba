from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AdminpanelConfig(AppConfig):
    name = "adminpanel"
    verbose_name = "운영"

    def ready(self) -> None:
        # Runs after the admin's autodiscovery (django.contrib.admin comes first in
        # INSTALLED_APPS), so every package's admin is registered by now.
        from adminpanel.admin import guard_other_admins

        guard_other_admins()


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with `adminpanel.site.DoramiAdminSite` as the default site
    (listed in INSTALLED_APPS in place of `django.contrib.admin`)."""

    default = False  # "adminpanel" itself is AdminpanelConfig
    default_site = "adminpanel.site.DoramiAdminSite"
