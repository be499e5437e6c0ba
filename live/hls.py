"""HLS files from HLS_ROOT, for setups without nginx in front (development, the video test).

In production nginx serves `/hls/` straight from the media server's HLS directory; this view is
a fallback that answers 404 unless HLS_ROOT is set.

Files are named after the media server's stream name, which is the stream's public id
(`<public id>.m3u8`, `<public id>-<n>.ts`); any other name, a publish key among them, is 404.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from live.models import PUBLIC_ID_REGEX

HLS_NAME = re.compile(rf"^{PUBLIC_ID_REGEX}(?:-[0-9]+)?\.(m3u8|ts)$")
CONTENT_TYPES = {"m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t"}


@require_GET
def hls_file(request: HttpRequest, filename: str) -> FileResponse:
    root_setting = settings.HLS_ROOT
    match = HLS_NAME.match(filename or "")
    if not root_setting or match is None:
        raise Http404
    root = Path(root_setting).resolve()
    path = (root / filename).resolve()
    if path.parent != root or not path.is_file():
        raise Http404
    try:
        handle = path.open("rb")
    except OSError as exc:  # the media server rotated the segment away meanwhile
        raise Http404 from exc
    response = FileResponse(handle, content_type=CONTENT_TYPES[match.group(1)])
    # Playlists change every segment; segments never change.
    response["Cache-Control"] = "no-cache" if match.group(1) == "m3u8" else "max-age=60"
    return response
