import pytest

from accounts.tests.fake_kakao import start_fake_kakao


@pytest.fixture
def fake_kakao(settings):
    """A local fake Kakao OAuth server; the Kakao endpoint settings point at it."""
    state, server = start_fake_kakao()
    settings.KAKAO_AUTH_BASE_URL = state.url
    settings.KAKAO_API_BASE_URL = state.url
    yield state
    server.shutdown()
    server.server_close()
