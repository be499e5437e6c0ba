from django.conf import settings
from django.utils import timezone

from dorami.storetime import store_localtime


def site(request):
    return {
        "DEV_LOGIN_ENABLED": settings.DEV_LOGIN_ENABLED,
        "STORE_TIME_ZONE": settings.STORE_TIME_ZONE,
        # "PST" / "PDT": the zone a person types times in (studio, admin forms)
        "STORE_ZONE_ABBR": store_localtime(timezone.now()).tzname(),
    }
