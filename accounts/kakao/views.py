from allauth.socialaccount.providers.kakao.views import (
    KakaoOAuth2Adapter as BaseKakaoOAuth2Adapter,
)
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings


class KakaoOAuth2Adapter(BaseKakaoOAuth2Adapter):
    """allauth's Kakao adapter, but every endpoint is read from settings at request time."""

    @property
    def authorize_url(self) -> str:
        return settings.KAKAO_AUTH_BASE_URL.rstrip("/") + "/oauth/authorize"

    @property
    def access_token_url(self) -> str:
        return settings.KAKAO_AUTH_BASE_URL.rstrip("/") + "/oauth/token"

    @property
    def profile_url(self) -> str:
        return settings.KAKAO_API_BASE_URL.rstrip("/") + "/v2/user/me"


oauth2_login = OAuth2LoginView.adapter_view(KakaoOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(KakaoOAuth2Adapter)
