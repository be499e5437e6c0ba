from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "앱 연동"
    default_auto_field = "django.db.models.BigAutoField"
