"""Account deletion (`accounts.erasure`): the user's device tokens are deleted (a token's name
is what the shopper called the device)."""

from __future__ import annotations

from api.models import ApiToken


def api_tokens_erase(user) -> None:
    ApiToken.objects.filter(user=user).delete()
