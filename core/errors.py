"""The one base of every service error, and the one way a door answers with it.

A service that refuses raises a subclass of `ServiceError`: a stable `code` (JSON bodies, logs,
tests), a Korean `message` (what a person reads) and the HTTP `status` a view answers with.
Each app keeps its own family (`ShopError`, `OrderError`, `PointsError`, `LiveError`,
`AccountError`), all subclasses of this one, so a view or an admin action that calls services of
several apps catches `ServiceError` once.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


class ServiceError(Exception):
    code: str = "SERVICE_ERROR"
    default_message: Any = "요청을 처리할 수 없습니다."  # text, or a lazy translation
    status: int = 400

    def __init__(self, message: Any = None, **params: Any) -> None:
        self.params = params
        if message:
            self.message = str(message)
        else:
            template = str(self.default_message)
            self.message = template.format(**params) if params else template
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        """The JSON error object: `{"code": ..., "message": ...}`."""
        return {"code": self.code, "message": str(self.message)}


def service_error_json(error: ServiceError) -> JsonResponse:
    """`{"error": {"code", "message", ...}}` with the error's HTTP status."""
    return JsonResponse({"error": error.as_dict()}, status=error.status)
