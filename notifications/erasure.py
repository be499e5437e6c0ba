"""Account deletion (`accounts.erasure`): push subscriptions (a device address) are deleted and
the log of messages sent keeps kind, channel, status and time but not their text (the shopper's
name, order details)."""

from __future__ import annotations

from notifications.models import NotificationSend, PushSubscription


def notifications_erase(user) -> None:
    PushSubscription.objects.filter(user=user).delete()
    NotificationSend.objects.filter(user=user).update(title="", body="", url="", error="")
