from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import profile_required
from points.selectors import user_points_summary


@require_GET
@profile_required
def my_points(request):
    return render(request, "points/my_points.html", user_points_summary(user=request.user))
