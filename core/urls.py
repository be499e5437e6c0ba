from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("terms/", views.terms, name="terms"),
    path("privacy/", views.privacy, name="privacy"),
    path("contact/", views.contact, name="contact"),
    path("notices/dismiss/", views.notice_dismiss, name="notice-dismiss"),
]
