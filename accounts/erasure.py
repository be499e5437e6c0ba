"""Registration points for account deletion (`accounts.services.account_delete`).

accounts sits below the apps that hold a shopper's other data and never imports them: each of
them registers, in its `AppConfig.ready`,

- a *blocker* `blocker(user) -> str | None`: a Korean reason the account cannot be deleted yet
  (orders: an order still unpaid, being prepared or on its way), else None;
- an *eraser* `eraser(user) -> None`: erases or anonymises that app's personal data of `user`
  (orders: the order's snapshot sealed in the archive; shop: holds released, waitlist left;
  live: chat author name; notifications: push subscriptions and the texts of sent messages;
  api: device tokens).

Erasers run inside the deletion's transaction, after the user row is locked.
"""

from __future__ import annotations

from collections.abc import Callable

Blocker = Callable[..., "str | None"]
Eraser = Callable[..., None]

_blockers: list[Blocker] = []
_erasers: list[Eraser] = []


def blocker_register(blocker: Blocker) -> None:
    if blocker not in _blockers:
        _blockers.append(blocker)


def eraser_register(eraser: Eraser) -> None:
    if eraser not in _erasers:
        _erasers.append(eraser)


def deletion_blockers(user) -> list[str]:
    return [reason for reason in (blocker(user) for blocker in _blockers) if reason]


def erase_everywhere(user) -> None:
    for eraser in _erasers:
        eraser(user)
