"""Replaying saved agency feeds as if the agencies published them today.

The saved feeds are months or years old, and the portal keeps only the last
seven days. So the replay moves every date in a feed by one offset, which
makes the newest item an hour old and keeps the spacing between items. Each date is
rewritten in the format it was written in, and everything else in the file is
served byte for byte.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

TAIPEI = timezone(timedelta(hours=8))
FEEDS_DIR = Path(__file__).resolve().parent / "data" / "feeds"


@dataclass(frozen=True)
class DemoFeed:
    """A saved feed, the agency that publishes it and the path it is served at."""

    file: str
    agency_code: str
    path: str
    content_type: str


DEMO_FEEDS = [
    DemoFeed(
        "ey-ministry-news-2026-07-20.xml",
        "A00000000A",
        "/ey/RSS_Content.aspx?ModuleType=4",
        "application/rss+xml; charset=utf-8",
    ),
    DemoFeed(
        "mohw-focus-news-2021-05-26.xml",
        "A21000000I",
        "/mohw/rss-16-1.html",
        "text/xml; charset=utf-8",
    ),
    DemoFeed(
        "cdc-news-2016-10.xml",
        "A21010000I",
        "/cdc/RSS/RssXml/Hh094B49-DRwe2RR4eFfrQ",
        "application/rss+xml; charset=utf-8",
    ),
    DemoFeed(
        "president-news-api-2026-07-18.json",
        "200000000A",
        "/president/Handler/GetNews.ashx",
        "application/json; charset=utf-8",
    ),
]

# Each pattern finds one date format; its reader returns an aware datetime and
# its writer prints one back in the same format.
RFC822 = re.compile(
    r"(?<=>)(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} \w{3} \d{4} "
    r"\d{2}:\d{2}:\d{2} (?:GMT|[+-]\d{4})(?=<)"
)
ISO8601 = re.compile(
    r"(?<=>)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})(?=<)"
)
SLASH_AMPM = re.compile(
    r'(?<=")(\d{4})/(\d{1,2})/(\d{1,2}) (上午|下午) (\d{2}):(\d{2}):(\d{2})(?=")'
)


def _read_rfc822(match: re.Match[str]) -> datetime:
    return parsedate_to_datetime(match.group(0))


def _write_rfc822(original: re.Match[str], moment: datetime) -> str:
    text = original.group(0)
    if text.endswith("GMT"):
        return format_datetime(moment.astimezone(UTC), usegmt=True)
    offset = text[-5:]
    sign = 1 if offset[0] == "+" else -1
    zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
    return format_datetime(moment.astimezone(zone))


def _read_iso(match: re.Match[str]) -> datetime:
    return datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))


def _write_iso(original: re.Match[str], moment: datetime) -> str:
    text = original.group(0)
    if text.endswith("Z"):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    zone = datetime.fromisoformat(text).tzinfo
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _read_slash(match: re.Match[str]) -> datetime:
    year, month, day, half, hour, minute, second = match.groups()
    hour_24 = int(hour) % 12 + (12 if half == "下午" else 0)
    return datetime(
        int(year),
        int(month),
        int(day),
        hour_24,
        int(minute),
        int(second),
        tzinfo=TAIPEI,
    )


def _write_slash(original: re.Match[str], moment: datetime) -> str:
    local = moment.astimezone(TAIPEI)
    half = "下午" if local.hour >= 12 else "上午"
    hour_12 = local.hour % 12 or 12
    return (
        f"{local.year}/{local.month}/{local.day} {half} "
        f"{hour_12:02d}:{local.minute:02d}:{local.second:02d}"
    )


FORMATS: list[
    tuple[
        re.Pattern[str],
        Callable[[re.Match[str]], datetime],
        Callable[[re.Match[str], datetime], str],
    ]
] = [
    (RFC822, _read_rfc822, _write_rfc822),
    (ISO8601, _read_iso, _write_iso),
    (SLASH_AMPM, _read_slash, _write_slash),
]


def newest_date(text: str) -> datetime | None:
    """Return the newest item date; the channel's build date does not count."""
    found = [
        read(m)
        for pattern, read, _ in FORMATS
        for m in pattern.finditer(text)
        if not text.endswith("<lastBuildDate>", 0, m.start())
    ]
    return max(found) if found else None


def shift_dates(text: str, now: datetime, age: timedelta = timedelta(hours=1)) -> str:
    """Move every date in a feed so the newest is ``age`` before ``now``."""
    newest = newest_date(text)
    if newest is None:
        return text
    offset = (now - age) - newest
    for pattern, read, write in FORMATS:
        text = pattern.sub(_shifter(read, write, offset), text)
    return text


def _shifter(
    read: Callable[[re.Match[str]], datetime],
    write: Callable[[re.Match[str], datetime], str],
    offset: timedelta,
) -> Callable[[re.Match[str]], str]:
    return lambda match: write(match, read(match) + offset)


def replay_body(feed: DemoFeed, now: datetime) -> bytes:
    text = (FEEDS_DIR / feed.file).read_text(encoding="utf-8")
    return shift_dates(text, now).encode("utf-8")
