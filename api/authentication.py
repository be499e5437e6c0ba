"""Who is calling: a device token (`Authorization: Bearer <token>`) or the site's session
(with CSRF on writes, like every page)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api.services import api_token_user

SCHEMES = ("bearer", "token")


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer drm_…` (or `Token drm_…`). A token that does not (or no
    longer) open an account is refused with 401 TOKEN_INVALID — never treated as a guest."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in SCHEMES:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed()
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed() from None
        user = api_token_user(raw=raw)
        if user is None:
            raise exceptions.AuthenticationFailed()
        return user, None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


# The site's own scripts: Django's session, CSRF checked on unsafe methods (a suspended user's
# session is ended by the site's middleware before this runs).
SessionAuthentication = authentication.SessionAuthentication


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "기기 토큰 (POST /api/v1/auth/tokens/ 에서 발급, 한 번만 표시)",
        }
