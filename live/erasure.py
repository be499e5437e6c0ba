"""Account deletion (`accounts.erasure`): the shopper's chat lines stay in the show's record,
signed "탈퇴한 회원" instead of their Instagram ID."""

from __future__ import annotations

from live.models import ChatMessage

DELETED_AUTHOR = "탈퇴한 회원"


def chat_erase(user) -> None:
    ChatMessage.objects.filter(user=user).update(display_name=DELETED_AUTHOR, user=None)
