"""The OpenAPI schema's shared parts: the error body and the answers every operation may give."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="안정적인 오류 코드 (예: INSUFFICIENT_STOCK)")
    message = serializers.CharField(help_text="사람이 읽는 한국어 메시지")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="입력 항목별 메시지 (항목과 무관한 오류는 빈 객체)",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR = OpenApiResponse(ErrorSerializer, description="오류")
ALWAYS = {
    "400": "잘못된 입력",
    "401": "로그인 필요 / 토큰 오류",
    "403": "권한 없음 / 프로필 미완성 / 이용 정지",
    "404": "없음",
    "429": "요청 제한 (Retry-After 헤더)",
}
WRITES = {"409": "상태 충돌 (재고 부족 등)", "503": "결과 확인 불가 (잠시 후 확인)"}


class AutoSchema(BaseAutoSchema):
    """Every operation documents the error answers it may give, all in the one error body."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ALWAYS)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            errors.update(WRITES)
        for status, description in errors.items():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), status
                )
        return responses
