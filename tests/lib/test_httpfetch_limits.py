"""Fetcher limits: deadlines, byte caps and decompression bombs."""

import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from govportal.lib.errors import SourceError
from tests.lib import BASELINE, RSS_HEADERS, fetch, fetch_error, loopback_policy
from tests.support.fixture_server import (
    Response,
    endless_chunked,
    lying_content_length,
    never_answer,
    response_head,
    slow_drip,
)

MiB = 1024 * 1024
RSS_HEAD = response_head(200, {"Content-Type": "application/rss+xml"})


def fetch_traced(url, policy):
    """Run a failing fetch under tracemalloc and return the error and peak bytes."""
    tracemalloc.start()
    try:
        error = fetch_error(url, policy)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return error, peak


# -- case 42, FF-07, FF-08: slow servers ------------------------------------------------


def test_case42_never_answering_server_hits_deadline(fixture_server):
    """Case 42 exchange 1 and FF-08"""
    fixture_server.route("/rss/news.xml", never_answer())
    started = time.monotonic()
    error = fetch_error(
        fixture_server.url("/rss/news.xml"), loopback_policy(deadline=2)
    )
    elapsed = time.monotonic() - started
    assert error.code == "timeout"
    assert 1.9 <= elapsed < 3


def test_case42_slow_drip_hits_deadline(fixture_server):
    """Case 42 exchange 2 and FF-07: each byte is in time, the whole is not."""
    fixture_server.route("/rss/news.xml", slow_drip(RSS_HEAD, BASELINE, interval=0.3))
    policy = loopback_policy(deadline=2, read_timeout=1)
    started = time.monotonic()
    error = fetch_error(fixture_server.url("/rss/news.xml"), policy)
    elapsed = time.monotonic() - started
    assert error.code == "timeout"
    assert error.params["deadline"] == 2
    assert 1.9 <= elapsed < 3


def test_ff08_read_timeout_before_deadline(fixture_server):
    """FF-08: a silent server frees the worker after read_timeout."""
    fixture_server.route("/rss/news.xml", never_answer())
    policy = loopback_policy(read_timeout=0.5, deadline=10)
    started = time.monotonic()
    error = fetch_error(fixture_server.url("/rss/news.xml"), policy)
    assert error.code == "timeout"
    assert time.monotonic() - started < 2


def test_deadline_spans_redirect_hops(fixture_server):
    """Each hop is quick, but the hops together pass the deadline."""

    def slow_redirect(hop):
        def respond(request):
            time.sleep(0.4)
            return Response(302, {"Location": f"/hop/{hop + 1}"})

        return respond

    for hop in range(5):
        fixture_server.route(f"/hop/{hop}", slow_redirect(hop))
    fixture_server.route("/hop/5", Response(200, RSS_HEADERS, BASELINE))
    policy = loopback_policy(deadline=1.5, read_timeout=1)
    error = fetch_error(fixture_server.url("/hop/0"), policy)
    assert error.code == "timeout"
    assert fixture_server.hits("/hop/5") == 0


# -- case 43, FF-05: huge bodies -----------------------------------------------------


def test_case43_endless_chunked_body_stops_at_cap(fixture_server):
    """Case 43 exchange 1 and FF-05: no Content-Length, endless items."""
    head = response_head(
        200,
        {
            "Content-Type": "application/rss+xml; charset=utf-8",
            "Transfer-Encoding": "chunked",
        },
    )
    first = BASELINE.split(b"<item>")[0]
    item = (
        b"<item><title>endless</title><link>https://www.example.gov.tw/x</link></item>"
    )
    fixture_server.route("/rss/news.xml", endless_chunked(head, first, item * 4))
    policy = loopback_policy(max_body_bytes=2 * MiB)
    error, peak = fetch_traced(fixture_server.url("/rss/news.xml"), policy)
    assert error.code == "too_large"
    assert error.params["limit"] == 2 * MiB
    assert peak < 8 * MiB


def test_case43_huge_declared_length_rejected(fixture_server):
    fixture_server.route(
        "/rss/news.xml",
        lying_content_length(declared=50 * MiB, total=50 * MiB, filler=b"<item/>"),
    )
    policy = loopback_policy(max_body_bytes=2 * MiB)
    error = fetch_error(fixture_server.url("/rss/news.xml"), policy)
    assert error.code == "too_large"
    assert error.params["declared"] == 50 * MiB


def test_case43_lying_length_read_as_declared(fixture_server):
    """Case 43 exchange 2: Content-Length 1000, then 200 MB.

    The client reads exactly the declared 1000 bytes, as HTTP framing
    requires, and closes the connection. The feed parser then reports a
    truncated document; the byte cap never comes into play.
    """
    fixture_server.route(
        "/rss/news.xml",
        lying_content_length(
            declared=1000, total=200 * MiB, filler=b"<item>x</item>", pause=0.3
        ),
    )
    tracemalloc.start()
    try:
        result = fetch(fixture_server.url("/rss/news.xml"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.body) == 1000
    assert peak < 4 * MiB


def test_case43_lying_length_surplus_same_read(fixture_server):
    """Case 43 exchange 2, with the surplus right behind the declared bytes.

    When aiohttp reads the surplus together with the body, it reports data
    after the message and the fetch fails with protocol_error. Whether the
    surplus lands in the same read depends on TCP timing, so both safe
    outcomes are accepted; neither reads past the declared length.
    """
    fixture_server.route(
        "/rss/news.xml",
        lying_content_length(declared=1000, total=200 * MiB, filler=b"<item>x</item>"),
    )
    tracemalloc.start()
    try:
        try:
            result = fetch(fixture_server.url("/rss/news.xml"))
        except SourceError as error:
            assert error.code == "protocol_error"
        else:
            assert len(result.body) == 1000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB


def test_body_at_cap_accepted(fixture_server):
    body = b"x" * MiB
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, body))
    assert (
        fetch(
            fixture_server.url("/rss/news.xml"), loopback_policy(max_body_bytes=MiB)
        ).body
        == body
    )
    error = fetch_error(
        fixture_server.url("/rss/news.xml"), loopback_policy(max_body_bytes=MiB - 1)
    )
    assert error.code == "too_large"


# -- case 53, FF-06: decompression bombs ----------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory) -> Path:
    """1 GiB of spaces inside a feed title, gzipped to about 1 MB.

    Written to a temporary file in steps of 1 MiB, as case 53 describes.
    """
    head = BASELINE.split(b"<item>")[0]
    path = tmp_path_factory.mktemp("bomb") / "bomb.xml.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    spaces = b" " * MiB
    with path.open("wb") as out:
        out.write(compressor.compress(head + b"<item><title>"))
        for _ in range(1024):
            out.write(compressor.compress(spaces))
        out.write(compressor.compress(b"</title></item></channel></rss>"))
        out.write(compressor.flush())
    return path


def gzip_to_raw_deflate(data: bytes) -> bytes:
    # A gzip member is a 10-byte header (no optional fields from zlib), the
    # raw deflate stream and an 8-byte trailer.
    return data[10:-8]


@pytest.mark.parametrize(
    ("headers", "transform"),
    [
        ({**RSS_HEADERS, "Content-Encoding": "gzip"}, None),
        ({"Content-Type": "application/gzip"}, None),
        ({"Content-Type": "application/x-gzip"}, None),
        ({**RSS_HEADERS, "Content-Encoding": "deflate"}, gzip_to_raw_deflate),
    ],
    ids=["content-encoding-gzip", "application-gzip", "application-x-gzip", "deflate"],
)
def test_case53_bomb_stops_at_decoded_cap(
    fixture_server, gzip_bomb, monkeypatch, headers, transform
):
    """Case 53 and FF-06: about 1 MB on the wire, 1 GiB inflated."""
    import feedparser

    def no_feedparser_fetch(*args, **kwargs):
        raise AssertionError("feedparser must not fetch or inflate anything")

    monkeypatch.setattr(feedparser, "parse", no_feedparser_fetch)
    bomb = gzip_bomb.read_bytes()
    assert len(bomb) < 2 * MiB
    body = transform(bomb) if transform else bomb
    fixture_server.route("/rss/news.xml", Response(200, headers, body))
    policy = loopback_policy()
    error, peak = fetch_traced(fixture_server.url("/rss/news.xml"), policy)
    assert error.code == "too_large_decompressed"
    assert error.params["limit"] == policy.max_decoded_bytes == 10 * MiB
    # The cap plus one read and one inflate step, plus the 1 MB bomb that
    # the server thread sends, with room for allocator overhead.
    assert peak < 3 * policy.max_decoded_bytes


def test_ff06_brotli_bomb_stops_at_decoded_cap(fixture_server):
    """FF-06: br, when a brotli module with bounded output is installed."""
    brotli = pytest.importorskip("brotli")
    bomb = brotli.compress(b" " * (256 * MiB), quality=5)
    fixture_server.route(
        "/rss/news.xml", Response(200, {**RSS_HEADERS, "Content-Encoding": "br"}, bomb)
    )
    error, peak = fetch_traced(
        fixture_server.url("/rss/news.xml"), loopback_policy(max_decoded_bytes=4 * MiB)
    )
    assert error.code == "too_large_decompressed"
    assert peak < 12 * MiB


def test_nested_encodings_bounded(fixture_server):
    """gzip inside gzip: every stage counts against the decoded cap."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    layer = inner.compress(b" " * (64 * MiB)) + inner.flush()
    outer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = outer.compress(layer) + outer.flush()
    fixture_server.route(
        "/rss/news.xml",
        Response(200, {**RSS_HEADERS, "Content-Encoding": "gzip, gzip"}, body),
    )
    error = fetch_error(
        fixture_server.url("/rss/news.xml"), loopback_policy(max_decoded_bytes=MiB)
    )
    assert error.code == "too_large_decompressed"


def test_decoded_body_at_cap_accepted(fixture_server):
    body = b"<rss>" + b" " * (MiB - 11) + b"</rss>"
    assert len(body) == MiB
    fixture_server.route(
        "/rss/news.xml",
        Response(
            200,
            {**RSS_HEADERS, "Content-Encoding": "gzip"},
            zlib.compress(body, wbits=31),
        ),
    )
    result = fetch(
        fixture_server.url("/rss/news.xml"), loopback_policy(max_decoded_bytes=MiB)
    )
    assert result.body == body
