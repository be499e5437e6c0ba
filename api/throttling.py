"""API throttling through `dorami.ratelimit`: the same named limits and counters as the pages.

Every request counts against `api` (per user and per IP); a write also counts against the
limit of what it does (`cart_add`, `checkout`...), the same counter the page's form uses, so
a client cannot double its allowance by switching doors."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from dorami import ratelimit

GENERAL = "api"


class RateLimits(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        caller = ratelimit.caller_of(request)  # DRF's request answers `.user` and `.META`
        names = [GENERAL]
        if request.method not in SAFE_METHODS:
            name = getattr(view, "rate_limits", {}).get(request.method)
            if name:
                names.append(name)
        for name in names:
            refusal = ratelimit.hit(name, caller)
            if refusal is not None:
                self.refusal = refusal
                return False
        return True

    def wait(self) -> float:
        return float(self.refusal.retry_after)
