from django.conf import settings
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from dorami import health, metrics

urlpatterns = [
    path("api/v1/health/live", health.live, name="health-live"),
    path("api/v1/health/ready", health.ready, name="health-ready"),
    path("api/", include("api.urls")),
    path("metrics", metrics.metrics_view, name="prometheus-django-metrics"),
    # Browsers ask for /favicon.ico whatever the page links; pages link the SVG (_favicon.html).
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("img/favicon.ico"))),
    path("admin/", admin.site.urls),
    # allauth's password login/signup pages are replaced by ours (Kakao + dev login).
    path("accounts/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path(
        "accounts/signup/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)
    ),
    path("accounts/", include("allauth.urls")),
    path("", include("core.urls")),
    path("", include("accounts.urls")),
    path("", include("shop.urls")),
    path("", include("live.urls")),
    path("", include("orders.urls")),
    path("", include("points.urls")),
    path("", include("notifications.urls")),
]

handler403 = "dorami.errors.permission_denied"
handler404 = "dorami.errors.page_not_found"
handler500 = "dorami.errors.server_error"
handler429 = "dorami.errors.too_many_requests"  # read by allauth's limiter

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
