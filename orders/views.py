"""Shopper pages: checkout (page and live bottom sheet), order complete, my orders, detail."""

from __future__ import annotations

import secrets

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.permissions import profile_required
from core.errors import ServiceError
from core.models import get_config
from dorami.ratelimit import rate_limited
from orders import selectors, services
from orders.forms import CheckoutForm, parse_line_ids, parse_points
from orders.models import Order
from points import services as points

CHECKOUT = "orders/checkout.html"
COMPLETE_CARD = "orders/complete.html#order-complete"


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def _summary(*, user, lines, selected_ids, points_value, use_all: bool = False) -> dict:
    chosen = [line for line in lines if line.pk in selected_ids]
    preview = selectors.checkout_preview(user=user, lines=chosen)
    if use_all:
        points_value = preview.points_max
    error = None
    used = 0
    if points_value is None:
        error = points.InvalidPointsAmount()
    elif points_value and chosen:
        try:
            points.points_validate_use(
                points=points_value,
                order_total=preview.total_before_points,
                balance=preview.points_balance,
            )
            used = points_value
        except points.PointsError as exc:
            error = exc
    discount = points.points_to_money(used)
    return {
        "preview": preview,
        "selected_ids": selected_ids,
        "points_value": points_value if points_value is not None else "",
        "points_error": error,
        "points_discount": discount,
        "pay_total": preview.total_before_points - discount,
        "points_oob": use_all,
    }


def _checkout_context(request, *, form=None, selected_ids=None, points_value=0, error=None):
    lines = selectors.holding_lines(user=request.user)
    if selected_ids is None:
        selected_ids = [line.pk for line in lines]
    config = get_config()
    methods = [
        (value, label)
        for value, label in Order.PaymentMethod.choices
        if services.payment_method_enabled(method=value, config=config)
    ]
    token = (form.data.get("idempotency_key") if form is not None else None) or _new_token()
    return {
        "lines": lines,
        "form": form,
        "token": token,
        "methods": methods,
        "chosen_method": (form.data.get("payment_method") if form is not None else None)
        or (methods[0][0] if methods else ""),
        "error": error,
        "config": config,
        "address": request.user.shipping_address,
        **_summary(
            user=request.user, lines=lines, selected_ids=selected_ids, points_value=points_value
        ),
    }


def _complete_url(order: Order) -> str:
    return reverse("orders:complete", kwargs={"order_id": order.order_id})


@require_http_methods(["GET", "POST"])
@rate_limited("checkout")
@profile_required
def checkout(request):
    sheet = bool(request.GET.get("sheet") or request.POST.get("sheet"))
    # HTMX (the page's own form or the live sheet) swaps only the form.
    template = f"{CHECKOUT}#checkout-form" if request.htmx else CHECKOUT
    if request.method == "GET":
        return render(request, template, {**_checkout_context(request), "sheet": sheet})

    form = CheckoutForm(request.POST, line_ids_raw=request.POST.getlist("line_ids"))
    selected = parse_line_ids(request.POST.getlist("line_ids")) or []
    points_value = parse_points(request.POST.get("points"))
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_place(
                user=request.user,
                idempotency_key=data["idempotency_key"],
                payment_method=data["payment_method"],
                line_ids=data["line_ids"],
                points_to_use=data["points"],
                expected_total=data["expected_total"],
            )
        except ServiceError as exc:
            error = exc
        else:
            if request.htmx and sheet:
                # The live sheet keeps the shopper in the show: the complete card in the sheet.
                response = render(request, COMPLETE_CARD, _complete_context(order, sheet=True))
                response["HX-Trigger"] = "cart-changed"
                return response
            if request.htmx:
                return HttpResponseClientRedirect(_complete_url(order))
            return redirect(_complete_url(order))
    context = _checkout_context(
        request, form=form, selected_ids=selected, points_value=points_value, error=error
    )
    context["sheet"] = sheet
    # htmx swaps only 2xx responses; a plain form post gets a 400 with the same page.
    return render(request, template, context, status=200 if request.htmx else 400)


@require_GET
@profile_required
def checkout_sheet(request):
    """The checkout form alone, for the live page's bottom sheet."""
    return render(
        request, f"{CHECKOUT}#checkout-form", {**_checkout_context(request), "sheet": True}
    )


@require_GET
@profile_required
def checkout_summary(request):
    """Recomputed amounts for the selected lines and points (HTMX on every change).
    `use_all=1` ("전액 사용") also swaps the points input out of band to the maximum."""
    lines = selectors.holding_lines(user=request.user)
    selected = parse_line_ids(request.GET.getlist("line_ids"))
    context = _summary(
        user=request.user,
        lines=lines,
        selected_ids=selected or [],
        points_value=parse_points(request.GET.get("points")),
        use_all=request.GET.get("use_all") == "1",
    )
    if selected is None:
        context["summary_error"] = services.CartLinesInvalid()
    return render(request, f"{CHECKOUT}#checkout-summary", context)


@require_GET
@profile_required
def cart_shipping(request):
    """The cart page's shipping figure, by the same rule as checkout."""
    return render(
        request,
        "orders/cart_shipping.html",
        {"quote": selectors.cart_shipping_quote(user=request.user)},
    )


def _own_order(request, order_id: str) -> Order:
    order = selectors.order_for_user(user=request.user, order_id=order_id)
    if order is None:
        raise Http404
    return order


def _complete_context(order: Order, *, sheet: bool = False) -> dict:
    return {
        "order": order,
        "config": get_config(),
        "sheet": sheet,
    }


@require_GET
@profile_required
def order_complete(request, order_id: str):
    order = _own_order(request, order_id)
    return render(request, "orders/complete.html", _complete_context(order))


@require_GET
@profile_required
def my_orders(request):
    status = request.GET.get("status", "")
    if status not in Order.Status.values:
        status = ""
    context = {
        "orders": selectors.orders_for_user(user=request.user, status=status)[:100],
        "tabs": selectors.STATUS_TABS,
        "status": status,
        "counts": selectors.order_status_counts(user=request.user),
    }
    template = "orders/my_orders.html#order-list" if request.htmx else "orders/my_orders.html"
    return render(request, template, context)


@require_GET
@profile_required
def order_detail(request, order_id: str):
    order = _own_order(request, order_id)
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "config": get_config(),
            "address": order.shipping_address,
        },
    )
