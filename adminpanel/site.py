"""The admin site: Django's, with its password login limited (`RATE_LIMITS["login_failure"]`)
and the dashboard partial the index page polls (`admin:dashboard`).

Installed as the default site (`admin.site`) by `adminpanel.apps.AdminConfig`.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from adminpanel.views import dashboard_partial
from dorami.ratelimit import login_failures_limited


class DoramiAdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        view = login_failures_limited(super().login, account_field="username")
        return view(request, extra_context)

    def get_urls(self):
        return [
            path("dashboard/", self.admin_view(dashboard_partial), name="dashboard"),
            *super().get_urls(),
        ]
