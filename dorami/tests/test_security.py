import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "ab" * 32


def _import_settings(**env) -> subprocess.CompletedProcess:
    """Import dorami.settings in a fresh interpreter with only the given variables."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env}
    # An explicit empty value wins over any local .env file (read with overwrite=False).
    for name in (
        "SECRET_KEY",
        "PROFILE_ENCRYPTION_KEY",
        "PROFILE_ENCRYPTION_KEYS",
        "MEDIA_WEBHOOK_SECRET",
        "SITE_URL",
    ):
        clean.setdefault(name, "")
    clean.setdefault("ALLOWED_HOSTS", "")
    code = (
        "import json, dorami.settings as s; print(json.dumps({k: getattr(s, k) for k in "
        "('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'SESSION_COOKIE_AGE', 'DEV_LOGIN_ENABLED')}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_off_without_secret_key_refuses_to_start_and_names_it():
    result = _import_settings(
        DEBUG="0", PROFILE_ENCRYPTION_KEY=GOOD_KEY, ALLOWED_HOSTS="shop.example.com"
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "PROFILE_ENCRYPTION_KEY" not in result.stderr.split("ImproperlyConfigured")[-1]


def test_debug_off_without_encryption_key_or_hosts_names_them():
    result = _import_settings(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    message = result.stderr.split("ImproperlyConfigured")[-1]
    assert "PROFILE_ENCRYPTION_KEY" in message
    assert "ALLOWED_HOSTS" in message
    assert "SECRET_KEY" not in message


@pytest.mark.parametrize("secret", ["", "dorami-dev-webhook-secret"], ids=["unset", "default"])
def test_debug_off_with_the_default_media_webhook_secret_refuses_to_start(secret):
    result = _import_settings(
        DEBUG="0",
        SECRET_KEY="x" * 50,
        PROFILE_ENCRYPTION_KEY=GOOD_KEY,
        ALLOWED_HOSTS="shop.example.com",
        MEDIA_WEBHOOK_SECRET=secret,
    )
    assert result.returncode != 0
    message = result.stderr.split("ImproperlyConfigured")[-1]
    assert "MEDIA_WEBHOOK_SECRET" in message
    assert "SECRET_KEY" not in message and "ALLOWED_HOSTS" not in message


def test_debug_off_with_everything_set_uses_secure_cookies_and_no_dev_login():
    result = _import_settings(
        DEBUG="0",
        SECRET_KEY="x" * 50,
        PROFILE_ENCRYPTION_KEY=GOOD_KEY,
        ALLOWED_HOSTS="shop.example.com",
        MEDIA_WEBHOOK_SECRET="w" * 32,
        SITE_URL="https://shop.example.com",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_AGE": 30 * 24 * 3600,
        "DEV_LOGIN_ENABLED": False,
    }


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "PROFILE_ENCRYPTION_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "shop.example.com",
    "MEDIA_WEBHOOK_SECRET": "w" * 32,
}


def test_debug_off_without_site_url_refuses_to_start_and_names_it():
    result = _import_settings(**PRODUCTION)
    assert result.returncode != 0
    message = result.stderr.split("ImproperlyConfigured")[-1]
    assert "SITE_URL" in message
    assert "SECRET_KEY" not in message


@pytest.mark.parametrize("url", ["shop.example.com", "https://shop.example.com/path", "ftp://x"])
def test_a_site_url_with_a_path_or_no_scheme_is_refused(url):
    result = _import_settings(**{**PRODUCTION, "SITE_URL": url})
    assert result.returncode != 0
    assert "SITE_URL must be a scheme and host" in result.stderr


def test_debug_on_allows_plain_http_cookies_and_dev_login():
    result = _import_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["DEV_LOGIN_ENABLED"] is True


@pytest.mark.django_db
def test_csrf_is_enforced_on_posts(shopper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    assert client.post(reverse("accounts:logout")).status_code == 403
    assert client.post(reverse("accounts:live-alert"), {"enabled": "1"}).status_code == 403
    shopper.refresh_from_db()
    assert not shopper.live_alert_opt_in
    assert "_auth_user_id" in client.session

    # with the token from a page it goes through
    client.get(reverse("accounts:my-page"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("accounts:logout"), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_csrf_failure_is_the_sites_korean_403_page(shopper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    # a page post without the token (an old tab, cookies blocked)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="card error-page"' in html  # the site's layout, not Django's English page
    assert "보안 확인에 실패했습니다" in html and "새로고침" in html
    assert "CSRF verification failed" not in html
    # a JSON caller gets a stable code
    response = client.post(reverse("accounts:logout"), HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "CSRF_FAILED"


@pytest.mark.django_db
def test_security_headers_and_csp(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_login_page_has_no_inline_script(client):
    body = client.get(reverse("accounts:login")).content.decode()
    assert "<script>" not in body
    assert " onclick=" not in body
