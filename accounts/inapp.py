"""In-app browsers (KakaoTalk, Instagram) where OAuth often fails: offer the real browser."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit


@dataclass(frozen=True)
class InAppBrowser:
    app: str  # "kakaotalk" | "instagram"
    platform: str  # "android" | "ios" | "other"
    open_url: str  # a link that opens `url` outside the app ("" when only instructions work)
    url: str

    @property
    def app_label(self) -> str:
        return "카카오톡" if self.app == "kakaotalk" else "인스타그램"


def detect(user_agent: str, url: str) -> InAppBrowser | None:
    """The in-app browser behind `user_agent`, with the way out for `url` (absolute)."""
    ua = user_agent or ""
    lowered = ua.lower()
    if "kakaotalk" in lowered:
        app = "kakaotalk"
    elif "instagram" in lowered:
        app = "instagram"
    else:
        return None
    if "android" in lowered:
        platform = "android"
    elif any(token in lowered for token in ("iphone", "ipad", "ipod")):
        platform = "ios"
    else:
        platform = "other"
    if app == "kakaotalk":
        # KakaoTalk's own scheme opens the link in the system browser (Android and iOS).
        open_url = "kakaotalk://web/openExternal?url=" + quote(url, safe="")
    elif platform == "android":
        parts = urlsplit(url)
        rest = parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
        open_url = f"intent://{rest}#Intent;scheme={parts.scheme};package=com.android.chrome;end"
    else:
        open_url = ""  # Instagram on iOS: only "… → 외부 브라우저에서 열기" by hand + copy link
    return InAppBrowser(app=app, platform=platform, open_url=open_url, url=url)
