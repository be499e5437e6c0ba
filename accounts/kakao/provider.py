from allauth.socialaccount.providers.kakao.provider import KakaoProvider as BaseKakaoProvider

from accounts.kakao.views import KakaoOAuth2Adapter


class KakaoProvider(BaseKakaoProvider):
    package = "accounts.kakao"
    oauth2_adapter_class = KakaoOAuth2Adapter


provider_classes = [KakaoProvider]
