"""check_stream against the loopback fixture server, one behaviour per test."""

import dataclasses
import time
from datetime import timedelta

import pytest

from govportal.lib.camcheck import CheckResult, fingerprint_distance
from govportal.lib.httpfetch import FetchPolicy
from tests.camcheck import (
    FAST_LIMITS,
    camera_policy,
    jpeg_bytes,
    master_playlist,
    media_playlist,
    mjpeg_part,
    run_check,
)
from tests.support.fixture_server import (
    FixtureServer,
    Response,
    endless_chunked,
    lying_content_length,
    never_answer,
    response_head,
    slow_drip,
)

JPEG_HEADERS = {"Content-Type": "image/jpeg"}
MJPEG_HEADERS = {"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
HLS_HEADERS = {"Content-Type": "application/vnd.apple.mpegurl"}
TS_HEADERS = {"Content-Type": "video/mp2t"}
# 188-byte MPEG-TS packets, starting with the 0x47 sync byte.
SEGMENT = (b"\x47" + b"\x00" * 187) * 200


def backdate(result: CheckResult, seconds: float) -> CheckResult:
    """Return ``result`` as if it had been taken ``seconds`` earlier."""
    shift = timedelta(seconds=seconds)
    since = result.unchanged_since
    return dataclasses.replace(
        result,
        checked_at=result.checked_at - shift,
        unchanged_since=since - shift if since else None,
    )


# -- JPEG snapshots -------------------------------------------------------------


def test_snapshot_good_jpeg(fixture_server):
    fixture_server.route("/cam.jpg", Response(200, JPEG_HEADERS, jpeg_bytes(1)))
    result = run_check("jpeg_snapshot", fixture_server.url("/cam.jpg"))
    assert result.ok, result.detail
    assert result.problem_code == ""
    assert result.fingerprint is not None
    assert result.fingerprint.startswith("ahash16:")
    assert result.media_sequence is None
    assert result.checked_at.tzinfo is not None


def test_snapshot_reencoded_frame_same_fingerprint(fixture_server):
    fixture_server.route("/a.jpg", Response(200, JPEG_HEADERS, jpeg_bytes(3, 95)))
    fixture_server.route("/b.jpg", Response(200, JPEG_HEADERS, jpeg_bytes(3, 60)))
    fixture_server.route("/c.jpg", Response(200, JPEG_HEADERS, jpeg_bytes(4, 95)))
    first = run_check("jpeg_snapshot", fixture_server.url("/a.jpg"))
    reencoded = run_check("jpeg_snapshot", fixture_server.url("/b.jpg"))
    other = run_check("jpeg_snapshot", fixture_server.url("/c.jpg"))
    assert first.fingerprint is not None
    assert reencoded.fingerprint is not None
    assert other.fingerprint is not None
    assert fingerprint_distance(first.fingerprint, reencoded.fingerprint) <= 4
    assert fingerprint_distance(first.fingerprint, other.fingerprint) > 32


def test_snapshot_timeout(fixture_server):
    fixture_server.route("/cam.jpg", never_answer())
    started = time.monotonic()
    result = run_check(
        "jpeg_snapshot", fixture_server.url("/cam.jpg"), camera_policy(read_timeout=0.5)
    )
    assert result.problem_code == "timeout"
    assert not result.ok
    assert time.monotonic() - started < 3


def test_snapshot_http_error(fixture_server):
    fixture_server.route("/cam.jpg", Response(503, {}, b"maintenance"))
    result = run_check("jpeg_snapshot", fixture_server.url("/cam.jpg"))
    assert result.problem_code == "http_status"
    assert "503" in result.detail


@pytest.mark.parametrize("content_type", ["image/jpeg", "text/html; charset=utf-8"])
def test_snapshot_html_is_not_an_image(fixture_server, content_type):
    page = b"<!doctype html><title>Camera offline</title><p>offline</p>"
    fixture_server.route(
        "/cam.jpg", Response(200, {"Content-Type": content_type}, page)
    )
    result = run_check("jpeg_snapshot", fixture_server.url("/cam.jpg"))
    assert result.problem_code == "not_an_image"
    assert result.fingerprint is None


def test_snapshot_truncated_jpeg_is_not_an_image(fixture_server):
    body = jpeg_bytes(5)[:600]
    fixture_server.route("/cam.jpg", Response(200, JPEG_HEADERS, body))
    result = run_check("jpeg_snapshot", fixture_server.url("/cam.jpg"))
    assert result.problem_code == "not_an_image"


def test_snapshot_frozen_frame(fixture_server):
    limits = dataclasses.replace(FAST_LIMITS, frozen_after=600.0)
    fixture_server.route("/cam.jpg", Response(200, JPEG_HEADERS, jpeg_bytes(6)))
    url = fixture_server.url("/cam.jpg")
    first = run_check("jpeg_snapshot", url, limits=limits)
    second = run_check(
        "jpeg_snapshot", url, limits=limits, previous=backdate(first, 300)
    )
    assert second.ok, second.detail
    assert first.unchanged_since is not None
    assert second.unchanged_since == first.unchanged_since - timedelta(seconds=300)
    third = run_check(
        "jpeg_snapshot", url, limits=limits, previous=backdate(second, 400)
    )
    assert third.problem_code == "frozen_frame"
    assert third.fingerprint == first.fingerprint


def test_snapshot_changed_frame_not_frozen(fixture_server):
    limits = dataclasses.replace(FAST_LIMITS, frozen_after=60.0)
    fixture_server.route(
        "/cam.jpg",
        [
            Response(200, JPEG_HEADERS, jpeg_bytes(7)),
            Response(200, JPEG_HEADERS, jpeg_bytes(8)),
        ],
    )
    url = fixture_server.url("/cam.jpg")
    first = run_check("jpeg_snapshot", url, limits=limits)
    second = run_check(
        "jpeg_snapshot", url, limits=limits, previous=backdate(first, 900)
    )
    assert second.ok, second.detail
    assert second.unchanged_since == second.checked_at


# -- MJPEG ----------------------------------------------------------------------


def test_mjpeg_good_stream(fixture_server):
    body = mjpeg_part(jpeg_bytes(10)) + mjpeg_part(jpeg_bytes(11))
    fixture_server.route("/video.mjpg", Response(200, MJPEG_HEADERS, body))
    result = run_check("mjpeg", fixture_server.url("/video.mjpg"))
    assert result.ok, result.detail
    assert result.fingerprint is not None


def test_mjpeg_endless_stream_closed_after_first_frame():
    head = response_head(200, {**MJPEG_HEADERS, "Transfer-Encoding": "chunked"})
    frame = mjpeg_part(jpeg_bytes(12))
    with FixtureServer() as server:
        server.route("/video.mjpg", endless_chunked(head, frame, frame))
        started = time.monotonic()
        result = run_check("mjpeg", server.url("/video.mjpg"))
        elapsed = time.monotonic() - started
    assert result.ok, result.detail
    assert result.fingerprint is not None
    assert elapsed < 2


def test_mjpeg_endless_chunked_without_frame():
    head = response_head(200, {**MJPEG_HEADERS, "Transfer-Encoding": "chunked"})
    with FixtureServer() as server:
        server.route(
            "/video.mjpg", endless_chunked(head, b"--frame\r\n", b"\x00" * 4096)
        )
        started = time.monotonic()
        result = run_check("mjpeg", server.url("/video.mjpg"))
        elapsed = time.monotonic() - started
    assert result.problem_code == "no_frame"
    assert elapsed < 3
    # The client stopped near its 256 KiB cap; socket buffers explain the rest.
    assert server.raw_bytes_sent["/video.mjpg"] < 16 * 1024 * 1024


def test_mjpeg_slow_stream_times_out(fixture_server):
    head = response_head(200, MJPEG_HEADERS)
    fixture_server.route(
        "/video.mjpg", slow_drip(head, mjpeg_part(jpeg_bytes(13)), interval=0.2)
    )
    started = time.monotonic()
    result = run_check("mjpeg", fixture_server.url("/video.mjpg"))
    assert result.problem_code == "timeout"
    assert time.monotonic() - started < 3


def test_mjpeg_html_is_not_an_image(fixture_server):
    fixture_server.route(
        "/video.mjpg", Response(200, {"Content-Type": "text/html"}, b"<html></html>")
    )
    result = run_check("mjpeg", fixture_server.url("/video.mjpg"))
    assert result.problem_code == "not_an_image"


def test_mjpeg_single_jpeg_accepted(fixture_server):
    fixture_server.route("/video.mjpg", Response(200, JPEG_HEADERS, jpeg_bytes(14)))
    result = run_check("mjpeg", fixture_server.url("/video.mjpg"))
    assert result.ok, result.detail


# -- HLS --------------------------------------------------------------------------


def serve_segments(server, names):
    for name in names:
        server.route(f"/hls/{name}", Response(200, TS_HEADERS, SEGMENT))


def test_hls_advancing_playlist(fixture_server):
    serve_segments(fixture_server, ["s10.ts", "s11.ts", "s12.ts"])
    fixture_server.route(
        "/hls/live.m3u8",
        [
            Response(200, HLS_HEADERS, media_playlist(10, ["s10.ts", "s11.ts"])),
            Response(200, HLS_HEADERS, media_playlist(11, ["s11.ts", "s12.ts"])),
        ],
    )
    url = fixture_server.url("/hls/live.m3u8")
    first = run_check("hls", url)
    second = run_check("hls", url, previous=backdate(first, 600))
    assert first.ok, first.detail
    assert first.media_sequence == 10
    assert second.ok, second.detail
    assert second.media_sequence == 11
    assert fixture_server.hits("/hls/s11.ts") == 1
    assert fixture_server.hits("/hls/s12.ts") == 1


def test_hls_master_playlist_follows_first_variant(fixture_server):
    serve_segments(fixture_server, ["a1.ts"])
    fixture_server.route(
        "/hls/master.m3u8",
        Response(200, HLS_HEADERS, master_playlist(["low/index.m3u8", "high.m3u8"])),
    )
    fixture_server.route(
        "/hls/low/index.m3u8",
        Response(200, HLS_HEADERS, media_playlist(3, ["../a1.ts"])),
    )
    result = run_check("hls", fixture_server.url("/hls/master.m3u8"))
    assert result.ok, result.detail
    assert result.media_sequence == 3
    assert fixture_server.hits("/high.m3u8") == 0


def test_hls_stale_playlist(fixture_server):
    serve_segments(fixture_server, ["s5.ts"])
    fixture_server.route(
        "/hls/live.m3u8", Response(200, HLS_HEADERS, media_playlist(5, ["s5.ts"]))
    )
    url = fixture_server.url("/hls/live.m3u8")
    first = run_check("hls", url)
    # Not yet stale: 60 s is within stale_after (120 s).
    second = run_check("hls", url, previous=backdate(first, 60))
    third = run_check("hls", url, previous=backdate(second, 90))
    assert first.ok, first.detail
    assert second.ok, second.detail
    assert third.problem_code == "stale_playlist"
    assert third.media_sequence == 5
    assert third.unchanged_since == first.checked_at - timedelta(seconds=150)


def test_hls_event_playlist_growing_is_not_stale(fixture_server):
    serve_segments(fixture_server, ["e0.ts", "e1.ts"])
    fixture_server.route(
        "/hls/event.m3u8",
        [
            Response(200, HLS_HEADERS, media_playlist(0, ["e0.ts"])),
            Response(200, HLS_HEADERS, media_playlist(0, ["e0.ts", "e1.ts"])),
        ],
    )
    url = fixture_server.url("/hls/event.m3u8")
    first = run_check("hls", url)
    second = run_check("hls", url, previous=backdate(first, 600))
    assert second.ok, second.detail


@pytest.mark.parametrize(
    "segment",
    [
        "http://169.254.169.254/latest/meta-data/seg.ts",
        "http://10.0.0.7/seg.ts",
        "http://[::1]/seg.ts",
        "rtsp://127.0.0.1/live",
        "file:///etc/passwd",
        "http://cdn.private-cam.example/seg.ts",
        "http://metadata.cam.example/seg.ts",
        "http://unlisted.cam.example/seg.ts",
    ],
)
def test_hls_playlist_points_outside(fixture_server, fake_dns, connect_guard, segment):
    fake_dns.add("cdn.private-cam.example", ["10.1.2.3"])
    fake_dns.add("metadata.cam.example", ["203.0.113.9", "169.254.169.254"])
    fake_dns.add("unlisted.cam.example", ["127.0.0.1"])
    connect_guard.allow.add(("127.0.0.1", fixture_server.port))
    fixture_server.route(
        "/hls/live.m3u8",
        Response(200, HLS_HEADERS, media_playlist(1, ["local.ts", segment])),
    )
    serve_segments(fixture_server, ["local.ts"])
    result = run_check(
        "hls",
        fixture_server.url("/hls/live.m3u8"),
        allowed_hosts={"cdn.private-cam.example", "metadata.cam.example"},
    )
    assert result.problem_code == "playlist_points_outside"
    assert connect_guard.blocked == []
    assert fixture_server.hits("/hls/local.ts") == 0
    assert all(address == "127.0.0.1" for address, _ in connect_guard.attempts)


def test_hls_variant_pointing_outside(fixture_server, connect_guard):
    connect_guard.allow.add(("127.0.0.1", fixture_server.port))
    fixture_server.route(
        "/hls/master.m3u8",
        Response(200, HLS_HEADERS, master_playlist(["http://10.9.9.9/index.m3u8"])),
    )
    result = run_check("hls", fixture_server.url("/hls/master.m3u8"))
    assert result.problem_code == "playlist_points_outside"
    assert connect_guard.blocked == []


@pytest.mark.parametrize(
    ("master", "variant"),
    [
        # The master lists itself as its variant.
        (master_playlist(["master.m3u8"]), None),
        # The variant is a master again, listing the first.
        (master_playlist(["variant.m3u8"]), master_playlist(["master.m3u8"])),
        # A media playlist whose segment is the playlist itself.
        (master_playlist(["variant.m3u8"]), media_playlist(1, ["variant.m3u8"])),
    ],
)
def test_hls_self_reference_stops(fixture_server, master, variant):
    fixture_server.route("/hls/master.m3u8", Response(200, HLS_HEADERS, master))
    if variant is not None:
        fixture_server.route("/hls/variant.m3u8", Response(200, HLS_HEADERS, variant))
    started = time.monotonic()
    result = run_check("hls", fixture_server.url("/hls/master.m3u8"))
    assert result.problem_code == "playlist_invalid"
    assert fixture_server.hits("/hls/master.m3u8") == 1
    assert fixture_server.hits("/hls/variant.m3u8") <= 1
    assert time.monotonic() - started < 2


def test_hls_gigabyte_segment_rejected():
    with FixtureServer() as server:
        server.route(
            "/hls/live.m3u8", Response(200, HLS_HEADERS, media_playlist(1, ["big.ts"]))
        )
        server.route(
            "/hls/big.ts", lying_content_length(1 << 30, 1 << 30, b"\x47", pause=0)
        )
        started = time.monotonic()
        result = run_check("hls", server.url("/hls/live.m3u8"))
        elapsed = time.monotonic() - started
    assert result.problem_code == "too_large"
    assert elapsed < 3
    assert server.raw_bytes_sent["/hls/big.ts"] < 64 * 1024 * 1024


def test_hls_endless_segment_read_only_in_part():
    head = response_head(200, {**TS_HEADERS, "Transfer-Encoding": "chunked"})
    with FixtureServer() as server:
        server.route(
            "/hls/live.m3u8", Response(200, HLS_HEADERS, media_playlist(1, ["e.ts"]))
        )
        server.route("/hls/e.ts", endless_chunked(head, SEGMENT, SEGMENT))
        started = time.monotonic()
        result = run_check("hls", server.url("/hls/live.m3u8"))
        elapsed = time.monotonic() - started
    assert result.ok, result.detail
    assert elapsed < 3
    assert server.raw_bytes_sent["/hls/e.ts"] < 16 * 1024 * 1024


@pytest.mark.parametrize(
    "body",
    [b"<html>not found</html>", b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n", b"\xff\xfe"],
)
def test_hls_invalid_playlist(fixture_server, body):
    fixture_server.route("/hls/live.m3u8", Response(200, HLS_HEADERS, body))
    result = run_check("hls", fixture_server.url("/hls/live.m3u8"))
    assert result.problem_code == "playlist_invalid"


def test_hls_missing_segment(fixture_server):
    fixture_server.route(
        "/hls/live.m3u8", Response(200, HLS_HEADERS, media_playlist(1, ["gone.ts"]))
    )
    result = run_check("hls", fixture_server.url("/hls/live.m3u8"))
    assert result.problem_code == "http_status"


# -- embed pages --------------------------------------------------------------------


def test_embed_page_ok_and_error(fixture_server):
    fixture_server.route(
        "/player", Response(200, {"Content-Type": "text/html"}, b"<html></html>")
    )
    fixture_server.route("/gone", Response(404, {}, b"not found"))
    assert run_check("embed_page", fixture_server.url("/player")).ok
    missing_page = run_check("embed_page", fixture_server.url("/gone"))
    assert missing_page.problem_code == "http_status"


# -- stream URLs that must never be fetched -------------------------------------------


KINDS = ["jpeg_snapshot", "mjpeg", "hls", "embed_page"]
BLOCKED_URLS = [
    ("http://127.0.0.1:{port}/cam.jpg", "blocked_target"),
    ("http://10.0.0.5/cam.jpg", "blocked_target"),
    ("http://169.254.169.254/latest/meta-data/", "blocked_target"),
    ("http://cam-loopback.example/cam.jpg", "blocked_target"),
    ("http://cam-private.example/cam.jpg", "blocked_target"),
    ("http://cam-metadata.example/cam.jpg", "blocked_target"),
    ("rtsp://cam.example/live", "scheme_not_allowed"),
    ("rtmp://cam.example/live", "scheme_not_allowed"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("template", "code"), BLOCKED_URLS)
def test_stream_url_refused_before_connecting(
    fixture_server, fake_dns, connect_guard, kind, template, code
):
    fake_dns.add("cam-loopback.example", ["127.0.0.1"])
    fake_dns.add("cam-private.example", ["10.20.30.40"])
    fake_dns.add("cam-metadata.example", ["169.254.169.254"])
    url = template.format(port=fixture_server.port)
    # The production policy: no network is allowed besides public ones.
    result = run_check(kind, url, FetchPolicy(connect_timeout=1.0, read_timeout=1.0))
    assert result.problem_code == code
    assert connect_guard.attempts == []
    assert fixture_server.requests == []


def test_unknown_kind_raises():
    with pytest.raises(ValueError, match="unknown stream kind"):
        run_check("rtsp", "http://127.0.0.1/")
