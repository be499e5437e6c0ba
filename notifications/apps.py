from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "알림"

    def ready(self) -> None:
        from live.notify_hooks import live_started_register
        from notifications import fanout, triggers
        from orders.notify_hooks import payment_reminder_register

        # orders never imports notifications: it calls what is registered here.
        payment_reminder_register(triggers.payment_reminder)
        live_started_register(fanout.live_started)
