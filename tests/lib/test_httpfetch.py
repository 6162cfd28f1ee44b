"""Fetcher against the loopback fixture server: statuses, redirects, encodings."""

import asyncio
import gzip
import threading
import time
import zlib

import pytest

from govportal.lib.errors import SourceError
from govportal.lib.httpfetch import Fetcher, FetchPolicy, parse_retry_after
from tests.lib import BASELINE, RSS_HEADERS, fetch, fetch_error, loopback_policy
from tests.support.fixture_server import Raw, Request, Response, response_head

# -- basic result ------------------------------------------------------------------


def test_result_fields_for_plain_feed(fixture_server):
    fixture_server.route(
        "/rss/news.xml",
        Response(
            200,
            {
                "Content-Type": 'Application/RSS+XML; Charset="Big5"',
                "ETag": '"abc"',
                "Last-Modified": "Thu, 02 May 2024 01:00:00 GMT",
            },
            BASELINE,
        ),
    )
    url = fixture_server.url("/rss/news.xml")
    result = fetch(url)
    assert result.url == url
    assert result.status == 200
    assert result.body == BASELINE
    assert result.content_type == "application/rss+xml"
    assert result.charset == "big5"
    assert result.etag == '"abc"'
    assert result.last_modified == "Thu, 02 May 2024 01:00:00 GMT"
    assert result.headers["etag"] == '"abc"'
    assert result.permanent_redirect is None
    assert result.redirects == []
    assert result.elapsed_ms >= 0


def test_request_headers_identify_the_portal(fixture_server):
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    fetch(
        fixture_server.url("/rss/news.xml"),
        loopback_policy(
            user_agent="PortalBot/2.0 (+https://portal.example.gov.tw/bot)"
        ),
    )
    request = fixture_server.requests_for("/rss/news.xml")[0]
    assert (
        request.headers["user-agent"]
        == "PortalBot/2.0 (+https://portal.example.gov.tw/bot)"
    )
    assert "application/rss+xml" in request.headers["accept"]
    assert "gzip" in request.headers["accept-encoding"]
    assert "cookie" not in request.headers
    assert "authorization" not in request.headers


def test_default_user_agent_is_descriptive(fixture_server):
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    fetch(fixture_server.url("/rss/news.xml"))
    user_agent = fixture_server.requests_for("/rss/news.xml")[0].headers["user-agent"]
    assert user_agent.startswith("GovPortalFeedFetcher/")
    assert "aiohttp" not in user_agent.lower()


def test_cookies_not_sent_back(fixture_server):
    fixture_server.route(
        "/rss/news.xml",
        Response(200, {**RSS_HEADERS, "Set-Cookie": "session=abc; Path=/"}, BASELINE),
    )
    url = fixture_server.url("/rss/news.xml")

    async def twice() -> None:
        async with Fetcher(loopback_policy()) as fetcher:
            await fetcher.get(url)
            await fetcher.get(url)

    asyncio.run(twice())
    second = fixture_server.requests_for("/rss/news.xml")[1]
    assert "cookie" not in second.headers


# -- case 23 and FF-10: error statuses -----------------------------------------------


def test_case23_503_with_retry_after(fixture_server):
    """Case 23 exchange 2: the Big5 maintenance page is never returned."""
    fixture_server.route(
        "/rss/news.xml",
        Response(
            503,
            {"Content-Type": "text/html; charset=big5", "Retry-After": "3600"},
            "<html><body><h1>系統維護中</h1></body></html>".encode("big5"),
        ),
    )
    error = fetch_error(fixture_server.url("/rss/news.xml"))
    assert error.code == "http_status"
    assert error.params["status"] == 503
    assert error.params["retry_after"] == 3600


def test_case23_error_body_not_read(fixture_server):
    """Case 23: a 503 announcing 200 MB costs no more than the headers."""

    def huge_error_page(conn, request, stop):
        conn.sendall(
            response_head(
                503, {"Content-Type": "text/html", "Content-Length": str(200 * 2**20)}
            )
        )
        sent = 0
        block = b"<p>maintenance</p>" * 4096
        while sent < 200 * 2**20 and not stop.is_set():
            conn.sendall(block)
            sent += len(block)
        return sent

    fixture_server.route("/rss/news.xml", Raw(huge_error_page))
    started = time.monotonic()
    error = fetch_error(fixture_server.url("/rss/news.xml"))
    assert time.monotonic() - started < 2
    assert error.code == "http_status"
    assert error.params["status"] == 503
    assert error.params["retry_after"] is None


def test_case23_html_page_returned_as_html(fixture_server):
    """Case 23 exchange 1 and FF-09: the result reports the HTML media type.

    The fetcher does not decide what is a feed. The feed parser rejects HTML.
    """
    page = "<!DOCTYPE html><html><body>請啟用 JavaScript</body></html>".encode()
    fixture_server.route(
        "/rss/news.xml",
        Response(200, {"Content-Type": "text/html; charset=utf-8"}, page),
    )
    result = fetch(fixture_server.url("/rss/news.xml"))
    assert result.content_type == "text/html"
    assert result.charset == "utf-8"
    assert result.body == page


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (404, None, None),
        (410, None, None),
        (500, None, None),
        (503, "86400", 86400),
        (429, "120", 120),
        (429, "5", 60),
        (503, "999999999", 86400),
        (503, "soon", None),
    ],
)
def test_ff10_error_statuses_carry_retry_after(
    fixture_server, status, retry_after, expected
):
    """FF-10: Retry-After is clamped to [60 s, 1 day]."""
    headers = {"Retry-After": retry_after} if retry_after else {}
    fixture_server.route("/rss/news.xml", Response(status, headers, b"error"))
    error = fetch_error(fixture_server.url("/rss/news.xml"))
    assert error.code == "http_status"
    assert error.params["status"] == status
    assert error.params["retry_after"] == expected


def test_retry_after_http_date():
    from datetime import UTC, datetime

    now = datetime(2024, 5, 3, 4, 0, tzinfo=UTC)
    value = "Fri, 03 May 2024 06:00:00 GMT"
    assert parse_retry_after(value, 60, 86400, now=now) == 7200
    past = "Fri, 03 May 2024 03:00:00 GMT"
    assert parse_retry_after(past, 60, 86400, now=now) == 60


# -- cases 37, 38, FF-01, FF-02, FF-04: redirects ---------------------------------------


def test_case37_redirect_loop_detected(fixture_server):
    """Case 37 and FF-02: 301 → 302 → back to the start."""
    fixture_server.route("/rss/news.xml", Response(301, {"Location": "/rss/news.xml/"}))
    fixture_server.route(
        "/rss/news.xml/",
        Response(302, {"Location": fixture_server.url("/rss/news.xml")}),
    )
    policy = loopback_policy()
    error = fetch_error(fixture_server.url("/rss/news.xml"), policy)
    assert error.code == "redirect_loop"
    assert len(fixture_server.requests) <= policy.max_redirects + 1
    assert fixture_server.hits("/rss/news.xml") == 1
    assert fixture_server.hits("/rss/news.xml/") == 1


def test_ff02_twenty_hop_chain_stops_at_limit(fixture_server):
    """FF-02: every hop is new, so only the hop limit stops the chain."""
    for hop in range(20):
        fixture_server.route(
            f"/hop/{hop}", Response(302, {"Location": f"/hop/{hop + 1}"})
        )
    policy = loopback_policy()
    error = fetch_error(fixture_server.url("/hop/0"), policy)
    assert error.code == "too_many_redirects"
    assert len(fixture_server.requests) == policy.max_redirects + 1


def test_redirect_limit_counts_whole_chain(fixture_server):
    for hop in range(3):
        fixture_server.route(
            f"/hop/{hop}", Response(301, {"Location": f"/hop/{hop + 1}"})
        )
    fixture_server.route("/hop/3", Response(200, RSS_HEADERS, BASELINE))
    assert (
        fetch(fixture_server.url("/hop/0"), loopback_policy(max_redirects=3)).status
        == 200
    )
    error = fetch_error(fixture_server.url("/hop/0"), loopback_policy(max_redirects=2))
    assert error.code == "too_many_redirects"


def test_case38_308_followed_and_reported_permanent(fixture_server):
    """Case 38"""
    fixture_server.route(
        "/rss/news.xml", Response(308, {"Location": "/rss/v2/news.xml"})
    )
    fixture_server.route("/rss/v2/news.xml", Response(200, RSS_HEADERS, BASELINE))
    result = fetch(fixture_server.url("/rss/news.xml"))
    new_url = fixture_server.url("/rss/v2/news.xml")
    assert result.status == 200
    assert result.body == BASELINE
    assert result.url == new_url
    assert result.permanent_redirect == new_url
    assert result.redirects == [(308, new_url)]


@pytest.mark.parametrize("status", [302, 303, 307])
def test_case38_temporary_redirect_never_permanent(fixture_server, status):
    """Case 38: 302, 303 and 307 are followed but never reported as a move."""
    fixture_server.route(
        "/rss/news.xml", Response(status, {"Location": "/rss/v2/news.xml"})
    )
    fixture_server.route("/rss/v2/news.xml", Response(200, RSS_HEADERS, BASELINE))
    result = fetch(fixture_server.url("/rss/news.xml"))
    assert result.body == BASELINE
    assert result.permanent_redirect is None
    assert result.redirects == [(status, fixture_server.url("/rss/v2/news.xml"))]


def test_case38_mixed_chain_not_permanent(fixture_server):
    fixture_server.route("/a", Response(301, {"Location": "/b"}))
    fixture_server.route("/b", Response(302, {"Location": "/c"}))
    fixture_server.route("/c", Response(200, RSS_HEADERS, BASELINE))
    result = fetch(fixture_server.url("/a"))
    assert [status for status, _ in result.redirects] == [301, 302]
    assert result.permanent_redirect is None


def test_ff04_move_to_other_host_reported(fixture_server, fake_dns):
    """FF-04: followed for this fetch, and the caller decides about storing it."""
    fake_dns.add("feeds.example.gov.tw", ["127.0.0.1"])
    target = fixture_server.url("/rss/news.xml", host="feeds.example.gov.tw")
    fixture_server.route("/old.xml", Response(301, {"Location": target}))
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    result = fetch(fixture_server.url("/old.xml"))
    assert result.url == target
    assert result.permanent_redirect == target
    moved = fixture_server.requests_for("/rss/news.xml")[0]
    assert moved.headers["host"] == f"feeds.example.gov.tw:{fixture_server.port}"


def test_redirect_without_location_is_an_error(fixture_server):
    fixture_server.route("/rss/news.xml", Response(302, {}, b""))
    error = fetch_error(fixture_server.url("/rss/news.xml"))
    assert error.code == "http_status"
    assert error.params["status"] == 302


@pytest.mark.parametrize(
    ("location", "cause"),
    [
        ("http://169.254.169.254/latest/meta-data/", "blocked_target"),
        ("http://127.0.0.1:{other}/", "port_not_allowed"),
        ("file:///etc/passwd", "scheme_not_allowed"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme_not_allowed"),
        ("http://[::1]:{port}/", "blocked_target"),
        ("http://10.0.0.5/rss", "blocked_target"),
        ("http://user:secret@127.0.0.1:{port}/rss", "credentials_in_url"),
    ],
    ids=[
        "metadata",
        "other-port",
        "file",
        "gopher",
        "ipv6-loopback",
        "private",
        "credentials",
    ],
)
def test_ff01_redirect_to_disallowed_target(
    fixture_server, connect_guard, location, cause
):
    """FF-01: the hop is refused before any connection to the target."""
    port = fixture_server.port
    connect_guard.allow.add(("127.0.0.1", port))
    fixture_server.route(
        "/rss/news.xml",
        Response(302, {"Location": location.format(port=port, other=port + 1)}),
    )
    policy = loopback_policy(allowed_ports={port})
    error = fetch_error(fixture_server.url("/rss/news.xml"), policy)
    assert error.code == "redirect_blocked"
    assert error.params["cause"] == cause
    assert connect_guard.blocked == []
    assert connect_guard.attempts == [("127.0.0.1", port)]
    assert "secret" not in str(error)


def test_ff01_redirect_to_name_resolving_privately(
    fixture_server, connect_guard, fake_dns
):
    """FF-01: the resolved address of the redirect target is checked too."""
    port = fixture_server.port
    connect_guard.allow.add(("127.0.0.1", port))
    fake_dns.add("intranet.example.gov.tw", ["10.0.0.5"])
    fixture_server.route(
        "/rss/news.xml",
        Response(302, {"Location": "http://intranet.example.gov.tw/rss"}),
    )
    policy = loopback_policy(respect_robots=True)
    error = fetch_error(fixture_server.url("/rss/news.xml"), policy)
    assert error.code == "redirect_blocked"
    assert error.params["cause"] == "blocked_target"
    assert connect_guard.blocked == []


# -- case 41: conditional GET -------------------------------------------------------


def test_case41_validators_sent_and_updated_from_304(fixture_server):
    """Case 41 exchanges 1 to 3."""
    modified = "Thu, 02 May 2024 01:00:00 GMT"
    fixture_server.route(
        "/rss/news.xml",
        [
            Response(
                200,
                {**RSS_HEADERS, "ETag": '"v1"', "Last-Modified": modified},
                BASELINE,
            ),
            Response(304, {"ETag": '"v2"', "Last-Modified": modified}),
            Response(304, {}),
        ],
    )
    url = fixture_server.url("/rss/news.xml")

    first = fetch(url)
    assert first.status == 200
    assert first.etag == '"v1"'
    assert first.last_modified == modified

    second = fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304
    assert second.body == b""
    assert second.etag == '"v2"'
    assert second.last_modified == modified

    third = fetch(url, etag=second.etag, last_modified=second.last_modified)
    assert third.status == 304
    assert third.etag is None

    requests = fixture_server.requests_for("/rss/news.xml")
    assert "if-none-match" not in requests[0].headers
    assert requests[1].headers["if-none-match"] == '"v1"'
    assert requests[1].headers["if-modified-since"] == modified
    assert requests[2].headers["if-none-match"] == '"v2"'


def test_case41_future_last_modified_not_sent(fixture_server):
    """Case 41 exchange 4: a validator from 2041 would freeze the feed."""
    bogus = "Sat, 16 Nov 2041 19:11:00 GMT"
    fixture_server.route(
        "/rss/news.xml", Response(304, {"Last-Modified": bogus, "ETag": f'"{bogus}"'})
    )
    result = fetch(fixture_server.url("/rss/news.xml"), last_modified=bogus)
    assert result.status == 304
    request = fixture_server.requests_for("/rss/news.xml")[0]
    assert "if-modified-since" not in request.headers


def test_validator_with_line_break_rejected(fixture_server):
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    with pytest.raises(ValueError):
        fetch(fixture_server.url("/rss/news.xml"), etag='"v1"\r\nX-Injected: 1')
    assert fixture_server.requests == []


# -- case 39: compression the client may not have asked for -------------------------


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(BASELINE)),
        ("x-gzip", gzip.compress(BASELINE)),
        ("deflate", zlib.compress(BASELINE)),
        ("deflate", raw_deflate(BASELINE)),
        ("gzip", gzip.compress(BASELINE[:500]) + gzip.compress(BASELINE[500:])),
        ("GZIP", gzip.compress(BASELINE)),
    ],
    ids=[
        "gzip",
        "x-gzip",
        "deflate-zlib",
        "deflate-raw",
        "gzip-two-members",
        "upper-case",
    ],
)
def test_case39_unrequested_compression_decoded(fixture_server, encoding, body):
    """Case 39"""
    fixture_server.route(
        "/rss/news.xml",
        Response(200, {**RSS_HEADERS, "Content-Encoding": encoding}, body),
    )
    result = fetch(fixture_server.url("/rss/news.xml"))
    assert result.body == BASELINE
    assert result.headers["content-encoding"] == encoding


def test_brotli_decoded_when_available(fixture_server):
    brotli = pytest.importorskip("brotli")
    fixture_server.route(
        "/rss/news.xml",
        Response(
            200, {**RSS_HEADERS, "Content-Encoding": "br"}, brotli.compress(BASELINE)
        ),
    )
    assert fetch(fixture_server.url("/rss/news.xml")).body == BASELINE


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b"this is not gzip at all"),
        ("gzip", gzip.compress(BASELINE)[:-20]),
        ("deflate", b"\x00\x01garbage"),
        ("compress", b"whatever"),
    ],
    ids=["not-gzip", "truncated-gzip", "bad-deflate", "unsupported"],
)
def test_broken_compression_is_protocol_error(fixture_server, encoding, body):
    fixture_server.route(
        "/rss/news.xml",
        Response(200, {**RSS_HEADERS, "Content-Encoding": encoding}, body),
    )
    assert fetch_error(fixture_server.url("/rss/news.xml")).code == "protocol_error"


def test_empty_body_labelled_gzip_is_empty(fixture_server):
    fixture_server.route(
        "/rss/news.xml", Response(200, {"Content-Encoding": "gzip"}, b"")
    )
    assert fetch(fixture_server.url("/rss/news.xml")).body == b""


def test_gzip_file_without_content_encoding_gunzipped(fixture_server):
    """Case 53 exchange 2, benign: application/gzip holding a feed."""
    fixture_server.route(
        "/rss/news.xml.gz",
        Response(200, {"Content-Type": "application/gzip"}, gzip.compress(BASELINE)),
    )
    result = fetch(fixture_server.url("/rss/news.xml.gz"))
    assert result.body == BASELINE
    assert result.content_type == "application/gzip"


def test_application_gzip_without_magic_passed_through(fixture_server):
    fixture_server.route(
        "/rss/news.xml", Response(200, {"Content-Type": "application/x-gzip"}, BASELINE)
    )
    assert fetch(fixture_server.url("/rss/news.xml")).body == BASELINE


# -- concurrency limits -------------------------------------------------------------


class ConcurrencyProbe:
    """A route handler that delays each request briefly and counts overlap."""

    def __init__(self, hold: float = 0.3) -> None:
        self.hold = hold
        self.current = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        time.sleep(self.hold)
        with self.lock:
            self.current -= 1
        return Response(200, RSS_HEADERS, BASELINE)


def run_concurrently(policy: FetchPolicy, urls: list[str]) -> None:
    async def run() -> None:
        async with Fetcher(policy) as fetcher:
            await asyncio.gather(*(fetcher.get(url) for url in urls))

    asyncio.run(run())


def test_per_host_limit(fixture_server):
    probe = ConcurrencyProbe()
    fixture_server.route("/rss/news.xml", probe)
    urls = [fixture_server.url(f"/rss/news.xml?n={n}") for n in range(6)]
    run_concurrently(loopback_policy(per_host_limit=2), urls)
    assert probe.peak == 2
    assert fixture_server.hits("/rss/news.xml") == 6


def test_global_limit(fixture_server, fake_dns):
    probe = ConcurrencyProbe()
    fixture_server.route("/rss/news.xml", probe)
    hosts = [f"agency{n}.example.gov.tw" for n in range(6)]
    for host in hosts:
        fake_dns.add(host, ["127.0.0.1"])
    urls = [fixture_server.url("/rss/news.xml", host=host) for host in hosts]
    run_concurrently(loopback_policy(concurrency=3), urls)
    assert probe.peak == 3


# -- misuse -------------------------------------------------------------------------


def test_get_outside_context_manager_raises():
    async def run() -> None:
        await Fetcher(loopback_policy()).get("https://www.example.gov.tw/rss")

    with pytest.raises(RuntimeError):
        asyncio.run(run())


def test_refused_connection_is_connect_failed(fixture_server):
    port = fixture_server.port
    fixture_server.close()
    error = fetch_error(f"http://127.0.0.1:{port}/rss/news.xml")
    assert error.code == "connect_failed"


def test_truncated_body_is_protocol_error(fixture_server):
    fixture_server.route(
        "/rss/news.xml", Response(200, {"Content-Length": "10"}, b"short")
    )
    error = fetch_error(fixture_server.url("/rss/news.xml"))
    assert isinstance(error, SourceError)
    assert error.code == "protocol_error"
