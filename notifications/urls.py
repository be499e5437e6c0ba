from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("my/notifications/", views.preferences, name="preferences"),
    path("notifications/push/key/", views.vapid_public_key, name="push-key"),
    path("notifications/push/subscribe/", views.push_subscribe, name="push-subscribe"),
    path("notifications/push/unsubscribe/", views.push_unsubscribe, name="push-unsubscribe"),
]
