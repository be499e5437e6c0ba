"""The cached Content-Security-Policy header is exactly django-csp's, per-view policies and
nonces included."""

from csp.constants import HEADER, NONCE
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from dorami.csp_headers import CSPMiddleware


def _header(middleware_class, *, prepare=None, path="/store/"):
    middleware = middleware_class(lambda request: HttpResponse("ok"))
    request = RequestFactory().get(path)
    middleware.process_request(request)
    response = HttpResponse("ok")
    if prepare:
        prepare(request, response)
    return middleware.process_response(request, response).get(HEADER)


def test_the_plain_policy_is_django_csps_and_is_reused():
    expected = _header(DjangoCSPMiddleware)
    assert expected and "script-src 'self'" in expected
    assert _header(CSPMiddleware) == expected
    assert _header(CSPMiddleware) == expected


def test_a_per_view_update_goes_through_django_csp():
    def update(request, response):
        response._csp_update = {"img-src": ["https://cdn.example"]}

    header = _header(CSPMiddleware, prepare=update)
    assert header == _header(DjangoCSPMiddleware, prepare=update)
    assert "https://cdn.example" in header
    assert "https://cdn.example" not in _header(CSPMiddleware)


def test_a_used_nonce_is_in_the_header(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}
    nonces = []

    def use_nonce(request, response):
        nonces.append(str(request.csp_nonce))

    header = _header(CSPMiddleware, prepare=use_nonce)
    assert f"script-src 'self' 'nonce-{nonces[0]}'" in header.split("; ")
    assert "script-src 'self'" in _header(CSPMiddleware).split("; ")


def test_a_changed_setting_is_picked_up(settings):
    _header(CSPMiddleware)
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert _header(CSPMiddleware) == "default-src 'none'"


def test_an_exempt_response_gets_no_header():
    def exempt(request, response):
        response._csp_exempt = True

    assert _header(CSPMiddleware, prepare=exempt) is None
