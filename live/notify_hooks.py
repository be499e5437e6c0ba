"""Registration point for "a show went live" (web push, Alimtalk).

live sits below notifications and never imports it. The notifications app registers its
handler here in its `AppConfig.ready`; `stream_publish` calls it inside its transaction the
first time a stream goes live (never again for a republish), so a handler that defers its work
to `transaction.on_commit` acts only on a committed LIVE stream and does not hold up the media
server's webhook answer.
"""

from __future__ import annotations

from collections.abc import Callable

from live.models import LiveStream

StreamHandler = Callable[[LiveStream], None]

_live_started: list[StreamHandler] = []


def live_started_register(handler: StreamHandler) -> None:
    """Add `handler(stream)`, called once per stream when it first goes live."""
    if handler not in _live_started:
        _live_started.append(handler)


def live_started_notify(stream: LiveStream) -> None:
    for handler in _live_started:
        handler(stream)
