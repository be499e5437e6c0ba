from django.urls import path

from live import hls, webhooks

app_name = "live"

urlpatterns: list = [
    # Media server (SRS JSON callbacks / nginx-rtmp form notifications).
    path("api/v1/media/srs/<slug:event>", webhooks.srs_hook, name="media-srs"),
    path("api/v1/media/rtmp/<slug:event>", webhooks.rtmp_hook, name="media-rtmp"),
    # HLS from HLS_ROOT when no nginx serves it (404 when unset).
    path("hls/<str:filename>", hls.hls_file, name="hls"),
]
