"""The OpenAPI schema covers every endpoint, and its documentation page loads nothing remote."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Under /api/v1/ but not the public JSON API: the health probes (docs/operations.md) and the
# media server's webhooks (shared secret, docs/live-video.md).
NOT_THE_API = ("api/v1/health/", "api/v1/media/")


def api_operations() -> set[tuple[str, str]]:
    """(path as OpenAPI writes it, method) of every view under /api/v1/, from the URLconf."""
    found = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif (
                isinstance(pattern, URLPattern)
                and route.startswith("api/v1/")
                and not route.startswith(NOT_THE_API)
            ):
                view = getattr(pattern.callback, "view_class", None)
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
                for method in METHODS:
                    if view is not None and hasattr(view, method):
                        found.add((path, method))
                    elif view is None:
                        found.add((path, "?"))

    walk(get_resolver().url_patterns, "")
    return found


def schema_operations(schema: dict) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }


def missing_from(schema: dict) -> list:
    return sorted(api_operations() - schema_operations(schema))


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_api_endpoint_is_in_the_schema(schema):
    assert len(api_operations()) > 30
    assert missing_from(schema) == []
    assert sorted(schema_operations(schema) - api_operations()) == []


def test_the_check_fails_when_an_endpoint_is_missing(schema):
    trimmed = {**schema, "paths": dict(schema["paths"])}
    trimmed["paths"].pop("/api/v1/checkout/")
    assert missing_from(trimmed) == [("/api/v1/checkout/", "post")]


def test_the_schema_is_valid_and_every_error_has_the_one_format(schema):
    validate_schema(schema)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status in ("400", "401", "403", "404", "429"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method)
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "fields"}


def test_the_schema_and_docs_are_served_without_a_cdn(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/checkout/" in response.content.decode()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    remote = re.findall(r"""(?:src|href)=["'](https?:)?//""", html)
    assert remote == []
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html):
        assert client.get(asset).status_code == 200, asset
