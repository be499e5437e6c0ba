from django.conf import settings
from django.utils.functional import SimpleLazyObject

from shop.selectors import cart_count


def site(request):
    user = getattr(request, "user", None)
    return {
        "DEV_LOGIN_ENABLED": settings.DEV_LOGIN_ENABLED,
        "STORE_TIME_ZONE": settings.STORE_TIME_ZONE,
        # The header's cart badge: one count query, run only by a page that shows it.
        "cart_count": SimpleLazyObject(lambda: cart_count(user=user)),
    }
