"""Health endpoints: liveness (process up) and readiness (database and Redis reachable)."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def live(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # reported, never raised
        return f"{type(exc).__name__}"
    return None


def _check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        client.close()
    except Exception as exc:
        return f"{type(exc).__name__}"
    return None


@never_cache
def ready(request):
    checks = {"database": _check_database(), "redis": _check_redis()}
    failed = {name: error for name, error in checks.items() if error}
    body = {
        "status": "fail" if failed else "ok",
        "failed": sorted(failed),  # e.g. ["redis"]: what a load balancer's log should name
        "checks": {
            name: (
                "fail: " + error
                if error
                else ("skipped" if name == "redis" and not settings.REDIS_URL else "ok")
            )
            for name, error in checks.items()
        },
    }
    return JsonResponse(body, status=503 if failed else 200)
