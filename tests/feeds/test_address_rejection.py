"""Feed addresses the portal never fetches are rejected before any connection.

These run with the production setting: no network is allowed beyond the
global internet, so every case must fail on the address text alone.
"""

import socket

import pytest
from django.core.management import CommandError, call_command

from govportal.feeds.models import Feed


@pytest.fixture(autouse=True)
def no_dns_or_connect(monkeypatch):
    def fail_on_network(*args, **kwargs):
        raise AssertionError(f"network used: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", fail_on_network)
    monkeypatch.setattr(socket.socket, "connect", fail_on_network)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "C:\\Windows\\win.ini",
        "../../settings.py",
        "gopher://127.0.0.1:6379/_INFO",
        "dict://127.0.0.1:11211/stat",
        "ftp://x.test/f",
        "data:text/xml,<rss/>",
        "feed:http://x.test/",
        "https://user:pass@gov-feed.test/rss",
        "http://gov-feed.test:6379/rss",
        "http://gov-feed.test:22/rss",
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://2130706433/rss",
        "http://x.test/rss%0d%0aX-Injected: 1",
        "http://x.test/rss\r\nX-Injected: 1",
        " http://x.test/rss",
        "http://x.test/" + "a" * 100_000,
    ],
)
def test_feeds_add_rejects_bad_address(db, settings, url):
    from govportal.agencies.models import Agency

    settings.FETCH_ALLOWED_NETWORKS = []
    agency = Agency.objects.create(code="376420000A", name_zh="範例縣政府")
    with pytest.raises(CommandError) as raised:
        call_command("feeds", "add", agency.code, url)
    assert Feed.objects.count() == 0
    message = str(raised.value)
    assert len(message) < 700
    assert ":pass@" not in message
    assert "\r\n" not in message
