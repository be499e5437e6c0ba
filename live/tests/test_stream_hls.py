"""`/hls/<file>` from HLS_ROOT: content types, 404 when unset, no way out of the directory."""

from __future__ import annotations

import pytest

KEY = "abcdefgh2345"  # files are named after the stream's public id
PUBLISH_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def hls_root(tmp_path, settings):
    root = tmp_path / "hls"
    root.mkdir()
    (root / f"{KEY}.m3u8").write_text("#EXTM3U\n#EXTINF:1.0,\n" + f"{KEY}-3.ts\n")
    (root / f"{KEY}-3.ts").write_bytes(b"\x47" + b"\x00" * 187)
    (tmp_path / "secret.m3u8").write_text("outside")
    (root / f"{PUBLISH_KEY}.m3u8").write_text("#EXTM3U\n")
    settings.HLS_ROOT = str(root)
    return root


def test_playlist_and_segment_are_served(client, hls_root):
    playlist = client.get(f"/hls/{KEY}.m3u8")
    segment = client.get(f"/hls/{KEY}-3.ts")

    assert playlist.status_code == 200
    assert playlist["Content-Type"] == "application/vnd.apple.mpegurl"
    assert playlist["Cache-Control"] == "no-cache"
    assert b"".join(playlist.streaming_content).startswith(b"#EXTM3U")
    assert segment.status_code == 200
    assert segment["Content-Type"] == "video/mp2t"
    assert b"".join(segment.streaming_content)[:1] == b"\x47"


def test_unset_root_is_404(client, hls_root, settings):
    settings.HLS_ROOT = ""

    assert client.get(f"/hls/{KEY}.m3u8").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "..%2Fsecret.m3u8",
        "%2E%2E%2Fsecret.m3u8",
        "..secret.m3u8",
        f"{KEY}.mp4",
        f"{KEY}.m3u8.bak",
        f"{PUBLISH_KEY}.m3u8",  # never a publish key, even if a file had that name
        "ABCDEFGH2345.m3u8",
        "missing.m3u8",
        ".m3u8",
    ],
)
def test_other_names_are_404(client, hls_root, name):
    assert client.get(f"/hls/{name}").status_code == 404


def test_post_is_not_allowed(client, hls_root):
    assert client.post(f"/hls/{KEY}.m3u8").status_code == 405
