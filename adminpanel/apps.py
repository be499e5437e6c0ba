from django.apps import AppConfig


class AdminpanelConfig(AppConfig):
    name = "adminpanel"
    verbose_name = "운영"

    def ready(self) -> None:
        # Runs after the admin's autodiscovery (django.contrib.admin comes first in
        # INSTALLED_APPS), so every package's admin is registered by now.
        from adminpanel.admin import guard_other_admins

        guard_other_admins()
