import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from accounts.permissions import can_buy_or_chat, profile_required

pytestmark = pytest.mark.django_db


@profile_required
def buy_view(request):
    return HttpResponse("ok")


@profile_required
async def chat_view(request):
    return HttpResponse("ok")


def _request(user, path="/products/1/buy/", **headers):
    request = RequestFactory().post(path, headers=headers)
    request.user = user
    request.htmx = HtmxDetails(request)

    async def auser():
        return user

    request.auser = auser
    return request


def test_can_buy_or_chat_codes(user_factory):
    assert can_buy_or_chat(AnonymousUser()) == "LOGIN_REQUIRED"
    assert can_buy_or_chat(None) == "LOGIN_REQUIRED"
    assert can_buy_or_chat(user_factory()) == "PROFILE_INCOMPLETE"
    suspended = user_factory(profile_complete=True, status=User.Status.SUSPENDED)
    assert can_buy_or_chat(suspended) == "ACCOUNT_SUSPENDED"
    assert can_buy_or_chat(user_factory(profile_complete=True)) is None


def test_gate_redirects_anonymous_to_login_with_next():
    response = buy_view(_request(AnonymousUser()))
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fproducts%2F1%2Fbuy%2F"


def test_gate_redirects_incomplete_profile_to_registration(user_factory):
    response = buy_view(_request(user_factory()))
    assert response["Location"] == "/profile/register/?next=%2Fproducts%2F1%2Fbuy%2F"


def test_gate_htmx_uses_hx_redirect_back_to_the_page(user_factory):
    request = _request(
        user_factory(),
        **{"HX-Request": "true", "HX-Current-URL": "http://testserver/live/7/?tab=chat"},
    )
    response = buy_view(request)
    assert response["HX-Redirect"] == "/profile/register/?next=%2Flive%2F7%2F%3Ftab%3Dchat"


def test_gate_htmx_ignores_foreign_current_url(user_factory):
    request = _request(
        user_factory(), **{"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    response = buy_view(request)
    assert response["HX-Redirect"] == "/profile/register/?next=%2Fproducts%2F1%2Fbuy%2F"


def test_gate_json(user_factory):
    response = buy_view(_request(AnonymousUser(), Accept="application/json"))
    assert response.status_code == 401
    assert json.loads(response.content)["error"]["code"] == "LOGIN_REQUIRED"
    response = buy_view(_request(user_factory(), Accept="application/json"))
    assert response.status_code == 403
    body = json.loads(response.content)["error"]
    assert body["code"] == "PROFILE_INCOMPLETE"
    assert "프로필" in body["message"]


def test_gate_lets_complete_profiles_through(shopper):
    assert buy_view(_request(shopper)).content == b"ok"


async def test_gate_works_on_async_views(shopper):
    assert (await chat_view(_request(shopper))).content == b"ok"
    response = await chat_view(_request(AnonymousUser(), Accept="application/json"))
    assert response.status_code == 401


# --- dev login ------------------------------------------------------------------------------


def test_dev_login_creates_user_and_asks_for_profile(client, settings):
    settings.DEV_LOGIN_ENABLED = True
    response = client.post(
        reverse("accounts:dev-login"), {"email": "Dev@Example.com ", "next": "/live/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/profile/register/?next=%2Flive%2F"
    user = User.objects.get(email="dev@example.com")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert not user.is_staff


def test_dev_login_existing_complete_user_goes_to_next(client, settings, shopper):
    settings.DEV_LOGIN_ENABLED = True
    response = client.post(reverse("accounts:dev-login"), {"email": shopper.email, "next": "/x/"})
    assert response["Location"] == "/x/"


def test_dev_login_admin_email_becomes_staff(client, settings):
    settings.DEV_LOGIN_ENABLED = True
    settings.ADMIN_EMAILS = ["boss@example.com"]
    client.post(reverse("accounts:dev-login"), {"email": "BOSS@example.com"})
    user = User.objects.get(email="boss@example.com")
    assert user.is_staff and user.is_superuser


def test_dev_login_bad_email_shows_error(client, settings):
    settings.DEV_LOGIN_ENABLED = True
    response = client.post(reverse("accounts:dev-login"), {"email": "nope"})
    assert response.status_code == 400
    assert "올바른 이메일 주소를 입력해 주세요." in response.content.decode()
    assert not User.objects.exists()


def test_dev_login_disabled_is_a_friendly_404(client, settings):
    settings.DEV_LOGIN_ENABLED = False
    response = client.post(reverse("accounts:dev-login"), {"email": "dev@example.com"})
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in response.content.decode()
    assert not User.objects.exists()
    assert client.get(reverse("accounts:dev-login")).status_code == 404
    login_page = client.get(reverse("accounts:login")).content.decode()
    assert 'name="email"' not in login_page
    assert "카카오로 시작하기" in login_page


def test_dev_login_suspended_user_refused(client, settings, user_factory):
    settings.DEV_LOGIN_ENABLED = True
    user = user_factory(status=User.Status.SUSPENDED)
    response = client.post(reverse("accounts:dev-login"), {"email": user.email})
    # the login page itself says why
    assert response.status_code == 403
    assert "이용이 정지된 계정입니다" in response.content.decode()
    assert 'data-testid="kakao-login"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_dev_login_unsafe_next(client, settings, shopper):
    settings.DEV_LOGIN_ENABLED = True
    response = client.post(
        reverse("accounts:dev-login"), {"email": shopper.email, "next": "https://evil.example"}
    )
    assert response["Location"] == "/"


# --- login page -----------------------------------------------------------------------------


def test_login_page_posts_to_kakao_and_keeps_next(client, settings):
    settings.DEV_LOGIN_ENABLED = True
    body = client.get(reverse("accounts:login"), {"next": "/live/3/"}).content.decode()
    assert 'action="/accounts/kakao/login/?next=%2Flive%2F3%2F"' in body
    assert 'method="post"' in body
    assert 'name="next" value="/live/3/"' in body
    assert 'name="email"' in body
    assert "외부 브라우저에서 열기" not in body


def test_login_page_drops_unsafe_next(client):
    body = client.get(reverse("accounts:login"), {"next": "https://evil.example/"}).content.decode()
    assert "evil.example" not in body


def test_logged_in_user_on_login_page_is_sent_on(shopper_client):
    response = shopper_client.get(reverse("accounts:login"), {"next": "/live/"})
    assert response["Location"] == "/live/"


KAKAO_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 KAKAOTALK 10.4.5"
)
KAKAO_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.5"
)
INSTAGRAM_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 Instagram 312.0.0.32.112 Android"
)
INSTAGRAM_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 312.0.0.32.112 (iPhone15,2; iOS 17_1)"
)


def test_kakaotalk_in_app_browser_gets_open_external_link(client):
    for ua in (KAKAO_ANDROID, KAKAO_IOS):
        body = client.get("/login/?next=/live/", headers={"User-Agent": ua}).content.decode()
        assert "외부 브라우저에서 열기" in body
        assert (
            'href="kakaotalk://web/openExternal?url=http%3A%2F%2Ftestserver%2Flogin%2F'
            "%3Fnext%3D%252Flive%252F" in body
        )


def test_instagram_android_gets_chrome_intent(client):
    body = client.get("/login/", headers={"User-Agent": INSTAGRAM_ANDROID}).content.decode()
    assert "외부 브라우저에서 열기" in body
    assert (
        'href="intent://testserver/login/?next=%2F#Intent;scheme=http;package=com.android.chrome;end"'
        in body
    )


def test_instagram_ios_gets_instructions_and_copy_button(client):
    body = client.get("/login/", headers={"User-Agent": INSTAGRAM_IOS}).content.decode()
    assert "외부 브라우저에서 열기" in body
    assert 'data-copy="http://testserver/login/?next=%2F"' in body
    assert "intent://" not in body and "kakaotalk://" not in body


def test_regular_browser_gets_no_in_app_step(client):
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Version/17.1 Mobile Safari/604.1"
    body = client.get("/login/", headers={"User-Agent": ua}).content.decode()
    assert "외부 브라우저에서 열기" not in body
