from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpResponseRedirect
from django.urls import reverse

from accounts.permissions import after_login_url
from accounts.services import grant_admin_if_listed

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts are created through Kakao (or the dev login), never by a password form.
        return False

    def pre_login(self, request, user, **kwargs):
        if getattr(user, "is_suspended", False):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            # The login page says why (the same page a suspended user's ended session lands on).
            return HttpResponseRedirect(reverse("accounts:login") + "?suspended=1")
        return super().pre_login(request, user, **kwargs)

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        # A shopper without a profile goes to the registration page first, then on to `next`.
        if not user.has_complete_profile and isinstance(response, HttpResponseRedirect):
            return HttpResponseRedirect(after_login_url(user, response.url))
        return response

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        # allauth's "signed in as …" toasts are noise on a phone; our pages say what matters.
        if message_template and "logged_in" in message_template:
            return
        return super().add_message(request, level, message_template, *args, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        nickname = (data.get("username") or "").strip()
        if nickname and not user.name:
            user.name = nickname[:100]
        if user.email:
            user.email = user.email.lower()
            grant_admin_if_listed(user)
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        logger.warning(
            "social login failed provider=%s error=%s exception=%r",
            getattr(provider, "id", provider),
            error,
            exception,
        )
