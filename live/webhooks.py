"""Media-server webhooks: SRS HTTP callbacks (JSON) and nginx-rtmp notifications (form posts).

Both put the shared secret in the hook URL (`?secret=…`) and must come from a private address
(MEDIA_WEBHOOK_ALLOWED_NETWORKS, checked on REMOTE_ADDR); calls per address are limited
(`RATE_LIMITS["media_webhook"]`, 429 past it). SRS allows on HTTP 200 with
`{"code": 0}`; nginx-rtmp allows on any 2xx. Anything else rejects (403 / 404), and every
rejection is logged as one structured line.

OBS publishes `rtmp://<host>:1935/live/<public id>?key=<publish key>`. Both servers split that
into the stream name (the public id: SRS `stream`, nginx-rtmp `name`) and its query string (SRS
`param` = `?key=…`; nginx-rtmp appends the publish arguments to its form body, so `key=…` is a
form field). Only `on_publish` needs the key; the other events name the stream by public id.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dorami import ratelimit
from live.models import public_id_valid
from live.services import stream as stream_services
from live.services.errors import LiveError, StreamUnknown

logger = logging.getLogger("live.webhooks")

INGEST_APP = "live"
MAX_BODY = 64 * 1024


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def _address_allowed(remote_addr: str) -> bool:
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    networks = _networks(tuple(settings.MEDIA_WEBHOOK_ALLOWED_NETWORKS))
    return any(address in network for network in networks if network.version == address.version)


def _secret_ok(request: HttpRequest) -> bool:
    expected = settings.MEDIA_WEBHOOK_SECRET
    given = request.GET.get("secret") or request.headers.get("X-Media-Secret") or ""
    return bool(expected) and constant_time_compare(given, expected)


class Rejected(Exception):
    def __init__(self, status: int, code: str):
        self.status = status
        self.code = code
        super().__init__(code)


def _log_rejection(
    *, request: HttpRequest, source: str, event: str, code: str, name: str, status: int
) -> None:
    if not name:
        shown = "-"
    elif public_id_valid(name):
        shown = name
    else:  # not a public id, maybe a publish key pasted as the stream name: never log it whole
        shown = name[:6] + "…"
    logger.warning(
        "media.webhook_rejected source=%s event=%s code=%s status=%s remote_addr=%s stream=%s",
        source,
        event,
        code,
        status,
        request.META.get("REMOTE_ADDR", ""),
        shown,
    )


def _guard(request: HttpRequest) -> None:
    if not _address_allowed(request.META.get("REMOTE_ADDR", "")):
        raise Rejected(403, "FORBIDDEN_ADDRESS")
    if not _secret_ok(request):
        raise Rejected(403, "BAD_SECRET")


@dataclass(frozen=True)
class Hook:
    """One parsed notification: the stream name (public id), the publish key (publish only),
    the RTMP application, the publisher's address and nginx-rtmp's `call`."""

    name: str
    publish_key: str
    app: str
    client_ip: str
    call: str


def _name_and_key(raw_name: str, *, key: str = "", query: str = "") -> tuple[str, str]:
    """Split `<public id>?key=<secret>` (a name that kept its query string); the key comes
    from a field of its own, else from that query string, else from `query` (SRS `param`)."""
    name, _sep, inline = (raw_name or "").strip().partition("?")
    for candidate in (key, QueryDict(inline).get("key"), QueryDict(query.lstrip("?")).get("key")):
        if candidate and candidate.strip():
            return name.strip(), candidate.strip()
    return name.strip(), ""


def _dispatch(*, action: str, hook: Hook) -> None:
    """Run the stream service for one media-server action. Raises LiveError to reject."""
    if action == "publish":
        if hook.app and hook.app != INGEST_APP:
            raise Rejected(403, "APP_NOT_ALLOWED")
        stream_services.stream_publish(
            public_id=hook.name, publish_key=hook.publish_key, client_ip=hook.client_ip
        )
    elif action == "unpublish":
        stream_services.stream_unpublish(public_id=hook.name)
    elif action == "heartbeat":
        stream_services.stream_heartbeat(public_id=hook.name)
    # "play"/"stop"/"server" and similar: allowed, no state.


def _handle(
    request: HttpRequest,
    *,
    source: str,
    event: str,
    parse: Callable[[HttpRequest], Hook],
    ok: Callable[[], HttpResponse],
    actions: dict[str, str],
) -> HttpResponse:
    name = ""
    refusal = ratelimit.hit("media_webhook", ratelimit.Caller(ip=ratelimit.client_ip(request)))
    if refusal is not None:  # counted before the guard: a caller guessing secrets is slowed too
        _log_rejection(
            request=request, source=source, event=event, code=ratelimit.CODE, name="", status=429
        )
        body = {"code": 429, "error": ratelimit.CODE, "message": refusal.message}
        response = JsonResponse(body, status=429)
        response["Retry-After"] = str(refusal.retry_after)
        return response
    try:
        _guard(request)
        if event not in actions:
            raise Rejected(404, "UNKNOWN_EVENT")
        if len(request.body) > MAX_BODY:
            raise Rejected(400, "BODY_TOO_LARGE")
        hook = parse(request)
        name = hook.name
        action = actions[event]
        if source == "rtmp" and event == "on_update" and hook.call == "update_play":
            action = "play"
        if source == "srs" and event == "heartbeat" and not name:
            action = "server"  # SRS's server heartbeat (no stream): alive, nothing to record
        if action in {"publish", "unpublish", "heartbeat"} and not name:
            raise Rejected(400, "MISSING_STREAM")
        _dispatch(action=action, hook=hook)
    except Rejected as exc:
        _log_rejection(
            request=request, source=source, event=event, code=exc.code, name=name, status=exc.status
        )
        return JsonResponse({"code": exc.status, "error": exc.code}, status=exc.status)
    except LiveError as exc:
        status = 404 if isinstance(exc, StreamUnknown) else 403
        _log_rejection(
            request=request, source=source, event=event, code=exc.code, name=name, status=status
        )
        return JsonResponse({"code": status, "error": exc.code}, status=status)
    return ok()


def _parse_srs(request: HttpRequest) -> Hook:
    try:
        payload = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected(400, "MALFORMED_JSON") from exc
    if not isinstance(payload, dict):
        raise Rejected(400, "MALFORMED_JSON")
    name, key = _name_and_key(
        str(payload.get("stream") or ""), query=str(payload.get("param") or "")
    )
    return Hook(
        name=name,
        publish_key=key,
        app=str(payload.get("app") or "").strip(),
        client_ip=str(payload.get("ip") or "").strip(),
        call=str(payload.get("action") or "").strip(),
    )


def _parse_rtmp(request: HttpRequest) -> Hook:
    data = request.POST
    # nginx-rtmp appends the publish arguments (`key=…`) to the form body; `args` covers a
    # server that forwards them as one field instead.
    name, key = _name_and_key(
        data.get("name") or "", key=data.get("key") or "", query=data.get("args") or ""
    )
    return Hook(
        name=name,
        publish_key=key,
        app=(data.get("app") or "").strip(),
        client_ip=(data.get("addr") or "").strip(),
        call=(data.get("call") or "").strip(),
    )


SRS_ACTIONS = {
    "on_publish": "publish",
    "on_unpublish": "unpublish",
    "on_hls": "heartbeat",  # fires for every segment while publishing
    "heartbeat": "heartbeat",
    "on_play": "play",
    "on_stop": "play",
    "on_connect": "play",
    "on_close": "play",
}

RTMP_ACTIONS = {
    "on_publish": "publish",
    "on_publish_done": "unpublish",
    "on_update": "heartbeat",  # call=update_publish every notify_update_timeout
    "on_play": "play",
    "on_play_done": "play",
    "on_done": "play",
    "on_connect": "play",
}


@csrf_exempt
@require_POST
def srs_hook(request: HttpRequest, event: str) -> HttpResponse:
    return _handle(
        request,
        source="srs",
        event=event,
        parse=_parse_srs,
        ok=lambda: JsonResponse({"code": 0}),
        actions=SRS_ACTIONS,
    )


@csrf_exempt
@require_POST
def rtmp_hook(request: HttpRequest, event: str) -> HttpResponse:
    return _handle(
        request,
        source="rtmp",
        event=event,
        parse=_parse_rtmp,
        ok=lambda: HttpResponse("OK", content_type="text/plain"),
        actions=RTMP_ACTIONS,
    )
