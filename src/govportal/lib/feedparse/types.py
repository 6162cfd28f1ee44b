"""Feed parser results: plain data, no Django."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ParsedEntry:
    title: str
    link: str | None
    guid: str | None
    summary_html: str
    # Aware datetime, or None when the feed gave no usable date.
    published: datetime | None
    # True when the date string named GMT/UTC explicitly (see Feed.gmt_means_local).
    published_says_gmt: bool = False
    # OID of the agency that wrote the item (行政院 aggregated feed: author/dc:creator).
    author_oid: str | None = None
    author: str | None = None
    flags: list[str] = field(default_factory=list)
    # Category labels, at most 20 of at most 100 characters each.
    categories: list[str] = field(default_factory=list)


@dataclass
class ParsedFeed:
    kind: str  # "rss2", "rss1", "rss09", "atom", "json"
    title: str
    link: str | None
    entries: list[ParsedEntry]
    encoding: str
    flags: list[str] = field(default_factory=list)
