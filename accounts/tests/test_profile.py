import pytest
from django.urls import reverse

from accounts.forms import normalize_phone
from accounts.models import User
from accounts.services import profile_complete
from core.models import get_config

pytestmark = pytest.mark.django_db

VALID = {
    "email": "new@example.com",
    "depositor_name": "김도라",
    "instagram_id": "dora.mi_22",
    "full_name": "Dora Kim",
    "address1": "123 Main St",
    "address2": "Apt 4",
    "city": "Los Angeles",
    "state": "CA",
    "zip": "90010-1234",
    "phone": "(213) 555-0100",
}


@pytest.fixture
def newbie_client(client, user_factory):
    user = user_factory(email="new@example.com")
    client.force_login(user)
    client.user = user
    return client


def test_registration_saves_everything_and_goes_back_to_next(newbie_client):
    response = newbie_client.post(
        reverse("accounts:profile-register") + "?next=/live/", {**VALID, "next": "/live/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/live/"
    user = User.objects.get(pk=newbie_client.user.pk)
    assert user.has_complete_profile
    assert user.instagram_id == "@dora.mi_22"
    assert user.phone == "+12135550100"
    assert user.depositor_name == "김도라"
    assert user.shipping_address == {
        "full_name": "Dora Kim",
        "address1": "123 Main St",
        "address2": "Apt 4",
        "city": "Los Angeles",
        "state": "CA",
        "zip": "90010-1234",
    }
    assert "Main St" not in user.shipping_address_encrypted
    assert user.address_key_version == 1


@pytest.mark.parametrize("next_url", ["https://evil.example/x", "//evil.example", "javascript:x"])
def test_unsafe_next_goes_home(newbie_client, next_url):
    response = newbie_client.post(reverse("accounts:profile-register"), {**VALID, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/"


INSTA_CHARS = "인스타그램 ID는 영문, 숫자, 마침표(.), 밑줄(_)만 사용할 수 있습니다."
BAD_FIELDS = [
    ("depositor_name", "", "입금자명을 입력해 주세요."),
    ("depositor_name", "가" * 101, "입금자명은 100자 이하로 입력해 주세요."),
    ("depositor_name", "   ", "입금자명을 입력해 주세요."),
    ("instagram_id", "dora mi", INSTA_CHARS),
    ("instagram_id", "@@dora", INSTA_CHARS),
    ("instagram_id", "", "인스타그램 ID를 입력해 주세요."),
    ("full_name", "", "받는 분 성함을 입력해 주세요."),
    ("address1", "", "주소를 입력해 주세요."),
    ("address1", "a" * 201, "주소는 200자 이하로 입력해 주세요."),
    ("city", "", "도시를 입력해 주세요."),
    ("state", "XX", "미국 주(2자리 코드)를 목록에서 선택해 주세요."),
    ("state", "", "주를 선택해 주세요."),
    ("zip", "9001", "ZIP 코드는 12345 또는 12345-6789 형식으로 입력해 주세요."),
    ("zip", "90010-12", "ZIP 코드는 12345 또는 12345-6789 형식으로 입력해 주세요."),
    ("zip", "abcde", "ZIP 코드는 12345 또는 12345-6789 형식으로 입력해 주세요."),
    ("phone", "12345", "전화번호 형식이 올바르지 않습니다."),
    ("email", "not-an-email", "올바른 이메일 주소를 입력해 주세요."),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value", "message"), BAD_FIELDS)
def test_each_invalid_field_gets_its_korean_error_and_nothing_is_saved(
    newbie_client, field, value, message
):
    response = newbie_client.post(reverse("accounts:profile-register"), {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert message in response.content.decode()
    user = User.objects.get(pk=newbie_client.user.pk)
    assert not user.has_complete_profile
    assert user.shipping_address_encrypted == ""
    assert user.instagram_id is None


def test_all_errors_are_shown_at_once(newbie_client):
    response = newbie_client.post(reverse("accounts:profile-register"), {"email": "x@example.com"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"depositor_name", "instagram_id", "full_name", "address1", "city", "state", "zip"} <= (
        set(errors)
    )
    assert "phone" not in errors and "address2" not in errors


def test_instagram_id_is_unique_case_insensitively(newbie_client, user_factory):
    user_factory(instagram_id="@Dora.Mi_22")
    response = newbie_client.post(reverse("accounts:profile-register"), VALID)
    assert response.status_code == 400
    assert response.context["form"].errors["instagram_id"] == ["이미 사용 중인 인스타그램 ID입니다"]


def test_email_taken_by_someone_else_is_refused(newbie_client, user_factory):
    user_factory(email="taken@example.com")
    response = newbie_client.post(
        reverse("accounts:profile-register"), {**VALID, "email": "Taken@example.com"}
    )
    assert response.context["form"].errors["email"] == ["이미 사용 중인 이메일입니다."]


def test_keeping_own_instagram_id_is_fine(shopper_client):
    user = shopper_client.user
    data = {**VALID, "email": user.email, "instagram_id": user.instagram_id.upper()}
    response = shopper_client.post(reverse("accounts:profile-edit"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:my-page")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("", ""),
        ("213-555-0100", "+12135550100"),
        ("+1 213 555 0100", "+12135550100"),
        ("1 (213) 555-0100", "+12135550100"),
        ("010-1234-5678", "+821012345678"),
        ("+82 10 1234 5678", "+821012345678"),
        ("+82 010-1234-5678", "+821012345678"),
    ],
)
def test_phone_normalization(raw, normalized):
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize("raw", ["12345", "+44 20 7946 0958", "0123456789", "+1 013 555 0100"])
def test_phone_rejects_other_numbers(raw):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_profile_complete_service_stores_only_ciphertext(user_factory):
    user = user_factory()
    data = {**VALID, "instagram_id": "@svc", "phone": ""}
    profile_complete(user=user, data=data)
    user.refresh_from_db()
    assert user.profile_completed_at is not None
    assert user.shipping_address["zip"] == "90010-1234"
    assert "90010" not in user.shipping_address_encrypted


def test_registration_page_prefills_email(newbie_client):
    response = newbie_client.get(reverse("accounts:profile-register"))
    assert response.status_code == 200
    assert 'value="new@example.com"' in response.content.decode()


def test_registration_requires_login(client):
    response = client.get(reverse("accounts:profile-register"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_my_page_shows_profile_and_links(shopper_client, django_assert_max_num_queries):
    get_config()  # made once per database (the footer reads it from the cache after that)
    # + the header cart badge, + the device record (one upsert, at most every 5 minutes)
    with django_assert_max_num_queries(6):
        response = shopper_client.get(reverse("accounts:my-page"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "3250 Wilshire Blvd" in body
    for path in ("/my/orders/", "/my/points/", "/my/waitlist/", "/cart/"):
        assert f'href="{path}"' in body
    assert shopper_client.user.instagram_id in body


def test_profile_edit_updates_address(shopper_client):
    user = shopper_client.user
    data = {**VALID, "email": user.email, "instagram_id": user.instagram_id, "zip": "10001"}
    response = shopper_client.post(reverse("accounts:profile-edit"), data, follow=True)
    assert "10001" in response.content.decode()
    user.refresh_from_db()
    assert user.shipping_address["zip"] == "10001"


def test_live_alert_toggle(shopper_client):
    user = shopper_client.user
    response = shopper_client.post(reverse("accounts:live-alert"), {"enabled": "1"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.live_alert_opt_in
    response = shopper_client.post(
        reverse("accounts:live-alert"), {"enabled": "0"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="live-alert"' in response.content.decode()
    assert "<html" not in response.content.decode()
    user.refresh_from_db()
    assert not user.live_alert_opt_in


def test_logout_needs_post(shopper_client):
    assert shopper_client.get(reverse("accounts:logout")).status_code == 405
    response = shopper_client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in shopper_client.session


def test_kakao_email_is_read_only(newbie_client):
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=newbie_client.user, provider="kakao", uid="99")
    page = newbie_client.get(reverse("accounts:profile-register")).content.decode()
    assert 'class="readonly-value"' in page
    assert 'name="email"' not in page
    response = newbie_client.post(
        reverse("accounts:profile-register"), {**VALID, "email": "other@example.com"}
    )
    assert response.status_code == 302
    user = User.objects.get(pk=newbie_client.user.pk)
    assert user.email == "new@example.com"
    assert user.has_complete_profile
