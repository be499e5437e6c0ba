from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "알림"

    def ready(self) -> None:
        from accounts.erasure import eraser_register
        from notifications import triggers
        from notifications.erasure import notifications_erase
        from orders.notify_hooks import payment_reminder_register

        # orders never imports notifications: it calls what is registered here.
        payment_reminder_register(triggers.payment_reminder)
        eraser_register(notifications_erase)  # account deletion
