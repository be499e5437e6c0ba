"""Shopper pages of the live room: the watch page, the viewer badge and the room state."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import can_buy_or_chat, gate_url
from core.models import get_config
from core.notices import ticker_text
from live import selectors
from live.models import LiveStream
from live.presence import viewer_count
from live.services.chat import history_read
from shop import selectors as shop_selectors


def _stream_or_404(public_id: str):
    stream = selectors.stream_by_public_id(public_id)
    if stream is None:
        raise Http404
    return stream


@require_GET
def live_index(request):
    """`/live/`: the LIVE stream, else the next scheduled one, else an empty state."""
    stream = selectors.current_stream()
    if stream is not None:
        return redirect("live:watch", public_id=stream.public_id)
    return render(request, "live/empty.html")


@require_GET
def watch(request, public_id: str):
    stream = _stream_or_404(public_id)
    products = selectors.stream_products(stream)
    gate = can_buy_or_chat(request.user)
    ended = stream.status == stream.Status.OFFLINE
    context = {
        "stream": stream,
        "products": products,
        "featured": next((p for p in products if p.pk == stream.featured_product_id), None),
        # The ended panel's next show (a page open when the show ends reloads the panel).
        "next_stream": selectors.next_stream(after=stream) if ended else None,
        **selectors.room_position(stream),
        "viewers": viewer_count(stream.pk),
        "chat_messages": history_read(stream_id=stream.pk),
        "gate": gate,
        "gate_url": gate_url(request, gate) if gate else "",
        # delete buttons on chat lines: for those the socket lets moderate
        "is_staff": request.user.is_staff and request.user.has_perm("live.change_chatmessage"),
        # Playback and socket paths name the public id: the media server's stream name.
        **selectors.player_urls(stream),
        "ws_path": f"/ws/live/{stream.public_id}/",
        "debug": settings.DEBUG,
        # "N개 남음" shows at 1..threshold (SystemConfig), on the cards and in live.js alike.
        "low_stock_threshold": get_config().low_stock_threshold,
        # The store's notices in the ticker (cached: no query on this hot page).
        "site_notice": ticker_text(),
    }
    return render(request, "live/watch.html", context)


@require_GET
def viewer_badge(request, public_id: str):
    """Small fragment with the viewer count (the home page polls it)."""
    stream = _stream_or_404(public_id)
    context = {"stream": stream, "viewers": viewer_count(stream.pk)}
    return render(request, "live/watch.html#viewer-badge", context)


@never_cache
@require_GET
def room_state(request, public_id: str):
    """JSON room state for a client that saw a sequence gap or reconnected."""
    stream = _stream_or_404(public_id)
    return JsonResponse(selectors.live_room_state(stream=stream))


@require_GET
def home(request):
    """The home page: the show on air, the next ones, featured products (shop's and live's)."""
    live = LiveStream.objects.live().order_by("-started_at").first()
    upcoming = list(LiveStream.objects.upcoming().filter(scheduled_at__gt=timezone.now())[:5])
    context = {
        "live_stream": live,
        "next_stream": upcoming[0] if upcoming else None,
        "upcoming": upcoming,
        "featured": shop_selectors.featured_products(),
    }
    return render(request, "shop/home.html", context)
