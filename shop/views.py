"""Shop pages: thin doors that parse input, call one service or selector, and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import MESSAGES as GATE_MESSAGES
from accounts.permissions import (
    can_buy_or_chat,
    gate_url,
    profile_required,
    safe_next,
    wants_json,
)
from core.errors import service_error_json
from core.models import get_config
from dorami.ratelimit import rate_limited
from shop import batcher, selectors, services
from shop.cart_summary import cart_summary_extra
from shop.forms import CartAddForm, LineQuantityForm, WaitlistJoinForm
from shop.services import ShopError

STORE_PAGE_SIZE = 20


def _add_error_response(request, error: ShopError, *, fallback: str, context: dict | None = None):
    """A refused add (cart or waitlist): the JSON error, the sheet's add-result partial, or a
    flash message and a redirect to `fallback`."""
    if wants_json(request):
        return service_error_json(error)
    if request.htmx:
        context = {"error": error, **(context or {})}
        return render(request, "shop/product_detail.html#add-result", context)
    messages.error(request, error.message)
    return redirect(fallback)


# --- home and store ----------------------------------------------------------------------


@require_GET
def store(request):
    query = request.GET.get("q", "")[:100]
    paginator = Paginator(selectors.store_products(query=query), STORE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"page": page, "query": query}
    template = "shop/store.html#product-grid" if request.htmx else "shop/store.html"
    return render(request, template, context)


def _product_or_404(product_id) -> selectors.ProductPage:
    page = selectors.product_page(product_id=product_id)
    if page is None:
        raise Http404(_("상품을 찾을 수 없습니다"))
    return page


def _preselected_variant_id(variants: list, requested: str) -> int | None:
    """The option chosen before (`?variant=<id>`, e.g. back from the login page) if it can be
    bought, else the first one in stock, else the first active one."""
    active = [v for v in variants if v.status == v.Status.ACTIVE]
    for variant in active:
        if str(variant.pk) == requested:
            return variant.pk
    in_stock = [v for v in active if v.available > 0]
    first = (in_stock or active or [None])[0]
    return first.pk if first else None


def _options_key(product, variants: list, selected_variant_id, low_stock_threshold) -> str:
    """Everything the sheet's options and quantity fragment shows: its key in the "fragments"
    cache (shop/product_detail.html)."""
    options = tuple((v.pk, v.color, v.size, str(v.price), v.status, v.available) for v in variants)
    return repr((product.pk, options, selected_variant_id, low_stock_threshold))


def _product_context(request, page: selectors.ProductPage) -> dict:
    product, variants = page.product, page.variants
    gate = can_buy_or_chat(request.user)
    selected_variant_id = _preselected_variant_id(variants, request.GET.get("variant", ""))
    low_stock_threshold = get_config().low_stock_threshold
    return {
        "product": product,
        "variants": variants,
        "selected_variant_id": selected_variant_id,
        "options_key": _options_key(product, variants, selected_variant_id, low_stock_threshold),
        "gate": gate,
        "gate_message": GATE_MESSAGES.get(gate, ""),
        "gate_url": gate_url(request, gate) if gate else "",
        "images": page.images,
        "sold_out": page.sold_out,
        "waitlist_entry": selectors.open_waitlist_entry(user=request.user, product_id=product.pk),
        "low_stock_threshold": low_stock_threshold,
    }


@require_GET
def product_detail(request, product_id: int):
    page = _product_or_404(product_id)
    return render(request, "shop/product_detail.html", _product_context(request, page))


@require_GET
def product_sheet(request, product_id: int):
    """The options sheet alone (the live page shows it in a bottom sheet)."""
    page = _product_or_404(product_id)
    return render(request, "shop/product_detail.html#sheet", _product_context(request, page))


# --- cart --------------------------------------------------------------------------------


@require_POST
@rate_limited("cart_add")
@profile_required
def cart_add(request):
    """One add, checked by Django's middleware and the decorators above, run in this process's
    batch of concurrent adds (`shop.batcher`: one transaction for the adds that arrive
    together)."""
    try:
        add = CartAddForm.from_post(request.POST).parsed()
    except ShopError as error:
        return cart_add_answer(request, error)
    return cart_add_answer(request, batcher.cart_add(user=request.user, **add))


def cart_add_answer(request, result) -> HttpResponse:
    """The answer to an add (`result`: the line or the ShopError) as JSON, the sheet's partial
    (htmx) or a redirect."""
    if isinstance(result, ShopError):
        post = request.POST
        context = {"variant_id": post.get("variant_id", ""), "quantity": post.get("quantity", "1")}
        context["offer_waitlist"] = result.code == "INSUFFICIENT_STOCK"
        fallback = safe_next(request, request.POST.get("next"), reverse("shop:cart"))
        return _add_error_response(request, result, context=context, fallback=fallback)
    line = result
    if wants_json(request):
        expires_at = line.expires_at.isoformat() if line.expires_at else None
        body = {"ok": True, "line_id": line.pk, "quantity": line.quantity, "expires_at": expires_at}
        return JsonResponse(body, status=201)
    if request.htmx:
        context = {"line": line, "product": line.variant.product}
        response = render(request, "shop/product_detail.html#add-result", context)
        response["HX-Trigger"] = "cart-changed"
        return response
    messages.success(request, _("장바구니에 담았습니다"))
    return redirect("shop:cart")


def _cart_context(request) -> dict:
    cart = selectors.cart_view(user=request.user)
    return {"cart": cart, "summary_extra": cart_summary_extra(user=request.user, cart=cart)}


@require_GET
@profile_required
def cart(request):
    return render(request, "shop/cart.html", _cart_context(request))


@require_GET
@profile_required
def cart_summary(request):
    return render(request, "shop/cart.html#cart-summary", _cart_context(request))


def _cart_response(request, *, error: ShopError | None = None, notice: str = ""):
    if wants_json(request):
        if error:
            return service_error_json(error)
        return JsonResponse({"ok": True})
    if request.htmx:
        context = {**_cart_context(request), "error": error, "notice": notice}
        response = render(request, "shop/cart.html#cart-body", context)
        response["HX-Trigger"] = "cart-changed"
        return response
    if error:
        messages.error(request, error.message)
    elif notice:
        messages.success(request, notice)
    return redirect("shop:cart")


@require_POST
@rate_limited("cart_update")
@profile_required
def cart_line_update(request, line_id: int):
    try:
        quantity = LineQuantityForm.from_post(request.POST).parsed()["quantity"]
        services.cart_line_update(user=request.user, line_id=line_id, quantity=quantity)
    except ShopError as error:
        return _cart_response(request, error=error)
    return _cart_response(request, notice=_("수량을 변경했습니다"))


@require_POST
@profile_required
def cart_line_remove(request, line_id: int):
    try:
        services.cart_line_remove(user=request.user, line_id=line_id)
    except ShopError as error:
        return _cart_response(request, error=error)
    return _cart_response(request, notice=_("삭제했습니다"))


@require_POST
@profile_required
def cart_clear(request):
    services.cart_clear(user=request.user)
    return _cart_response(request, notice=_("장바구니를 비웠습니다"))


@require_GET
def cart_badge(request):
    count = selectors.cart_count(user=request.user)
    return HttpResponse(str(count) if count else "")


# --- waitlist ----------------------------------------------------------------------------


@require_POST
@rate_limited("waitlist_join")
@profile_required
def waitlist_join(request):
    try:
        join = WaitlistJoinForm.from_post(request.POST).parsed()
        entry = services.waitlist_join(user=request.user, **join)
    except ShopError as error:
        return _add_error_response(request, error, fallback=reverse("shop:waitlist"))
    position = selectors.waitlist_position(entry=entry)
    if wants_json(request):
        body = {"ok": True, "entry_id": entry.pk, "number": entry.number, "position": position}
        return JsonResponse(body, status=201)
    if request.htmx:
        context = {"joined": entry, "position": position}
        return render(request, "shop/product_detail.html#add-result", context)
    messages.success(request, _("예비번호 %(n)s번을 받았습니다") % {"n": entry.number})
    return redirect("shop:waitlist")


def _waitlist_context(request) -> dict:
    return {
        "entries": selectors.waitlist_entries(user=request.user),
        "promotion_minutes": get_config().waitlist_promotion_minutes,
    }


@require_GET
@profile_required
def waitlist(request):
    template = "shop/waitlist.html#waitlist-list" if request.htmx else "shop/waitlist.html"
    return render(request, template, _waitlist_context(request))


@require_POST
@profile_required
def waitlist_cancel(request, entry_id: int):
    try:
        services.waitlist_cancel(user=request.user, entry_id=entry_id)
    except ShopError as error:
        if wants_json(request):
            return service_error_json(error)
        messages.error(request, error.message)
    else:
        if wants_json(request):
            return JsonResponse({"ok": True})
        messages.success(request, _("예비번호를 취소했습니다"))
    if request.htmx:
        return render(request, "shop/waitlist.html#waitlist-list", _waitlist_context(request))
    return redirect("shop:waitlist")
