"""Kakao login through allauth's Kakao provider, with endpoints taken from settings.

`SOCIALACCOUNT_PROVIDERS["kakao"]["provider_class"]` points allauth at `KakaoProvider` below, so
the authorize, token and profile URLs come from `KAKAO_AUTH_BASE_URL` / `KAKAO_API_BASE_URL`
(tests point them at a local fake server).
"""
