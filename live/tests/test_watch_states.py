"""The watch page before, during and after a show: countdown, featured card, next show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from live.models import LiveStream
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _watch(client, stream) -> str:
    return client.get(reverse("live:watch", args=[stream.public_id])).content.decode()


def test_pending_show_has_its_start_and_a_countdown_target(client):
    # given a show at 20:30 Los Angeles time (PDT; 03:30 UTC the next day)
    starts = datetime(2031, 5, 2, 3, 30, tzinfo=UTC)
    stream = LiveStream.objects.create(title="신상 라이브", scheduled_at=starts)

    html = _watch(client, stream)

    assert 'data-countdown-to="2031-05-01T20:30:00-07:00"' in html
    assert "2031년 5월 1일 (목) 오후 8:30 PDT</p>" in html
    assert 'data-status="PENDING"' in html


def test_live_show_shows_the_featured_product_card(client):
    stream = LiveStream.objects.create(title="라이브", status="LIVE", started_at=timezone.now())
    product = ProductFactory(stream=stream, name="실크 블라우스")
    VariantFactory(product=product, stock=2, price="45.00")
    stream.featured_product = product
    stream.save()

    html = _watch(client, stream)

    card = html.split('data-testid="featured-card"', 1)[1].split("</div>", 1)[0]
    assert "지금 소개 중" in card and "실크 블라우스" in card and "$45.00" in card
    assert f'data-product-id="{product.pk}"' in html.split('data-testid="featured-card"')[0][-200:]


def test_live_show_without_a_featured_product_hides_the_card(client):
    stream = LiveStream.objects.create(title="라이브", status="LIVE", started_at=timezone.now())
    html = _watch(client, stream)
    assert 'data-testid="featured-card" hidden' in html


def test_ended_show_names_the_next_one(client):
    ended = LiveStream.objects.create(title="지난 방송", status="OFFLINE")
    LiveStream.objects.create(title="지난 예정", scheduled_at=timezone.now() - timedelta(hours=1))
    LiveStream.objects.create(title="다음 신상", scheduled_at=timezone.now() + timedelta(days=3))
    LiveStream.objects.create(title="그다음", scheduled_at=timezone.now() + timedelta(days=9))

    html = _watch(client, ended)

    next_show = html.split('data-testid="next-stream"', 1)[1].split("</p>", 1)[0]
    assert "다음 신상" in next_show and "그다음" not in next_show
    assert "지난 예정" not in html
