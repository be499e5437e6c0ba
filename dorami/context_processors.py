from django.conf import settings


def site(request):
    return {
        "DEV_LOGIN_ENABLED": settings.DEV_LOGIN_ENABLED,
        "STORE_TIME_ZONE": settings.STORE_TIME_ZONE,
    }
