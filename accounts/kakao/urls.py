from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from accounts.kakao.provider import KakaoProvider

urlpatterns = default_urlpatterns(KakaoProvider)
