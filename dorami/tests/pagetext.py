"""What a person reads on a page: the text outside tags, scripts, styles and comments."""

import html
import re

_HIDDEN = re.compile(r"(?is)<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>")
_COMMENT = re.compile(r"(?s)<!--.*?-->")
_TAG = re.compile(r"(?s)<[^>]+>")
# Attributes people read too: placeholders, button values, titles, alt text, aria labels.
_READ_ATTRS = re.compile(
    r"""(?is)\b(?:placeholder|title|alt|aria-label|value)\s*=\s*(["'])(.*?)\1"""
)


def visible_text(body: str, *, attributes: bool = False) -> str:
    body = _COMMENT.sub(" ", _HIDDEN.sub(" ", body))
    parts = [_TAG.sub(" ", body)]
    if attributes:
        for tag in re.findall(r"(?s)<(?:input|button|img|a|textarea|select)\b[^>]*>", body):
            if re.search(r"""type\s*=\s*["']hidden""", tag):
                continue
            parts += [value for _quote, value in _READ_ATTRS.findall(tag)]
    return re.sub(r"\s+", " ", html.unescape(" ".join(parts))).strip()
