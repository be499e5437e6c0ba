"""Seller studio (staff only): streams, OBS settings, live numbers, products, chat moderation,
restream targets. Thin views: parse input, check staff, call one service, render.

Permissions (docs/permissions.md): opening the studio needs staff + `live.change_livestream`
(the page shows the publish key); each action also needs the permission of what it writes
(`live.add_livestream`, `shop.change_product`, `shop.change_productvariant`,
`live.add/change/delete_restreamtarget`). Anonymous → login; otherwise missing → 403.

Every POST is CSRF-protected (the default middleware; htmx sends the token from `<body>`).
With htmx a POST answers the named partial it changed; without JS it redirects back (PRG).
"""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dorami.storetime import store_make_aware
from live import presence
from live.charts import stream_chart
from live.models import LiveStream, RestreamSession, RestreamTarget
from live.selectors import player_urls, stream_history
from live.services import restream as restream_services
from live.services import stream as stream_services
from live.services.errors import LiveError
from orders import selectors as order_selectors

logger = logging.getLogger("live.studio")

PAGE = "live/studio_stream.html"
LIST_PAGE = "live/studio.html"
RESTREAMS = "live/studio_restreams.html"


def staff_required(view):
    """Anonymous → login (and back); logged in but not staff → 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            login = reverse(settings.LOGIN_URL)
            return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- Reads shown on the studio page ---------------------------------------------------------


def viewer_count(stream: LiveStream) -> int | None:
    """Unique viewers now (presence in Redis); None ("-") if presence is unavailable."""
    if stream.status != LiveStream.Status.LIVE:
        return None
    try:
        return presence.viewer_count(stream.pk)
    except Exception:  # presence store down: the studio still works
        logger.warning("studio.viewer_count_failed stream_id=%s", stream.pk, exc_info=True)
        return None


def stream_sales(stream: LiveStream) -> dict | None:
    """Orders, revenue and units per product of the stream; None if sales are unavailable."""
    try:
        return order_selectors.stream_sales(stream_id=stream.pk)
    except Exception:
        logger.warning("studio.sales_failed stream_id=%s", stream.pk, exc_info=True)
        return None


# --- Context --------------------------------------------------------------------------------


def _stream_products(stream: LiveStream) -> list:
    from shop.models import Product, ProductVariant

    return list(
        Product.objects.filter(stream=stream)
        .order_by("sort_order", "pk")
        .prefetch_related(
            Prefetch("variants", queryset=ProductVariant.objects.order_by("sort_order", "pk"))
        )
    )


def _restream_rows(stream: LiveStream | None) -> list[dict]:
    targets = list(RestreamTarget.objects.order_by("name", "pk"))
    sessions = {}
    if stream is not None:
        sessions = {s.target_id: s for s in RestreamSession.objects.filter(stream=stream)}
    return [{"target": t, "session": sessions.get(t.pk)} for t in targets]


def _stream_context(stream: LiveStream) -> dict:
    return {
        "stream": stream,
        **_partial_context(stream, "obs"),
        "viewers": viewer_count(stream),
        "sales": stream_sales(stream),
        "chart": stream_chart(stream),
        "products": _stream_products(stream),
        "restreams": _restream_rows(stream),
        "history": stream_history(stream=stream)
        if stream.status == LiveStream.Status.OFFLINE and stream.started_at
        else None,
        "platforms": RestreamTarget.Platform.choices,
        "ws_path": f"/ws/live/{stream.public_id}/",
        **player_urls(stream),
    }


def _partial_context(stream: LiveStream, partial: str) -> dict:
    """Only what one partial shows: the polled ones refresh every few seconds, and a POST
    answers with the one partial it changed."""
    if partial == "status":
        return {"stream": stream, "viewers": viewer_count(stream)}
    if partial == "sales":
        return {"stream": stream, "sales": stream_sales(stream)}
    if partial == "chart":
        return {"stream": stream, "chart": stream_chart(stream)}
    if partial == "obs":
        return {
            "stream": stream,
            "rtmp_url": settings.RTMP_PUBLIC_URL.rstrip("/"),
            "key_usable": stream.key_usable(),
        }
    if partial == "products":
        return {"stream": stream, "products": _stream_products(stream)}
    return {"stream": stream}  # notice


def _load(stream_id: int) -> LiveStream:
    return get_object_or_404(LiveStream.objects.select_related("featured_product"), pk=stream_id)


def _answer(
    request: HttpRequest, stream: LiveStream, partial: str, *, error: str = "", ok: str = ""
) -> HttpResponse:
    """htmx: the changed partial (with the message inline); otherwise back to the page."""
    if request.htmx:
        stream.refresh_from_db()
        context = {**_partial_context(stream, partial), "error": error, "ok": ok}
        return render(request, f"{PAGE}#{partial}", context)
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return redirect("live:studio-stream", stream_id=stream.pk)


# --- Pages ----------------------------------------------------------------------------------


@require_GET
@staff_required
@permission_required("live.change_livestream", raise_exception=True)
def studio_home(request: HttpRequest) -> HttpResponse:
    streams = LiveStream.objects.order_by("-created_at")[:50]
    return render(
        request,
        LIST_PAGE,
        {
            "streams": streams,
            "restreams": _restream_rows(None),
            "platforms": RestreamTarget.Platform.choices,
        },
    )


@require_POST
@staff_required
@permission_required("live.add_livestream", raise_exception=True)
def studio_stream_create(request: HttpRequest) -> HttpResponse:
    scheduled_at = None
    raw = (request.POST.get("scheduled_at") or "").strip()
    if raw:
        scheduled_at = parse_datetime(raw)
        if scheduled_at is None:
            messages.error(request, _("예정 시각 형식이 올바르지 않습니다."))
            return redirect("live:studio")
        scheduled_at = store_make_aware(scheduled_at)  # the seller types store time
    try:
        stream = stream_services.stream_create(
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            scheduled_at=scheduled_at,
            actor=request.user,
        )
    except LiveError as exc:
        messages.error(request, exc.message)
        return redirect("live:studio")
    messages.success(request, _("방송을 만들었습니다. OBS 설정을 확인하세요."))
    return redirect("live:studio-stream", stream_id=stream.pk)


@require_GET
@staff_required
@permission_required("live.change_livestream", raise_exception=True)
def studio_stream(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = _load(stream_id)
    partial = request.GET.get("partial")
    if request.htmx and partial == "restream-state":
        target = get_object_or_404(RestreamTarget, pk=_int(request.GET.get("target")))
        row = {"target": target, "session": stream.restreams.filter(target=target).first()}
        return render(request, f"{RESTREAMS}#restream-state", {"stream": stream, "row": row})
    if request.htmx and partial in {"status", "sales", "chart"}:
        return render(request, f"{PAGE}#{partial}", _partial_context(stream, partial))
    return render(request, PAGE, _stream_context(stream))


def _int(raw) -> int:
    return int(raw) if isinstance(raw, str) and raw.isdigit() else 0


# --- Stream actions -------------------------------------------------------------------------


@require_POST
@staff_required
@permission_required("live.change_livestream", raise_exception=True)
def studio_key_refresh(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = _load(stream_id)
    try:
        stream_services.stream_key_refresh(stream=stream, actor=request.user)
    except LiveError as exc:
        return _answer(request, stream, "obs", error=exc.message)
    if request.htmx:
        # the OBS field and its copy button carry the key: reload the whole page
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        messages.success(request, _("새 스트림 키를 발급했습니다. OBS에 다시 입력하세요."))
        return response
    return _answer(
        request, stream, "obs", ok=_("새 스트림 키를 발급했습니다. OBS에 다시 입력하세요.")
    )


@require_POST
@staff_required
@permission_required("live.change_livestream", raise_exception=True)
def studio_stream_end(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = _load(stream_id)
    if request.POST.get("confirm") != "yes":
        return _answer(request, stream, "status", error=_("종료 확인에 체크하세요."))
    try:
        stream_services.stream_end(stream=stream, actor=request.user)
    except LiveError as exc:
        return _answer(request, stream, "status", error=exc.message)
    return _answer(request, stream, "status", ok=_("방송을 종료했습니다."))


@require_POST
@staff_required
@permission_required("live.change_livestream", raise_exception=True)
def studio_feature(request: HttpRequest, stream_id: int) -> HttpResponse:
    from shop.models import Product

    stream = _load(stream_id)
    product = None
    raw = request.POST.get("product_id") or ""
    if raw:
        if not raw.isdigit():
            return _answer(request, stream, "products", error=_("상품을 선택하세요."))
        product = Product.objects.filter(pk=int(raw)).first()
        if product is None:
            return _answer(request, stream, "products", error=_("상품을 찾을 수 없습니다."))
    try:
        stream_services.stream_feature_product(stream=stream, product=product, actor=request.user)
    except LiveError as exc:
        return _answer(request, stream, "products", error=exc.message)
    ok = _("대표 상품을 지정했습니다.") if product else _("대표 상품을 해제했습니다.")
    return _answer(request, stream, "products", ok=ok)


@require_POST
@staff_required
@permission_required("live.change_livestream", raise_exception=True)
def studio_notice(request: HttpRequest, stream_id: int) -> HttpResponse:
    stream = _load(stream_id)
    try:
        stream_services.stream_notice_update(
            stream=stream, notice_text=request.POST.get("notice_text", ""), actor=request.user
        )
    except LiveError as exc:
        return _answer(request, stream, "notice", error=exc.message)
    return _answer(request, stream, "notice", ok=_("공지를 저장했습니다."))


@require_POST
@staff_required
@permission_required("shop.change_product", raise_exception=True)
def studio_sold_out(request: HttpRequest, stream_id: int, product_id: int) -> HttpResponse:
    from shop import services as shop_services

    stream = _load(stream_id)
    product = get_object_or_404(stream.products.all(), pk=product_id)
    sold_out = request.POST.get("sold_out") == "1"
    try:
        shop_services.product_mark_sold_out(
            product_id=product.pk, sold_out=sold_out, actor=request.user
        )
    except shop_services.ShopError as exc:
        return _answer(request, stream, "products", error=str(exc.message))
    ok = _("품절 처리했습니다.") if sold_out else _("판매를 재개했습니다.")
    return _answer(request, stream, "products", ok=ok)


@require_POST
@staff_required
@permission_required("shop.change_productvariant", raise_exception=True)
def studio_stock(request: HttpRequest, stream_id: int, variant_id: int) -> HttpResponse:
    from shop import services as shop_services
    from shop.models import ProductVariant

    stream = _load(stream_id)
    variant = get_object_or_404(ProductVariant, pk=variant_id, product__stream=stream)
    raw = (request.POST.get("stock") or "").strip()
    if not raw.isdigit():
        return _answer(request, stream, "products", error=_("재고는 0 이상의 숫자로 입력하세요."))
    try:
        shop_services.stock_adjust(variant_id=variant.pk, stock=int(raw), actor=request.user)
    except shop_services.ShopError as exc:
        return _answer(request, stream, "products", error=str(exc.message))
    return _answer(request, stream, "products", ok=_("재고를 변경했습니다."))


# --- Restream targets -----------------------------------------------------------------------


def _restream_answer(request: HttpRequest, *, error: str = "", ok: str = "") -> HttpResponse:
    stream_id = request.POST.get("stream_id") or ""
    stream = None
    if stream_id.isdigit():
        stream = LiveStream.objects.filter(pk=int(stream_id)).first()
    if request.htmx:
        context = {
            "stream": stream,
            "restreams": _restream_rows(stream),
            "platforms": RestreamTarget.Platform.choices,
            "error": error,
            "ok": ok,
        }
        return render(request, f"{RESTREAMS}#restreams", context)
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    if stream is not None:
        return redirect("live:studio-stream", stream_id=stream.pk)
    return redirect("live:studio")


def _target_fields(request: HttpRequest) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "platform": request.POST.get("platform", RestreamTarget.Platform.CUSTOM),
        "rtmp_url": request.POST.get("rtmp_url", ""),
        "stream_key": request.POST.get("target_key", ""),
        "enabled": request.POST.get("enabled") == "1",
        "mute_audio": request.POST.get("mute_audio") == "1",
    }


@require_POST
@staff_required
@permission_required("live.add_restreamtarget", raise_exception=True)
def studio_target_create(request: HttpRequest) -> HttpResponse:
    try:
        restream_services.restream_target_create(**_target_fields(request), actor=request.user)
    except LiveError as exc:
        return _restream_answer(request, error=exc.message)
    return _restream_answer(request, ok=_("리스트리밍 대상을 추가했습니다."))


@require_POST
@staff_required
@permission_required("live.change_restreamtarget", raise_exception=True)
def studio_target_update(request: HttpRequest, target_id: int) -> HttpResponse:
    target = get_object_or_404(RestreamTarget, pk=target_id)
    fields = _target_fields(request)
    if not fields["stream_key"]:  # the key is never echoed back: empty keeps it
        fields["stream_key"] = target.stream_key
    try:
        restream_services.restream_target_update(target=target, **fields, actor=request.user)
    except LiveError as exc:
        return _restream_answer(request, error=exc.message)
    return _restream_answer(request, ok=_("리스트리밍 대상을 수정했습니다."))


@require_POST
@staff_required
@permission_required("live.change_restreamtarget", raise_exception=True)
def studio_target_toggle(request: HttpRequest, target_id: int) -> HttpResponse:
    target = get_object_or_404(RestreamTarget, pk=target_id)
    field = request.POST.get("field")
    value = request.POST.get("value") == "1"
    if field == "enabled":
        restream_services.restream_target_set_enabled(
            target=target, enabled=value, actor=request.user
        )
    elif field == "mute_audio":
        restream_services.restream_target_set_mute(
            target=target, mute_audio=value, actor=request.user
        )
    else:
        return _restream_answer(request, error=_("잘못된 요청입니다."))
    return _restream_answer(request, ok=_("저장했습니다."))


@require_POST
@staff_required
@permission_required("live.delete_restreamtarget", raise_exception=True)
def studio_target_delete(request: HttpRequest, target_id: int) -> HttpResponse:
    target = get_object_or_404(RestreamTarget, pk=target_id)
    restream_services.restream_target_delete(target=target, actor=request.user)
    return _restream_answer(request, ok=_("리스트리밍 대상을 삭제했습니다."))
