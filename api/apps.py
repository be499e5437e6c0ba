from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "앱 연동"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.erasure import eraser_register
        from api.erasure import api_tokens_erase

        eraser_register(api_tokens_erase)  # account deletion: device tokens
