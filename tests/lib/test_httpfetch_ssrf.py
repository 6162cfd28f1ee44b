"""Fetcher refuses internal targets before connecting, with DNS stubbed.

Every test here runs with ``connect_guard``, which fails any TCP connect
that the test did not allow, and ``fake_dns``, so no query leaves the
machine.
"""

import builtins

import pytest

from govportal.lib.httpfetch import FetchPolicy
from tests.lib import BASELINE, RSS_HEADERS, fetch, fetch_error, loopback_policy
from tests.support.fixture_server import Response

PRODUCTION = FetchPolicy()

CASE51_LITERALS = [
    ("http://127.0.0.1:8080/rss", "blocked_target"),
    ("http://localhost./rss", "blocked_target"),
    ("http://[::1]/rss", "blocked_target"),
    ("http://[::ffff:127.0.0.1]/rss", "blocked_target"),
    ("http://2130706433/rss", "blocked_target"),
    ("http://0x7f.0.0.1/rss", "blocked_target"),
    ("http://169.254.169.254/latest/meta-data/", "blocked_target"),
    ("http://metadata.google.internal/computeMetadata/v1/", "blocked_target"),
    ("http://10.0.0.5/rss", "blocked_target"),
    ("http://192.168.1.1/rss", "blocked_target"),
    ("http://100.64.0.1/rss", "blocked_target"),
    ("file:///etc/passwd", "scheme_not_allowed"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme_not_allowed"),
]


@pytest.mark.parametrize(("url", "code"), CASE51_LITERALS)
def test_case51_refused_before_dns_and_connect(connect_guard, fake_dns, url, code):
    """Case 51: literal and special-use targets need neither DNS nor a socket."""
    error = fetch_error(url, PRODUCTION)
    assert error.code == code
    assert connect_guard.attempts == []
    assert fake_dns.lookups == []


def test_case51_name_resolving_to_loopback(connect_guard, fake_dns):
    """Case 51: the decision uses the resolved address, not the URL text."""
    fake_dns.add("rss.internal-test.example", ["127.0.0.1"])
    error = fetch_error("http://rss.internal-test.example/", PRODUCTION)
    assert error.code == "blocked_target"
    assert error.params["addresses"] == ["127.0.0.1"]
    assert fake_dns.lookups == ["rss.internal-test.example"]
    assert connect_guard.attempts == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2/rss",
        "http://[::1]/rss",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/rss",
    ],
)
def test_case51_allow_list_is_loopback_only(connect_guard, url):
    """Case 51: the test-only relaxation is exactly 127.0.0.1/32."""
    assert fetch_error(url, loopback_policy()).code == "blocked_target"
    assert connect_guard.attempts == []


def test_fu01_file_url_never_opened(connect_guard, monkeypatch):
    """FU-01"""
    opened = []
    real_open = builtins.open

    def recording_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    error = fetch_error("file:///etc/passwd", PRODUCTION)
    assert error.code == "scheme_not_allowed"
    assert "/etc/passwd" not in opened
    assert connect_guard.attempts == []


@pytest.mark.parametrize(
    "url", ["/etc/passwd", "C:\\Windows\\win.ini", "../../settings.py"]
)
def test_fu02_paths_never_reach_feedparser(connect_guard, monkeypatch, url):
    """FU-02: feedparser.parse would open these as local files."""
    import feedparser

    def no_parse(*args, **kwargs):
        raise AssertionError("feedparser.parse must not see a raw URL")

    monkeypatch.setattr(feedparser, "parse", no_parse)
    assert fetch_error(url, PRODUCTION).code == "invalid_url"
    assert connect_guard.attempts == []


@pytest.mark.parametrize(
    "url",
    [
        "dict://127.0.0.1:11211/stat",
        "ftp://x.test/f",
        "ldap://x.test/",
        "jar:http://x.test/a!/b",
        "data:text/xml,<rss/>",
        "feed:http://x.test/",
    ],
)
def test_fu03_other_schemes_never_connect(connect_guard, fake_dns, url):
    """FU-03"""
    assert fetch_error(url, PRODUCTION).code == "scheme_not_allowed"
    assert connect_guard.attempts == []
    assert fake_dns.lookups == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
    ],
)
def test_fu04_fu05_local_targets_never_connect(connect_guard, fake_dns, url):
    """FU-04 and FU-05"""
    assert fetch_error(url, PRODUCTION).code == "blocked_target"
    assert connect_guard.attempts == []
    assert fake_dns.lookups == []


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "192.168.1.1",
        "172.16.0.1",
        "100.64.0.1",
        "198.18.0.1",
        "fc00::1",
        "fe80::1",
        "2001:db8::1",
        "169.254.169.254",
        "::ffff:10.0.0.5",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_fu07_names_resolving_to_private_addresses(connect_guard, fake_dns, address):
    """FU-07"""
    fake_dns.add("gov-feed.test", [address])
    error = fetch_error("https://gov-feed.test/rss", loopback_policy())
    assert error.code == "blocked_target"
    assert connect_guard.attempts == []


def test_fu08_mixed_answer_rejected(connect_guard, fake_dns):
    """FU-08: 203.0.113.10 is allowed by this policy, so only 127.0.0.1 blocks."""
    fake_dns.add("mixed.test", ["203.0.113.10", "127.0.0.1"])
    policy = FetchPolicy(allowed_networks=("203.0.113.0/24",))
    error = fetch_error("http://mixed.test/rss", policy)
    assert error.code == "blocked_target"
    assert error.params["addresses"] == ["127.0.0.1"]
    assert connect_guard.attempts == []


def test_fu10_unresolvable_host_fails_closed(connect_guard, fake_dns):
    """FU-10"""
    error = fetch_error("https://nxdomain.test/rss", PRODUCTION)
    assert error.code == "host_not_found"
    assert error.params["host"] == "nxdomain.test"
    assert fake_dns.lookups == ["nxdomain.test"]
    assert connect_guard.attempts == []


def test_fu12_credentials_never_sent(fixture_server, connect_guard):
    """FU-12: no Basic auth header, no request at all."""
    fixture_server.route("/rss", Response(200, RSS_HEADERS, BASELINE))
    url = f"http://agent007:s3cr3t@127.0.0.1:{fixture_server.port}/rss"
    error = fetch_error(url, loopback_policy())
    assert error.code == "credentials_in_url"
    assert "s3cr3t" not in str(error)
    assert fixture_server.requests == []
    assert connect_guard.attempts == []


@pytest.mark.parametrize("port", [6379, 22, 25])
def test_fu13_ports_refused_before_dns(connect_guard, fake_dns, port):
    """FU-13: without allowed networks no name may use another port."""
    fake_dns.add("gov-feed.test", ["198.51.100.7"])
    error = fetch_error(f"http://gov-feed.test:{port}/rss", PRODUCTION)
    assert error.code == "port_not_allowed"
    assert fake_dns.lookups == []
    assert connect_guard.attempts == []


def test_fu13_port_checked_against_resolved_address(connect_guard, fake_dns):
    """FU-13: an address outside the allowed networks keeps the port limit."""
    fake_dns.add("gov-feed.test", ["198.51.100.7"])
    policy = FetchPolicy(
        allowed_networks=("127.0.0.1/32", "198.51.100.0/24"), allowed_ports={8443}
    )
    error = fetch_error("http://gov-feed.test:6379/rss", policy)
    assert error.code == "port_not_allowed"
    assert fake_dns.lookups == ["gov-feed.test"]
    assert connect_guard.attempts == []


def test_fu14_injection_in_url_never_sent(fixture_server, connect_guard):
    """FU-14: the request is refused, so no header can be injected."""
    fixture_server.route("/rss", Response(200, RSS_HEADERS, BASELINE))
    base = fixture_server.url("/rss")
    for url in (f"{base}%0d%0aX-Injected:%201", f"{base}\r\nX-Injected: 1"):
        assert fetch_error(url, loopback_policy()).code == "invalid_url"
    assert fixture_server.requests == []
    assert connect_guard.attempts == []


def test_loopback_name_reaches_fixture_server(fixture_server, connect_guard, fake_dns):
    """The guard does let a name through when its address is allowed."""
    connect_guard.allow.add(("127.0.0.1", fixture_server.port))
    fake_dns.add("www.example.gov.tw", ["127.0.0.1"])
    fixture_server.route("/rss/news.xml", Response(200, RSS_HEADERS, BASELINE))
    url = fixture_server.url("/rss/news.xml", host="www.example.gov.tw")
    assert fetch(url, loopback_policy()).body == BASELINE
    assert connect_guard.attempts == [("127.0.0.1", fixture_server.port)]


def test_socket_check_blocks_unchecked_address(fixture_server, monkeypatch):
    """The last check, at socket creation, works without the URL check."""
    from govportal.lib import httpfetch

    monkeypatch.setattr(httpfetch, "check_url", lambda url, policy: httpfetch.URL(url))
    fixture_server.route("/rss", Response(200, RSS_HEADERS, BASELINE))
    error = fetch_error(fixture_server.url("/rss"), PRODUCTION)
    assert error.code == "blocked_target"
    assert error.detail == "connection to 127.0.0.1 is not allowed"
    assert fixture_server.requests == []
