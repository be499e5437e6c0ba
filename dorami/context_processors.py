from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from dorami.storetime import store_localtime
from shop.selectors import cart_count


def site(request):
    user = getattr(request, "user", None)
    return {
        "DEV_LOGIN_ENABLED": settings.DEV_LOGIN_ENABLED,
        "STORE_TIME_ZONE": settings.STORE_TIME_ZONE,
        # "PST" / "PDT": the zone a person types times in (studio, admin forms)
        "STORE_ZONE_ABBR": store_localtime(timezone.now()).tzname(),
        # The header's cart badge: one count query, run only by a page that shows it.
        "cart_count": SimpleLazyObject(lambda: cart_count(user=user)),
    }
