"""Shared fixtures data and small builders for the feed parser tests."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
RSS_CASES = REPOSITORY / "tests" / "cases" / "rss"
REAL_FEEDS = REPOSITORY / "src" / "govportal" / "demo" / "data" / "feeds"

# The address the INDEX.md cases are served from.
FEED_URL = "https://www.example.gov.tw/rss/news.xml"
TAIPEI = timezone(timedelta(hours=8))


def case_bytes(name: str) -> bytes:
    return (RSS_CASES / name).read_bytes()


@dataclass
class HttpResponse:
    """The response of a .http.txt case: media type, charset and body bytes."""

    content_type: str
    charset: str | None
    body: bytes


def http_response(name: str) -> HttpResponse:
    """Read the first response of a .http.txt case and load its body file."""
    text = (RSS_CASES / name).read_text(encoding="utf-8")
    header = re.search(
        r"^\s*Content-Type:\s*([^;\s]+)(?:;\s*charset=(\S+))?", text, re.M
    )
    body = re.search(r"<body = exact bytes of rss-cases/(\S+?)>", text)
    assert header is not None, f"{name} has no Content-Type line"
    assert body is not None, f"{name} names no body file"
    return HttpResponse(header[1], header[2], case_bytes(body[1]))


def real_feed_bytes(name: str) -> bytes:
    return (REAL_FEEDS / name).read_bytes()


def taipei(*args: int) -> datetime:
    """Return an aware datetime at +08:00: taipei(2024, 5, 2, 9, 0)."""
    return datetime(*args, tzinfo=TAIPEI)


def item_link(number: int, sms: bool = True) -> str:
    query = f"n=12&sms=34&s={number}" if sms else f"n=12&s={number}"
    return f"https://www.example.gov.tw/News_Content.aspx?{query}"


def rss(
    items: str, channel_extra: str = "", prolog: str = "", doctype: str = ""
) -> bytes:
    """Return a small RSS 2.0 document around ``items`` as UTF-8 bytes."""
    head = prolog or '<?xml version="1.0" encoding="utf-8"?>\n'
    return (
        f'{head}{doctype}<rss version="2.0"><channel><title>測試頻道</title>'
        f"<link>https://www.example.gov.tw/</link>{channel_extra}{items}"
        "</channel></rss>"
    ).encode()


def rss_item(
    title: str = "測試標題",
    link: str = "https://www.example.gov.tw/News_Content.aspx?n=12&amp;s=1",
    description: str = "說明",
    pub_date: str = "Thu, 02 May 2024 09:00:00 +0800",
    extra: str = "",
) -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f"<description>{description}</description>"
        f"<pubDate>{pub_date}</pubDate>{extra}</item>"
    )
