"""The entry point: bytes and HTTP header values in, a ``ParsedFeed`` out."""

from govportal.lib.errors import SourceError
from govportal.lib.feedparse.encoding import decode_body
from govportal.lib.feedparse.entries import FeedContext, build_entry, finalize_entries
from govportal.lib.feedparse.jsonfeed import parse_json_feed
from govportal.lib.feedparse.types import ParsedEntry, ParsedFeed
from govportal.lib.feedparse.xmlfeed import parse_xml_feed

# The readers keep max(SCAN_FACTOR * max_entries, MIN_SCAN) items in document
# order, and only those are sorted and capped. A million-item document costs no
# more than that many items.
# NOTE: a feed that lists oldest first and has more items than the limit loses
# its newest items. The sample agency feeds all list newest first.
SCAN_FACTOR = 5
MIN_SCAN = 1000

_JSON_MEDIA_SUFFIXES = ("/json", "+json")


def parse_feed(
    body: bytes,
    *,
    content_type: str | None = None,
    charset: str | None = None,
    url: str | None = None,
    default_tz: str = "Asia/Taipei",
    max_entries: int = 200,
) -> ParsedFeed:
    """Parse an RSS, Atom, JSON Feed or agency JSON export body.

    ``content_type`` and ``charset`` are the HTTP Content-Type media type and
    its charset parameter. The body decides the format, because servers often
    mislabel feeds. ``url`` is the feed address, used to resolve relative
    links. Times without a zone are read in ``default_tz``. At most
    ``max_entries`` entries are returned, newest first, and entries without a
    date follow the dated ones in document order.

    The parser never opens a file or a network connection. Raises SourceError
    with code "not_a_feed", "not_a_feed_html", "dtd_rejected", "truncated" or
    "malformed".
    """
    if max_entries < 1:
        raise ValueError(f"max_entries must be at least 1, got {max_entries}")
    if not body or not body.strip():
        raise SourceError("not_a_feed", "The response body is empty.")

    decoded = decode_body(body, charset)
    context = FeedContext(feed_url=url, channel_link=None, default_tz=default_tz)
    for flag in decoded.flags:
        context.flag(flag)
    text = decoded.text.lstrip(" \t\r\n\ufeff")
    scan_limit = max(SCAN_FACTOR * max_entries, MIN_SCAN)

    if text[:1] in ("{", "["):
        kind = "json"
        title, link, raw_entries, more = parse_json_feed(text, context, scan_limit)
    elif text[:1] == "<" or not _is_json_media_type(content_type):
        kind, title, link, raw_entries, more = parse_xml_feed(text, context, scan_limit)
    else:
        raise SourceError("not_a_feed", "The body labelled as JSON is not JSON.")

    entries: list[ParsedEntry] = []
    for raw in raw_entries:
        entry = build_entry(raw, context)
        if entry is not None:
            entries.append(entry)
    entries = finalize_entries(entries, context, max_entries, more)
    return ParsedFeed(
        kind=kind,
        title=title,
        link=link,
        entries=entries,
        encoding=decoded.encoding,
        flags=context.flags,
    )


def _is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.endswith(_JSON_MEDIA_SUFFIXES)
