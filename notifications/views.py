from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import service_error_json
from dorami.ratelimit import rate_limited
from live.models import LiveStream
from notifications import services
from notifications.errors import InvalidSubscription
from notifications.forms import PreferenceForm, parse_endpoint, parse_subscription

SERVICE_WORKER = settings.BASE_DIR / "static" / "js" / "sw.js"


@require_POST
@login_required
def push_subscribe(request):
    try:
        data = parse_subscription(request.body)
        if data.stream_id is not None and not LiveStream.objects.filter(pk=data.stream_id).exists():
            raise InvalidSubscription("방송을 찾을 수 없습니다.")
    except InvalidSubscription as error:
        return service_error_json(error)
    subscription = services.push_subscription_save(
        user=request.user,
        endpoint=data.endpoint,
        p256dh=data.p256dh,
        auth=data.auth,
        stream_id=data.stream_id,
        user_agent=request.headers.get("User-Agent", ""),
    )
    return JsonResponse({"ok": True, "id": subscription.pk}, status=201)


@require_POST
@login_required
def push_unsubscribe(request):
    try:
        endpoint = parse_endpoint(request.body)
    except InvalidSubscription as error:
        return service_error_json(error)
    deleted = services.push_subscription_delete(user=request.user, endpoint=endpoint)
    return JsonResponse({"ok": True, "deleted": deleted})


@require_GET
@cache_control(max_age=0, no_cache=True)
def service_worker(request):
    """The service worker at the site root so its scope can be the whole site."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(max_age=3600)
def manifest(request):
    data = {
        "name": "도라미",
        "short_name": "도라미",
        "lang": "ko",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#0b0b0f",
        "theme_color": "#0b0b0f",
        "icons": [
            {"src": static("img/apple-touch-icon.png"), "sizes": "180x180", "type": "image/png"},
            {"src": static("img/favicon-32.png"), "sizes": "32x32", "type": "image/png"},
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def vapid_public_key(request):
    """The public key the page passes to `pushManager.subscribe` (public by design)."""
    return HttpResponse(settings.VAPID_PUBLIC_KEY, content_type="text/plain")


@require_http_methods(["GET", "POST"])
@login_required
@rate_limited("profile_save")  # the same budget as the profile form: a settings save
def preferences(request):
    """마이페이지 › 알림 설정: a plain form (works without JavaScript)."""
    current = services.preference_of(request.user)
    fields = PreferenceForm.CHANNEL_FIELDS + PreferenceForm.KIND_FIELDS
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            services.notification_preference_update(user=request.user, **form.cleaned_data)
            messages.success(request, "알림 설정을 저장했습니다.")
            return redirect("notifications:preferences")
    else:
        form = PreferenceForm(initial={name: getattr(current, name) for name in fields})
    return render(request, "notifications/preferences.html", {"form": form})
