"""Reads of accounts shared by the pages and the API."""

from __future__ import annotations


def email_locked(*, user) -> bool:
    """The email comes from the user's Kakao account and cannot be changed on the profile."""
    return user.socialaccount_set.filter(provider="kakao").exclude(user__email="").exists()
