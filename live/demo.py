"""Demo broadcast data for `manage.py seed_demo` (idempotent: matched by title / name)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from live.models import LiveStream, RestreamTarget

DEMO_STREAM_TITLE = "도라미 금요 신상 라이브"
DEMO_TARGET_NAME = "유튜브 (예시)"


@transaction.atomic
def seed_live() -> LiveStream:
    stream = LiveStream.objects.filter(title=DEMO_STREAM_TITLE).first()
    if stream is None:
        stream = LiveStream.objects.create(
            title=DEMO_STREAM_TITLE,
            description="이번 주 신상 니트와 데님을 라이브로 소개합니다.",
            scheduled_at=timezone.now() + timedelta(days=2),
            notice_text="라이브 중 주문 시 합배송 무료!",
        )
    RestreamTarget.objects.get_or_create(
        name=DEMO_TARGET_NAME,
        defaults={
            "platform": RestreamTarget.Platform.YOUTUBE,
            "rtmp_url": "rtmp://a.rtmp.youtube.com/live2",
            "enabled": False,  # no real key: the seller fills it in and enables it
        },
    )
    return stream
