"""What a person reads on a page: the text outside tags, scripts, styles and comments."""

import html
import re

_HIDDEN = re.compile(r"(?is)<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>")
_COMMENT = re.compile(r"(?s)<!--.*?-->")
_TAG = re.compile(r"(?s)<[^>]+>")
# Attributes people read too: placeholders, titles, alt text, aria labels, button captions.
_READ_ATTRS = re.compile(r"""(?is)\s(?:placeholder|title|alt|aria-label)\s*=\s*(["'])(.*?)\1""")
_VALUE = re.compile(r"""(?is)\svalue\s*=\s*(["'])(.*?)\1""")
_BUTTON_TYPE = re.compile(r"""(?is)\stype\s*=\s*["']?(submit|button|reset)""")


def visible_text(body: str, *, attributes: bool = False) -> str:
    body = _COMMENT.sub(" ", _HIDDEN.sub(" ", body))
    parts = [_TAG.sub(" ", body)]
    if attributes:
        for tag in re.findall(
            r"(?is)<(?:input|button|img|a|textarea|select|span|div)\b[^>]*>", body
        ):
            parts += [value for _quote, value in _READ_ATTRS.findall(tag)]
            if tag.lower().startswith("<input") and _BUTTON_TYPE.search(tag):
                parts += [value for _quote, value in _VALUE.findall(tag)]
    return re.sub(r"\s+", " ", html.unescape(" ".join(parts))).strip()
