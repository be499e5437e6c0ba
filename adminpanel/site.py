"""The admin site: Django's, with its password login limited (`RATE_LIMITS["login_failure"]`).

Installed as the default site (`admin.site`) by `AdminConfig`, listed in INSTALLED_APPS in
place of `django.contrib.admin`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig

from dorami.ratelimit import login_failures_limited


class DoramiAdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        view = login_failures_limited(super().login, account_field="username")
        return view(request, extra_context)


class AdminConfig(DjangoAdminConfig):
    default_site = "adminpanel.site.DoramiAdminSite"
