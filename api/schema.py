"""The OpenAPI schema's shared parts: the error body and the answers every operation may give.

Added by a postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"], drf-spectacular's
documented extension point), so operations declared with `@extend_schema(responses=…)` get
them too."""

from __future__ import annotations

ALWAYS = {
    "400": "잘못된 입력",
    "401": "로그인 필요 / 토큰 오류",
    "403": "권한 없음 / 프로필 미완성 / 이용 정지",
    "404": "없음",
    "429": "요청 제한 (Retry-After 헤더)",
}
WRITES = {"409": "상태 충돌 (재고 부족 등)", "503": "결과 확인 불가 (잠시 후 확인)"}
READS = {"get", "head", "options"}

COMPONENTS = {
    "ErrorDetail": {
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "description": "안정적인 오류 코드 (예: INSUFFICIENT_STOCK)",
            },
            "message": {"type": "string", "description": "사람이 읽는 한국어 메시지"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "입력 항목별 메시지 (항목과 무관한 오류는 빈 객체)",
            },
        },
        "required": ["code", "message", "fields"],
    },
    "Error": {
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
        "required": ["error"],
    },
}


def error_responses(result, generator, request, public):
    """Every operation documents the error answers it may give, all in the one error body."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            errors = ALWAYS if method in READS else {**ALWAYS, **WRITES}
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(status, {"description": description, "content": body})
    return result
