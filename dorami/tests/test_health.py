import pytest
from django.test import override_settings


def test_live_is_always_ok(client):
    response = client.get("/api/v1/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_checks_database_and_redis(client, settings):
    response = client.get("/api/v1/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_ready_reports_which_dependency_failed(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/api/v1/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("fail")


@pytest.mark.django_db
def test_home_is_korean(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "예정된 라이브가 없습니다" in response.content.decode()


@pytest.mark.django_db
def test_unknown_page_is_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in response.content.decode()
