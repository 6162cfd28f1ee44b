"""Turn raw item fields from any format into clean ``ParsedEntry`` objects.

The format readers (RSS/Atom in ``xmlfeed``, JSON in ``jsonfeed``) only find
strings. Cleaning, capping, link checks, date parsing and identity hints are
done here once, so every format goes through the same rules.
"""

import re
from dataclasses import dataclass, field
from operator import attrgetter

from govportal.lib.dates import UNPARSEABLE, parse_date
from govportal.lib.feedparse.types import ParsedEntry
from govportal.lib.sanitize import sanitize_html
from govportal.lib.textclean import clean_text, html_to_text, truncate
from govportal.lib.urlnorm import clean_link

MAX_TITLE_CHARS = 500
# A title derived from the description is cut shorter than a real title.
MAX_DERIVED_TITLE_CHARS = 100
# FeedEntry.guid has max_length=500. A longer guid is dropped, not cut,
# because two cut guids could collide.
MAX_GUID_CHARS = 500
MAX_AUTHOR_CHARS = 200
MAX_CATEGORIES = 20
MAX_CATEGORY_CHARS = 100
# Raw title sources are cut before cleaning so a 50 MB title costs little.
_MAX_TITLE_SOURCE = 20 * MAX_TITLE_CHARS
# Raw guids longer than this are dropped without cleaning.
_MAX_GUID_SOURCE = 4 * MAX_GUID_CHARS

LINK_REJECTED = "link rejected"
TITLE_TRUNCATED = "title truncated"
TITLE_FROM_DESCRIPTION = "title derived from description"
SUMMARY_TRUNCATED = "description truncated"
GUID_TOO_LONG = "guid too long"
DUPLICATE_GUID = "duplicate guid"
ENTRIES_CAPPED = "entries capped"
ENTRIES_SKIPPED = "entries without title skipped"

# An ISO/ITU object identifier, as the 行政院 feed puts in author/dc:creator.
_OID_RE = re.compile(r"\d+(?:\.\d+)+")


@dataclass(slots=True)
class RawEntry:
    """Strings found in one item, before any cleaning."""

    title: str = ""
    # False only for Atom type="text" titles, which are plain text by spec.
    title_is_html: bool = True
    # Link candidates in order of preference.
    links: list[str] = field(default_factory=list)
    guid: str | None = None
    summary: str = ""
    summary_is_html: bool = True
    # Date strings in order of preference (for RSS: pubDate, dc:date, updated).
    dates: list[str] = field(default_factory=list)
    # Author names or agency OIDs in order of preference.
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    # An explicit xml:base, which overrides the item link and feed URL as the
    # base for relative links. None when the document gives none.
    base_url: str | None = None


@dataclass(slots=True)
class FeedContext:
    """Per-document settings and the document-level flags being collected."""

    feed_url: str | None
    channel_link: str | None
    default_tz: str
    flags: list[str] = field(default_factory=list)

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)


def build_entry(raw: RawEntry, context: FeedContext) -> ParsedEntry | None:
    """Clean one raw item. Returns None for an item with nothing to show."""
    flags: list[str] = []
    base = raw.base_url or context.feed_url

    link, link_rejected = _first_link(raw.links, base)
    if link_rejected and link is None:
        flags.append(LINK_REJECTED)

    summary_base = raw.base_url or link or context.feed_url or context.channel_link
    if raw.summary_is_html:
        summary_html, cut = sanitize_html(raw.summary, summary_base)
    else:
        summary_html, cut = sanitize_html(_escape_text(raw.summary), summary_base)
    if cut:
        flags.append(SUMMARY_TRUNCATED)

    title = _clean_title(raw)
    if len(title) > MAX_TITLE_CHARS:
        title = truncate(title, MAX_TITLE_CHARS)
        flags.append(TITLE_TRUNCATED)
    if not title and summary_html:
        title = html_to_text(summary_html, MAX_DERIVED_TITLE_CHARS)
        if title:
            flags.append(TITLE_FROM_DESCRIPTION)
    if not title:
        context.flag(ENTRIES_SKIPPED)
        return None

    guid = _clean_guid(raw.guid)
    if guid is None and raw.guid and raw.guid.strip():
        flags.append(GUID_TOO_LONG)

    published = None
    says_gmt = False
    for text in raw.dates:
        parsed = parse_date(text, context.default_tz)
        if parsed.value is None:
            if UNPARSEABLE not in flags:
                flags.append(UNPARSEABLE)
            continue
        published, says_gmt = parsed.value, parsed.says_gmt
        flags.extend(f for f in parsed.flags if f not in flags)
        break

    author, author_oid = _authors(raw.authors)
    categories = _categories(raw.categories)
    return ParsedEntry(
        title=title,
        link=link,
        guid=guid,
        summary_html=summary_html,
        published=published,
        published_says_gmt=says_gmt,
        author_oid=author_oid,
        author=author,
        flags=flags,
        categories=categories,
    )


def finalize_entries(
    entries: list[ParsedEntry],
    context: FeedContext,
    max_entries: int,
    more_available: bool,
) -> list[ParsedEntry]:
    """Clear duplicate guids, sort newest first and keep ``max_entries``.

    A guid that appears on several items of one document identifies none of
    them, so it is set to None on all of them. Dated entries come first,
    newest first, and entries without a date follow in document order. Feeds
    list their newest items first, so an undated item is usually recent, but
    it cannot push a dated item out of the cap. ``more_available`` is True when
    the reader stopped before the end of the document.
    """
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.guid is not None:
            counts[entry.guid] = counts.get(entry.guid, 0) + 1
    if any(count > 1 for count in counts.values()):
        context.flag(DUPLICATE_GUID)
        for entry in entries:
            if entry.guid is not None and counts[entry.guid] > 1:
                entry.guid = None
                entry.flags.append(DUPLICATE_GUID)

    dated = [e for e in entries if e.published is not None]
    undated = [e for e in entries if e.published is None]
    dated.sort(key=attrgetter("published"), reverse=True)
    ordered = dated + undated
    if len(ordered) > max_entries or more_available:
        context.flag(ENTRIES_CAPPED)
    return ordered[:max_entries]


def _clean_title(raw: RawEntry) -> str:
    source = raw.title[:_MAX_TITLE_SOURCE]
    if raw.title_is_html:
        return html_to_text(source, None)
    return clean_text(source)


def _clean_guid(text: str | None) -> str | None:
    """Return the cleaned guid, or None when it is empty or too long."""
    if not text or len(text) > _MAX_GUID_SOURCE:
        return None
    guid = clean_text(text)
    if not guid or len(guid) > MAX_GUID_CHARS:
        return None
    return guid


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _first_link(candidates: list[str], base: str | None) -> tuple[str | None, bool]:
    """Return the first usable link and whether a non-empty candidate was rejected."""
    rejected = False
    for candidate in candidates:
        if not candidate or not candidate.strip():
            continue
        link = clean_link(candidate, base)
        if link is not None:
            return link, rejected
        rejected = True
    return None, rejected


def _authors(candidates: list[str]) -> tuple[str | None, str | None]:
    author = None
    author_oid = None
    for candidate in candidates:
        text = html_to_text(candidate[:2000], MAX_AUTHOR_CHARS)
        if not text:
            continue
        if _OID_RE.fullmatch(text):
            if author_oid is None:
                author_oid = text
        elif author is None:
            author = text
    return author, author_oid


def _categories(candidates: list[str]) -> list[str]:
    categories: list[str] = []
    for candidate in candidates:
        text = html_to_text(candidate[:1000], MAX_CATEGORY_CHARS)
        if text and text not in categories:
            categories.append(text)
            if len(categories) == MAX_CATEGORIES:
                break
    return categories
