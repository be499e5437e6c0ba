from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_page, name="login"),
    path("login/dev/", views.dev_login, name="dev-login"),
    path("logout/", views.logout_view, name="logout"),
    path("profile/register/", views.profile_register, name="profile-register"),
    path("my/", views.my_page, name="my-page"),
    path("my/profile/", views.profile_edit, name="profile-edit"),
    path("my/live-alert/", views.live_alert_toggle, name="live-alert"),
    path("my/sessions/", views.sessions_page, name="sessions"),
    path("my/sessions/<int:session_id>/end/", views.session_end, name="session-end"),
    path("my/delete/", views.account_delete, name="delete"),
    path("my/sessions/end-others/", views.sessions_end_others, name="sessions-end-others"),
]
