from django.urls import path

from live import hls, studio, views, webhooks

app_name = "live"

urlpatterns: list = [
    # The home page: what is on air, what comes next, featured products.
    path("", views.home, name="home"),
    # Shopper live room.
    path("live/", views.live_index, name="index"),
    # `<public_id>` is the stream's public identifier, never its publish key.
    path("live/<str:public_id>/", views.watch, name="watch"),
    path("live/<str:public_id>/viewers/", views.viewer_badge, name="viewer-badge"),
    path("live/<str:public_id>/state/", views.room_state, name="room-state"),
    # Media server (SRS JSON callbacks / nginx-rtmp form notifications).
    path("api/v1/media/srs/<slug:event>", webhooks.srs_hook, name="media-srs"),
    path("api/v1/media/rtmp/<slug:event>", webhooks.rtmp_hook, name="media-rtmp"),
    # HLS from HLS_ROOT when no nginx serves it (404 when unset).
    path("hls/<str:filename>", hls.hls_file, name="hls"),
    # Seller studio (staff only).
    path("studio/", studio.studio_home, name="studio"),
    path("studio/streams/new", studio.studio_stream_create, name="studio-stream-create"),
    path("studio/<int:stream_id>/", studio.studio_stream, name="studio-stream"),
    path("studio/<int:stream_id>/key", studio.studio_key_refresh, name="studio-key-refresh"),
    path("studio/<int:stream_id>/end", studio.studio_stream_end, name="studio-stream-end"),
    path("studio/<int:stream_id>/feature", studio.studio_feature, name="studio-feature"),
    path("studio/<int:stream_id>/notice", studio.studio_notice, name="studio-notice"),
    path(
        "studio/<int:stream_id>/products/<int:product_id>/sold-out",
        studio.studio_sold_out,
        name="studio-sold-out",
    ),
    path(
        "studio/<int:stream_id>/variants/<int:variant_id>/stock",
        studio.studio_stock,
        name="studio-stock",
    ),
    path("studio/restream/new", studio.studio_target_create, name="studio-target-create"),
    path(
        "studio/restream/<int:target_id>/edit",
        studio.studio_target_update,
        name="studio-target-update",
    ),
    path(
        "studio/restream/<int:target_id>/toggle",
        studio.studio_target_toggle,
        name="studio-target-toggle",
    ),
    path(
        "studio/restream/<int:target_id>/delete",
        studio.studio_target_delete,
        name="studio-target-delete",
    ),
]
