"""Domain errors of the live app. Each carries a stable `code` and a Korean `message`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError


class LiveError(ServiceError):
    code = "LIVE_ERROR"
    default_message = _("요청을 처리할 수 없습니다.")

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)


class StreamUnknown(LiveError):
    code = "STREAM_UNKNOWN"
    default_message = _("알 수 없는 방송입니다.")


class StreamKeyInvalid(LiveError):
    code = "STREAM_KEY_INVALID"
    default_message = _("스트림 키가 올바르지 않습니다. 스튜디오의 스트림 키를 OBS에 입력하세요.")


class StreamKeyExpired(LiveError):
    code = "STREAM_KEY_EXPIRED"
    default_message = _("만료된 스트림 키입니다. 스튜디오에서 새 키를 발급하세요.")


class StreamLive(LiveError):
    code = "STREAM_LIVE"
    default_message = _("방송 중에는 할 수 없습니다.")


class StreamNotLive(LiveError):
    code = "STREAM_NOT_LIVE"
    default_message = _("방송 중이 아닙니다.")


class StreamEnded(LiveError):
    code = "STREAM_ENDED"
    default_message = _("이미 종료된 방송입니다.")


class ProductNotInStream(LiveError):
    code = "PRODUCT_NOT_IN_STREAM"
    default_message = _("이 방송의 상품이 아닙니다.")


class InvalidInput(LiveError):
    code = "INVALID_INPUT"
    default_message = _("입력값을 확인해 주세요.")


class MediaServerUnavailable(LiveError):
    code = "MEDIA_SERVER_UNAVAILABLE"
    default_message = _("미디어 서버에 연결할 수 없습니다.")
