"""One error format for every API answer: `{"error": {"code", "message", "fields"}}`.

`code` is stable (clients branch on it), `message` is Korean (what a person reads), `fields`
maps an input field to its messages (empty when the error is not about a field). Service
errors keep their own code and status (`core.errors.ServiceError`), and their extra data
(`available` of INSUFFICIENT_STOCK) rides along beside the three keys.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response

from accounts.permissions import MESSAGES as GATE_MESSAGES
from core.errors import ServiceError

VALIDATION_ERROR = "VALIDATION_ERROR"


class GateClosed(exceptions.APIException):
    """`accounts.permissions.can_buy_or_chat` said no: its code and message, as the pages."""

    def __init__(self, code: str):
        self.status_code = 401 if code == "LOGIN_REQUIRED" else 403
        self.gate_code = code
        super().__init__(detail=GATE_MESSAGES[code], code=code)


class InvalidInput(exceptions.APIException):
    """A form of the pages refused the input: its messages per field, in Korean."""

    status_code = 400

    def __init__(self, fields: dict[str, list[str]], message: str = ""):
        self.fields = fields
        first = next((msgs[0] for msgs in fields.values() if msgs), "")
        super().__init__(
            detail=message or first or _("입력값을 확인해 주세요."), code=VALIDATION_ERROR
        )


def body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}, **extra}}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as {"field" or "field.sub": [messages]}."""
    if isinstance(detail, dict):
        found: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                name = "__all__"
            found.update(_flatten(value, name))
        return found
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "__all__": [str(item) for item in detail]}
        found = {}
        for index, item in enumerate(detail):
            found.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return found
    return {prefix or "__all__": [str(detail)]}


MESSAGES = {
    "NOT_FOUND": "찾을 수 없습니다.",
    "METHOD_NOT_ALLOWED": "지원하지 않는 요청 방식입니다.",
    "NOT_ACCEPTABLE": "응답 형식은 application/json만 지원합니다.",
    "UNSUPPORTED_MEDIA_TYPE": "요청 본문은 application/json으로 보내 주세요.",
    "PARSE_ERROR": "요청 본문을 읽을 수 없습니다. JSON 형식을 확인해 주세요.",
    "TOKEN_INVALID": "토큰이 올바르지 않거나 만료되었습니다. 다시 로그인해 주세요.",
    "LOGIN_REQUIRED": GATE_MESSAGES["LOGIN_REQUIRED"],
    "PERMISSION_DENIED": "권한이 없습니다.",
    "CSRF_FAILED": "보안 확인에 실패했습니다. 페이지를 새로고침한 뒤 다시 시도해 주세요.",
    "RATE_LIMITED": "요청이 너무 많습니다. {n}초 후에 다시 시도해 주세요.",
}


def _known(exc) -> tuple[int, str, str, dict]:
    """(status, code, message, fields) of a DRF or Django exception."""
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return 404, "NOT_FOUND", _(MESSAGES["NOT_FOUND"]), {}
    if isinstance(exc, DjangoPermissionDenied):
        return 403, "PERMISSION_DENIED", _(MESSAGES["PERMISSION_DENIED"]), {}
    if isinstance(exc, InvalidInput):
        return 400, VALIDATION_ERROR, str(exc.detail), exc.fields
    if isinstance(exc, GateClosed):
        return exc.status_code, exc.gate_code, str(exc.detail), {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next((msgs[0] for msgs in fields.values() if msgs), "")
        return 400, VALIDATION_ERROR, first or _("입력값을 확인해 주세요."), fields
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return 429, "RATE_LIMITED", _(MESSAGES["RATE_LIMITED"]).format(n=wait), {}
    if isinstance(exc, exceptions.AuthenticationFailed):
        return 401, "TOKEN_INVALID", _(MESSAGES["TOKEN_INVALID"]), {}
    if isinstance(exc, exceptions.NotAuthenticated):
        return 401, "LOGIN_REQUIRED", _(MESSAGES["LOGIN_REQUIRED"]), {}
    if isinstance(exc, exceptions.PermissionDenied):
        code = "CSRF_FAILED" if "CSRF" in str(exc.detail) else "PERMISSION_DENIED"
        return 403, code, _(MESSAGES[code]), {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return 405, "METHOD_NOT_ALLOWED", _(MESSAGES["METHOD_NOT_ALLOWED"]), {}
    if isinstance(exc, exceptions.NotAcceptable):
        return 406, "NOT_ACCEPTABLE", _(MESSAGES["NOT_ACCEPTABLE"]), {}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return 415, "UNSUPPORTED_MEDIA_TYPE", _(MESSAGES["UNSUPPORTED_MEDIA_TYPE"]), {}
    if isinstance(exc, exceptions.ParseError):
        return 400, "PARSE_ERROR", _(MESSAGES["PARSE_ERROR"]), {}
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes.upper() if isinstance(codes, str) else "ERROR"
        return exc.status_code, code, str(exc.detail), {}
    raise LookupError


def exception_handler(exc, context) -> Response | None:
    """The API views' exception handler (see `api.views.base.ApiView`). Anything not listed
    is re-raised: Django answers 500 and the error is logged (and reported)."""
    if isinstance(exc, ServiceError):
        data = exc.as_dict()
        code, message = data.pop("code"), data.pop("message")
        field = getattr(exc, "field", None)
        fields = {field: [message]} if isinstance(field, str) and field else {}
        return Response(body(code, message, fields, **data), status=exc.status)
    try:
        status, code, message, fields = _known(exc)
    except LookupError:
        return None
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        response = Response(body(code, message, fields, retry_after=wait), status=status)
        response["Retry-After"] = str(wait)
        return response
    response = Response(body(code, message, fields), status=status)
    auth_header = getattr(exc, "auth_header", None)
    if status == 401 and auth_header:
        response["WWW-Authenticate"] = auth_header
    return response
