from django.urls import path

from points import views

app_name = "points"

urlpatterns = [
    path("my/points/", views.my_points, name="my-points"),
]
