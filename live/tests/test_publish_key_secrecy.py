"""No publish key reaches a non-staff person: pages, JSON, redirects, socket frames, HLS.

Streams in every status exist with known keys. A guest and a logged-in shopper fetch every
parameterless page of the URLconf, every live-room URL of every stream and every same-site link
found in those pages; every body, header and redirect must be free of every publish key. The
websocket frames (hello, history, room events) and the HLS playlist are checked the same way.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dorami import realtime as transport
from dorami.asgi import application
from live import presence
from live.models import LiveStream
from live.services.stream import (
    stream_create,
    stream_end,
    stream_feature_product,
    stream_notice_update,
    stream_publish,
)

# GET would change the visitor's state (logout) or is not a page a visitor browses.
SKIP_PREFIXES = ("/logout/", "/accounts/logout/", "/static/", "/media/", "/admin/")
LINK = re.compile(
    r"""(?:href|src|action|hx-get|data-[a-z-]+)\s*=\s*["'](/[^"'\s]*)["']""", re.IGNORECASE
)
MAX_PAGES = 400


def publish_keys() -> list[str]:
    keys = list(LiveStream.objects.values_list("publish_key", flat=True))
    assert keys and all(len(key) == 32 for key in keys)
    return keys


def make_streams() -> dict[str, LiveStream]:
    """One stream per status (plus an unscheduled one), each with products."""
    from django.utils import timezone

    from shop.tests.factories import ProductFactory, VariantFactory

    live = stream_create(title="지금 라이브")
    upcoming = stream_create(title="예정 라이브", scheduled_at=timezone.now())
    unscheduled = stream_create(title="미정 라이브")
    ended = stream_create(title="지난 라이브")
    stream_publish(public_id=live.public_id, publish_key=live.publish_key)
    stream_publish(public_id=ended.public_id, publish_key=ended.publish_key)
    stream_end(stream=ended)
    streams = {"live": live, "upcoming": upcoming, "unscheduled": unscheduled, "ended": ended}
    for stream in streams.values():
        VariantFactory(product=ProductFactory(stream=stream, name=f"{stream.title} 상품"))
    return {name: LiveStream.objects.get(pk=s.pk) for name, s in streams.items()}


def give_shopper_an_order(shopper, stream: LiveStream) -> None:
    from orders.tests.factories import hold, make_order
    from shop.models import ProductVariant

    variant = ProductVariant.objects.filter(product__stream=stream).first()
    make_order(user=shopper, items=[(variant, 1)])
    hold(user=shopper, variant=variant)


def _patterns(resolvers, prefix: str = ""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.pattern.converters


def start_urls(streams: dict[str, LiveStream]) -> list[str]:
    """Every parameterless GET route, and the live room's routes for each stream (other
    parameterised pages, e.g. products and orders, are reached through the links)."""
    urls = []
    for route, converters in _patterns(get_resolver().url_patterns):
        if route.startswith("^") or any(ch in route for ch in "()[]$\\"):
            continue  # regex routes (allauth's, prometheus') take no part here
        if not converters:
            urls.append("/" + route)
    for stream in streams.values():
        for name in ("live:watch", "live:viewer-badge", "live:room-state"):
            urls.append(reverse(name, args=[stream.public_id]))
    return urls


def _visible(url: str) -> str | None:
    url, _fragment = urldefrag(url)
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(SKIP_PREFIXES):
        return None
    return url


def _page_key(url: str) -> str:
    """One visit per page: login links differ only in `?next=` (which nests without end)."""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("next="))
    return parts.path + ("?" + query if query else "")


def crawl(client: Client, seeds: list[str]) -> dict[str, tuple[int, bytes, list]]:
    """GET every seed and every same-site link found in answers, following redirects."""
    seen: dict[str, tuple[int, bytes, list]] = {}
    visited: set[str] = set()
    queue = deque(u for u in (_visible(s) for s in seeds) if u)
    while queue:
        url = queue.popleft()
        if _page_key(url) in visited:
            continue
        visited.add(_page_key(url))
        assert len(seen) < MAX_PAGES, "the crawl does not converge"
        response = client.get(url)
        headers = list(response.items()) + [(c.key, c.value) for c in response.cookies.values()]
        body = b"".join(response) if response.streaming else response.content
        seen[url] = (response.status_code, body, headers)
        location = response.get("Location")
        if location and _visible(location):
            queue.append(_visible(location))
        if "html" in response.get("Content-Type", ""):
            for link in LINK.findall(body.decode("utf-8", "replace")):
                target = _visible(link.replace("&amp;", "&"))
                if target and _page_key(target) not in visited:
                    queue.append(target)
    return seen


def assert_no_key(pages: dict[str, tuple[int, bytes, list]], keys: list[str]) -> None:
    leaks = []
    for url, (status, body, headers) in pages.items():
        text = body.decode("utf-8", "replace")
        for key in keys:
            if key in url or key in text:
                leaks.append(f"{url} ({status}) body")
            for header, value in headers:
                if key in str(value):
                    leaks.append(f"{url} ({status}) header {header}")
    assert not leaks, leaks


@pytest.mark.django_db
def test_no_page_a_guest_or_shopper_can_fetch_contains_a_publish_key(shopper, settings, tmp_path):
    settings.HLS_ROOT = str(tmp_path)
    streams = make_streams()
    give_shopper_an_order(shopper, streams["live"])
    keys = publish_keys()
    seeds = start_urls(streams)

    guest = Client(raise_request_exception=False)
    buyer = Client(raise_request_exception=False)
    buyer.force_login(shopper)
    for who, client in (("guest", guest), ("shopper", buyer)):
        pages = crawl(client, seeds)
        # the crawl reached the pages that matter
        assert pages["/live/"][0] == 302, who
        watched = {streams[n].public_id for n in streams}
        assert all(f"/live/{pid}/" in pages for pid in watched), who
        assert pages["/"][0] == 200 and pages["/store/"][0] == 200, who
        assert any(u.startswith("/products/") for u in pages), who
        if who == "shopper":
            assert pages["/my/orders/"][0] == 200
            assert any(re.match(r"^/my/orders/.+/$", u) for u in pages), sorted(pages)
        assert_no_key(pages, keys)


@pytest.mark.django_db
def test_live_redirect_and_player_urls_use_the_public_id(client):
    streams = make_streams()
    response = client.get("/live/")
    assert response["Location"] == f"/live/{streams['live'].public_id}/"
    html = client.get(response["Location"]).content.decode()
    public_id = streams["live"].public_id
    assert f'data-flv-url="/live/live/{public_id}.flv"' in html
    assert f'data-hls-url="/hls/{public_id}.m3u8"' in html
    assert f'data-ws-path="/ws/live/{public_id}/"' in html
    assert streams["live"].publish_key not in html


@pytest.mark.django_db
def test_hls_playlist_and_segments_carry_only_the_public_id(client, settings, tmp_path):
    """The media server names HLS files after the stream name OBS published (the public id);
    the playlist the player fetches and its segment names hold no key."""
    settings.HLS_ROOT = str(tmp_path)
    streams = make_streams()
    live = streams["live"]
    html = client.get(f"/live/{live.public_id}/").content.decode()
    hls_url = re.search(r'data-hls-url="([^"]+)"', html).group(1)
    name = hls_url.rsplit("/", 1)[-1].removesuffix(".m3u8")
    (tmp_path / f"{name}.m3u8").write_text(
        f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{name}-0.ts\n"
    )
    (tmp_path / f"{name}-0.ts").write_bytes(b"\x47" * 188)
    playlist = client.get(hls_url)
    assert playlist.status_code == 200
    text = b"".join(playlist).decode()
    segment = re.findall(r"^(\S+\.ts)$", text, re.M)[0]
    assert client.get(f"/hls/{segment}").status_code == 200
    for key in publish_keys():
        assert key not in hls_url and key not in text and key not in segment
    # a file named after a key is never served, even if one were on disk
    (tmp_path / f"{live.publish_key}.m3u8").write_text("#EXTM3U\n")
    assert client.get(f"/hls/{live.publish_key}.m3u8").status_code == 404


# --- websocket frames -------------------------------------------------------------------------


async def _frames(comm, quiet: float = 0.4) -> list[str]:
    texts = []
    while not await comm.receive_nothing(timeout=quiet, interval=0.02):
        output = await comm.receive_output()
        texts.append(output.get("text") or json.dumps(output))
    return texts


@database_sync_to_async
def _session_cookie(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


@pytest.mark.django_db(transaction=True)
async def test_socket_frames_of_every_stream_hold_no_publish_key(shopper):
    streams = await database_sync_to_async(make_streams)()
    keys = await database_sync_to_async(publish_keys)()
    cookie = (await _session_cookie(shopper)).encode()
    try:
        for stream in streams.values():
            sockets = []
            for headers in ([], [(b"cookie", cookie)]):
                comm = WebsocketCommunicator(
                    application,
                    f"/ws/live/{stream.public_id}/",
                    headers=[(b"origin", b"http://localhost"), *headers],
                )
                connected, _code = await comm.connect(timeout=5)
                assert connected, stream.title
                sockets.append(comm)
            frames = []
            for comm in sockets:
                frames += await _frames(comm)
            # room events: a chat line, the notice, the featured product, the end of the show
            await sockets[1].send_json_to({"type": "chat", "body": "안녕하세요"})
            await database_sync_to_async(stream_notice_update)(stream=stream, notice_text="공지")
            product = await database_sync_to_async(lambda s=stream: s.products.first())()
            await database_sync_to_async(stream_feature_product)(stream=stream, product=product)
            if stream.status != LiveStream.Status.OFFLINE:
                await database_sync_to_async(stream_end)(stream=stream)
            await asyncio.sleep(0.2)
            for comm in sockets:
                frames += await _frames(comm)
                await comm.disconnect()
            assert any('"hello"' in f for f in frames) and any('"history"' in f for f in frames)
            assert any('"event"' in f for f in frames), frames
            leaks = [f for f in frames for key in keys if key in f]
            assert not leaks, leaks
    finally:
        await presence.presence_shutdown()
        await transport.close_hub()
        await sync_to_async(connections.close_all)()
