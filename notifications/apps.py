from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "알림"

    def ready(self) -> None:
        from accounts.erasure import eraser_register
        from live.notify_hooks import live_started_register
        from notifications import fanout, triggers
        from notifications.erasure import notifications_erase
        from orders import notify_hooks as order_hooks
        from shop import notify_hooks as shop_hooks

        # Lower apps never import notifications: they call what is registered here.
        order_hooks.order_placed.register(triggers.order_placed)
        order_hooks.payment_reminder.register(triggers.payment_reminder)
        order_hooks.payment_confirmed.register(triggers.payment_confirmed)
        order_hooks.order_shipped.register(triggers.order_shipped)
        order_hooks.order_auto_cancelled.register(triggers.order_auto_cancelled)
        shop_hooks.waitlist_promoted_register(triggers.waitlist_promoted)
        live_started_register(fanout.live_started)
        eraser_register(notifications_erase)  # account deletion
