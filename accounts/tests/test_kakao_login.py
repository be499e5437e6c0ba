from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _start(client, fake_kakao, next_url="/live/"):
    response = client.post(reverse("kakao_login"), {"next": next_url, "process": "login"})
    assert response.status_code == 302
    authorize_url = response["Location"]
    assert authorize_url.startswith(fake_kakao.url + "/oauth/authorize?")
    return authorize_url


def _callback(client, fake_kakao, authorize_url):
    back = urlsplit(fake_kakao.authorize(authorize_url))
    assert back.path == reverse("kakao_callback")
    return client.get(f"{back.path}?{back.query}")


def test_kakao_login_end_to_end_creates_user_and_session(client, fake_kakao):
    # given a shopper who opens the login flow from a live page
    authorize_url = _start(client, fake_kakao)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["client_id"] == ["dorami-dev-kakao"]
    assert query["redirect_uri"] == ["http://testserver/accounts/kakao/login/callback/"]

    # when Kakao sends them back with a code
    response = _callback(client, fake_kakao, authorize_url)

    # then the user exists, is logged in, and is asked for a profile before going back
    user = User.objects.get(email="kakao.shopper@example.com")
    assert SocialAccount.objects.get(user=user, provider="kakao").uid == "4242"
    assert user.name == "카카오쇼퍼"
    assert not user.is_staff
    assert response.status_code == 302
    assert response["Location"] == "/profile/register/?next=%2Flive%2F"
    assert fake_kakao.token_requests[0]["grant_type"] == "authorization_code"
    assert client.get("/my/").status_code == 200
    assert client.get(response["Location"]).status_code == 200


def test_returning_kakao_user_with_profile_goes_straight_to_next(client, fake_kakao, shopper):
    fake_kakao.email = shopper.email
    response = _callback(client, fake_kakao, _start(client, fake_kakao, next_url="/store/"))
    assert response.status_code == 302
    assert response["Location"] == "/store/"
    assert int(client.session["_auth_user_id"]) == shopper.pk


def test_admin_email_becomes_staff_on_first_kakao_login(client, fake_kakao, settings):
    settings.ADMIN_EMAILS = ["boss@example.com"]
    fake_kakao.email = "Boss@Example.com"
    _callback(client, fake_kakao, _start(client, fake_kakao))
    user = User.objects.get(email="boss@example.com")
    assert user.is_staff and user.is_superuser


def test_unsafe_next_is_dropped(client, fake_kakao, shopper):
    fake_kakao.email = shopper.email
    response = _callback(client, fake_kakao, _start(client, fake_kakao, "https://evil.example/"))
    assert response["Location"] == "/"


def test_forged_state_shows_friendly_error_and_creates_nobody(client, fake_kakao):
    _start(client, fake_kakao)
    response = client.get(reverse("kakao_callback"), {"code": "abc", "state": "forged-state"})
    assert response.status_code == 401  # allauth's status, our friendly Korean page
    assert "카카오 로그인에 실패했어요" in response.content.decode()
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session
    assert fake_kakao.token_requests == []


def test_callback_without_any_started_login_is_friendly(client, fake_kakao):
    response = client.get(reverse("kakao_callback"), {"code": "abc", "state": "x"})
    assert response.status_code == 401  # allauth's status, our friendly Korean page
    assert "카카오 로그인에 실패했어요" in response.content.decode()


def test_state_is_single_use(client, fake_kakao):
    authorize_url = _start(client, fake_kakao)
    back = urlsplit(fake_kakao.authorize(authorize_url))
    client.get(f"{back.path}?{back.query}")
    client.post(reverse("accounts:logout"))
    replay = client.get(f"{back.path}?{back.query}")
    assert "카카오 로그인에 실패했어요" in replay.content.decode()
    assert "_auth_user_id" not in client.session


def test_provider_error_and_token_failure_are_friendly(client, fake_kakao):
    authorize_url = _start(client, fake_kakao)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    response = client.get(reverse("kakao_callback"), {"error": "server_error", "state": state})
    assert response.status_code == 401  # allauth's status, our friendly Korean page
    assert "카카오 로그인에 실패했어요" in response.content.decode()

    fake_kakao.fail_token = True
    response = _callback(client, fake_kakao, _start(client, fake_kakao))
    assert response.status_code == 401  # allauth's status, our friendly Korean page
    assert "카카오 로그인에 실패했어요" in response.content.decode()
    assert not User.objects.exists()


def test_cancel_at_kakao_shows_korean_page(client, fake_kakao):
    authorize_url = _start(client, fake_kakao)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    response = client.get(
        reverse("kakao_callback"), {"error": "access_denied", "state": state}, follow=True
    )
    assert response.status_code == 200
    assert "로그인을 취소했어요" in response.content.decode()


def test_suspended_user_cannot_log_in_with_kakao(client, fake_kakao, user_factory):
    user = user_factory(email="kakao.shopper@example.com", status=User.Status.SUSPENDED)
    response = _callback(client, fake_kakao, _start(client, fake_kakao))
    # the login page says why
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?suspended=1"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "이용이 정지된 계정입니다" in page.content.decode()
    assert 'data-testid="kakao-login"' in page.content.decode()
    assert user.pk


def test_kakao_account_without_email_asks_for_one(client, fake_kakao):
    fake_kakao.email = None
    response = _callback(client, fake_kakao, _start(client, fake_kakao))
    assert response.status_code == 302
    signup = client.get(response["Location"])
    assert signup.status_code == 200
    assert "이메일을 알려주세요" in signup.content.decode()
    response = client.post(response["Location"], {"email": "NoMail@Example.com"})
    assert response.status_code == 302
    assert response["Location"].startswith("/profile/register/")
    user = User.objects.get(email="nomail@example.com")
    assert SocialAccount.objects.get(user=user).uid == "4242"


def test_allauth_password_pages_lead_to_our_login(client):
    response = client.get("/accounts/login/?next=/live/")
    assert response.status_code in (301, 302)
    assert response["Location"] == "/login/?next=/live/"
    assert client.get("/accounts/signup/")["Location"] == "/login/"


def test_expired_state_is_refused(client, fake_kakao):
    from allauth.socialaccount.internal import statekit

    authorize_url = _start(client, fake_kakao)
    # the shopper comes back after the state's lifetime (allauth keeps it 10 minutes)
    session = client.session
    states = session[statekit.STATES_SESSION_KEY]
    for state_id, (data, created, provider) in list(states.items()):
        states[state_id] = (data, created - statekit.STATE_TTL - 1, provider)
    session[statekit.STATES_SESSION_KEY] = states
    session.save()

    response = _callback(client, fake_kakao, authorize_url)
    assert response.status_code == 401
    assert "카카오 로그인에 실패했어요" in response.content.decode()
    assert not User.objects.exists()
