"""django-csp's middleware with the usual policy string built once per process.

django-csp rebuilds the Content-Security-Policy header on every response (two dataclass
deep copies and a walk over the directives): ~0.1 ms per request, a few per cent of a cart add.
When a response has no per-view policy (`@csp_update` & co.) and the request never used a
nonce, the header is the same string every time, so it is built once and reused; every other
response goes through django-csp unchanged.
"""

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.conf import settings

_PER_VIEW = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)


class CSPMiddleware(DjangoCSPMiddleware):
    # (the two settings objects it was built from, policy, report-only policy): rebuilt when
    # either setting is replaced (override_settings in tests).
    _plain: tuple = (None, None, "", "")

    def _plain_policies(self, request, response) -> tuple[str, str]:
        config = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        config_ro = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built_for, built_for_ro, csp, csp_ro = CSPMiddleware._plain
        if built_for is not config or built_for_ro is not config_ro or not (csp or csp_ro):
            csp = self._build(request, response, report_only=False)
            csp_ro = self._build(request, response, report_only=True)
            CSPMiddleware._plain = (config, config_ro, csp, csp_ro)
        return csp, csp_ro

    def _build(self, request, response, *, report_only: bool) -> str:
        from dataclasses import asdict

        from csp.utils import build_policy

        parts = self.get_policy_parts(request=request, response=response, report_only=report_only)
        return build_policy(**asdict(parts), report_only=report_only)

    def process_response(self, request, response):
        nonce_used = getattr(request, "_csp_nonce", None) is not None
        if nonce_used or any(getattr(response, name, None) is not None for name in _PER_VIEW):
            return super().process_response(request, response)
        debug_codes = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)
        if response.status_code in debug_codes and settings.DEBUG:
            return response
        csp, csp_ro = self._plain_policies(request, response)
        for header, value, exempt, setting in (
            (HEADER, csp, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, csp_ro, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            if not value or header in response or getattr(response, exempt, False):
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
