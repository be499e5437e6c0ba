"""Business info in the footer and the terms / privacy / contact pages, edited in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.legal import PRIVACY_TEXT, TERMS_TEXT
from core.models import get_config

pytestmark = pytest.mark.django_db


def test_pages_show_the_default_korean_texts(client):
    terms = client.get("/terms/").content.decode()
    privacy = client.get("/privacy/").content.decode()
    assert "제1조 (목적)" in terms and "라이브 쇼핑 서비스(이하 &quot;서비스&quot;)" in terms
    assert "수집하는 개인정보" in privacy and "5년" in privacy
    config = get_config()
    assert config.terms_text == TERMS_TEXT.strip() and config.privacy_text == PRIVACY_TEXT.strip()


def test_texts_and_business_info_edited_in_the_admin_show_on_the_pages(client, staff_client):
    # given: the seller edits the config in the admin
    url = reverse("admin:core_systemconfig_change", args=[get_config().pk])
    form = staff_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        business_name="도라미 샵",
        business_owner="김도라미",
        business_registration="123-45-67890",
        business_address="3250 Wilshire Blvd, Los Angeles, CA",
        contact_email="help@dorami.shop",
        contact_phone="213-555-0100",
        terms_text="제1조 <b>새 약관</b>\n\n제2조 둘째",
        privacy_text="새 처리방침",
    )
    for name, value in list(data.items()):
        if value is True:
            data[name] = "on"
        elif value is False:
            data.pop(name)
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    # then
    terms = client.get("/terms/").content.decode()
    assert "제1조 &lt;b&gt;새 약관&lt;/b&gt;" in terms  # typed text, never HTML
    assert "<p>제2조 둘째</p>" in terms
    assert "새 처리방침" in client.get("/privacy/").content.decode()
    contact = client.get("/contact/").content.decode()
    for text in ("도라미 샵", "김도라미", "123-45-67890", "help@dorami.shop", "213-555-0100"):
        assert text in contact
    footer = client.get("/").content.decode().split('data-testid="site-footer"')[1]
    assert "도라미 샵" in footer and "help@dorami.shop" in footer and "123-45-67890" in footer
    assert 'href="/terms/"' in footer and 'href="/privacy/"' in footer


def test_login_page_links_the_real_pages(client):
    body = client.get(reverse("accounts:login")).content.decode()
    assert 'href="/terms/"' in body and 'href="/privacy/"' in body
    assert client.get("/terms/").status_code == 200


def test_live_page_has_no_footer(client):
    from live.models import LiveStream

    stream = LiveStream.objects.create(title="라이브", status=LiveStream.Status.LIVE)
    body = client.get(reverse("live:watch", args=[stream.public_id])).content.decode()
    assert 'data-testid="site-footer"' not in body
