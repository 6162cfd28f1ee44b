"""robots.txt handling in the Fetcher (case 46)."""

import asyncio
import itertools

import pytest

from govportal.lib.httpfetch import Fetcher
from govportal.lib.robots import RobotsCache, RobotsRules, product_token
from tests.lib import BASELINE, RSS_HEADERS, fetch, fetch_error, loopback_policy
from tests.support.fixture_server import Response

CASE46_ROBOTS = b"User-agent: *\nDisallow: /rss/internal/\nCrawl-delay: 10\n"
TEXT = {"Content-Type": "text/plain"}


def robots_policy(**overrides):
    settings = {"respect_robots": True, "crawl_delay_max": 0.3}
    settings.update(overrides)
    return loopback_policy(**settings)


@pytest.fixture
def case46_server(fixture_server):
    fixture_server.route("/robots.txt", Response(200, TEXT, CASE46_ROBOTS))
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    fixture_server.route(
        "/rss/internal/drafts.xml", Response(200, RSS_HEADERS, BASELINE)
    )
    yield fixture_server
    # The case treats any other path, such as /rss/news.xml/robots.txt, as a
    # test failure.
    assert fixture_server.unrouted == []
    assert fixture_server.hits("/rss/news.xml/robots.txt") == 0


def fetch_many(policy, urls, cache=None):
    async def run():
        async with Fetcher(policy, robots_cache=cache) as fetcher:
            return [await fetcher.get(url) for url in urls]

    return asyncio.run(run())


def test_case46_robots_from_host_root_only(case46_server):
    result = fetch(case46_server.url("/rss/news.xml"), robots_policy())
    assert result.body == BASELINE
    assert case46_server.hits("/robots.txt") == 1
    paths = [request.path for request in case46_server.requests]
    assert paths == ["/robots.txt", "/rss/news.xml"]


def test_case46_robots_cached_within_fetcher(case46_server):
    url = case46_server.url("/rss/news.xml")
    fetch_many(robots_policy(), [url, url, url])
    assert case46_server.hits("/robots.txt") == 1
    assert case46_server.hits("/rss/news.xml") == 3


def test_case46_shared_cache_survives_fetchers(case46_server):
    cache = RobotsCache()
    url = case46_server.url("/rss/news.xml")
    fetch(url, robots_policy(), robots_cache=cache)
    fetch(url, robots_policy(), robots_cache=cache)
    assert case46_server.hits("/robots.txt") == 1
    assert len(cache) == 1


def test_case46_cache_expires_after_a_day(case46_server):
    now = [1000.0]
    cache = RobotsCache(clock=lambda: now[0])
    url = case46_server.url("/rss/news.xml")
    fetch(url, robots_policy(), robots_cache=cache)
    now[0] += 24 * 3600 - 1
    fetch(url, robots_policy(), robots_cache=cache)
    assert case46_server.hits("/robots.txt") == 1
    now[0] += 1
    fetch(url, robots_policy(), robots_cache=cache)
    assert case46_server.hits("/robots.txt") == 2


def test_case46_concurrent_fetches_download_robots_once(case46_server):
    url = case46_server.url("/rss/news.xml")

    async def run():
        async with Fetcher(robots_policy(crawl_delay_max=0)) as fetcher:
            await asyncio.gather(*(fetcher.get(url) for _ in range(4)))

    asyncio.run(run())
    assert case46_server.hits("/robots.txt") == 1
    assert case46_server.hits("/rss/news.xml") == 4


def test_case46_disallowed_path_not_fetched(case46_server):
    error = fetch_error(case46_server.url("/rss/internal/drafts.xml"), robots_policy())
    assert error.code == "robots_disallowed"
    assert case46_server.hits("/rss/internal/drafts.xml") == 0


def test_case46_crawl_delay_spaces_requests(case46_server):
    """Crawl-delay 10 is capped by the policy (0.3 s here, 30 s by default)."""
    url = case46_server.url("/rss/news.xml")
    fetch_many(robots_policy(), [url, url, url])
    starts = [
        request.received_at for request in case46_server.requests_for("/rss/news.xml")
    ]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(gaps) == 2
    assert all(gap >= 0.28 for gap in gaps)


def test_case46_robots_ignored_when_disabled(case46_server):
    result = fetch(
        case46_server.url("/rss/internal/drafts.xml"),
        robots_policy(respect_robots=False),
    )
    assert result.body == BASELINE
    assert case46_server.hits("/robots.txt") == 0


def test_disallow_for_our_user_agent(fixture_server):
    fixture_server.route(
        "/robots.txt",
        Response(
            200,
            TEXT,
            b"User-agent: OtherBot\nDisallow:\n\nUser-agent: PortalBot\nDisallow: /\n",
        ),
    )
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    url = fixture_server.url("/rss/news.xml")
    mine = robots_policy(
        user_agent="PortalBot/1.0 (+https://portal.example.gov.tw/bot)"
    )
    assert fetch_error(url, mine).code == "robots_disallowed"
    other = robots_policy(user_agent="SomeoneElse/1.0")
    assert fetch(url, other).body == BASELINE


@pytest.mark.parametrize(
    "robots",
    [
        Response(404, {}, b"not found"),
        Response(403, {}, b"forbidden"),
        Response(500, {}, b"error"),
        Response(503, {"Retry-After": "3600"}, b"busy"),
        Response(
            200, {"Content-Type": "application/octet-stream"}, b"\x00\x01\x02\xff"
        ),
        Response(200, TEXT, b"<html><body>Welcome</body></html>"),
        Response(200, {"Content-Encoding": "gzip"}, b"not gzip"),
    ],
    ids=["404", "403", "500", "503", "binary", "html", "broken-gzip"],
)
def test_unusable_robots_means_allowed(fixture_server, robots):
    fixture_server.route("/robots.txt", robots)
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    assert fetch(fixture_server.url("/rss/news.xml"), robots_policy()).body == BASELINE


def test_robots_redirect_to_blocked_target_not_followed(fixture_server, connect_guard):
    connect_guard.allow.add(("127.0.0.1", fixture_server.port))
    fixture_server.route(
        "/robots.txt", Response(302, {"Location": "http://169.254.169.254/robots.txt"})
    )
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    assert fetch(fixture_server.url("/rss/news.xml"), robots_policy()).body == BASELINE
    assert connect_guard.blocked == []


def test_redirect_target_checked_against_its_own_robots(fixture_server, fake_dns):
    fake_dns.add("feeds.example.gov.tw", ["127.0.0.1"])
    target = fixture_server.url("/private/news.xml", host="feeds.example.gov.tw")
    fixture_server.route(
        "/robots.txt", Response(200, TEXT, b"User-agent: *\nDisallow: /private/\n")
    )
    fixture_server.route("/rss/news.xml", Response(301, {"Location": target}))
    error = fetch_error(fixture_server.url("/rss/news.xml"), robots_policy())
    assert error.code == "robots_disallowed"
    assert fixture_server.hits("/private/news.xml") == 0
    # One robots.txt per origin: 127.0.0.1:port and feeds.example.gov.tw:port.
    assert fixture_server.hits("/robots.txt") == 2


# -- robots.txt parsing ----------------------------------------------------------------


def test_product_token():
    assert (
        product_token("GovPortalFeedFetcher/0.1 (government portal)")
        == "GovPortalFeedFetcher"
    )
    assert product_token("PortalBot") == "PortalBot"


def test_rules_parse_case46_file():
    rules = RobotsRules.parse(CASE46_ROBOTS)
    agent = "GovPortalFeedFetcher/0.1"
    assert rules.can_fetch(agent, "https://www.example.gov.tw/rss/news.xml")
    assert not rules.can_fetch(
        agent, "https://www.example.gov.tw/rss/internal/drafts.xml"
    )
    assert rules.crawl_delay(agent) == 10.0


def test_rules_allow_all():
    rules = RobotsRules.allow_all()
    assert rules.can_fetch("x", "https://www.example.gov.tw/anything")
    assert rules.crawl_delay("x") is None


def test_rules_accept_byte_order_mark():
    rules = RobotsRules.parse(b"\xef\xbb\xbfUser-agent: *\nDisallow: /\n")
    assert not rules.can_fetch("x", "https://www.example.gov.tw/rss")
