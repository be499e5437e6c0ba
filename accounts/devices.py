"""A person-readable name for a browser from its User-Agent: "iPhone · Safari",
"Android · 카카오톡", "Windows · Chrome". Order matters: in-app browsers and Edge/Samsung
announce Chrome or Safari too, so they are looked for first."""

from __future__ import annotations

import hashlib

_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Macintosh", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_BROWSERS = (
    ("KAKAOTALK", "카카오톡"),
    ("Instagram", "인스타그램"),
    ("SamsungBrowser", "삼성 인터넷"),
    ("Edg", "Edge"),
    ("Whale", "웨일"),
    ("Firefox", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)


def device_label(user_agent: str) -> str:
    ua = user_agent or ""
    system = next((name for token, name in _SYSTEMS if token in ua), "")
    browser = next((name for token, name in _BROWSERS if token.lower() in ua.lower()), "")
    parts = [part for part in (system, browser) if part]
    return " · ".join(parts) or "알 수 없는 기기"


def session_digest(session_key: str) -> str:
    """What stands for a session outside the session store (cache keys, socket control
    messages): never the key itself."""
    return hashlib.sha256(f"dorami.session:{session_key}".encode()).hexdigest()[:32]
