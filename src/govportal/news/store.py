"""Storing parsed feed entries as news items: one item per story.

Identity of a story, in order: the feed's own guid (scoped to that feed), the
link with tracking parameters removed (shared by all feeds, so the same story
from two feeds is shown once), else the title with the date. The feed that
first carried a story owns its text: another feed carrying the same link is
recorded beside it but never overwrites it.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from govportal.agencies.models import Agency
from govportal.feeds.models import Feed
from govportal.lib.feedparse.types import ParsedEntry, ParsedFeed
from govportal.lib.urlnorm import story_key
from govportal.news.bulk import insert_rows
from govportal.news.models import FeedEntry, NewsItem

logger = logging.getLogger(__name__)

# A date this far ahead of the fetch is a future date; less is clock skew.
FUTURE_TOLERANCE = timedelta(minutes=10)
TAIWAN_OFFSET = timedelta(hours=8)


@dataclass
class StoreResult:
    seen: int = 0
    new: int = 0
    updated: int = 0
    skipped_old: int = 0


@dataclass
class _Candidate:
    entry: ParsedEntry
    guid: str
    link_key: str
    title_key: str
    published: datetime | None
    content_hash: str
    flags: list[str]


def measure_gmt_means_local(entries: list[ParsedEntry], now: datetime) -> bool:
    """Tell whether a feed's "GMT" dates are really Taiwan local time.

    Some agency CMSs print local time with a GMT label, which puts fresh items
    up to eight hours in the future. One file cannot prove it, so the sign is
    that GMT-labelled dates run ahead of the fetch by less than eight hours
    while none runs further ahead.
    """
    ahead = [
        e.published - now
        for e in entries
        if e.published is not None and e.published_says_gmt
    ]
    if not ahead:
        return False
    within = [a for a in ahead if FUTURE_TOLERANCE < a <= TAIWAN_OFFSET]
    beyond = [a for a in ahead if a > TAIWAN_OFFSET + FUTURE_TOLERANCE]
    return bool(within) and not beyond


def _title_key(title: str, published: datetime | None) -> str:
    stamp = published.isoformat() if published else ""
    return hashlib.sha256(f"{title}\x1f{stamp}".encode()).hexdigest()


def _content_hash(entry: ParsedEntry, link: str, published: datetime | None) -> str:
    parts = [
        entry.title,
        link,
        entry.summary_html,
        published.isoformat() if published else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _prepare(
    feed: Feed, parsed: ParsedFeed, now: datetime, result: StoreResult
) -> list[_Candidate]:
    window_start = now - timedelta(days=settings.NEWS_FETCH_WINDOW_DAYS)
    candidates: list[_Candidate] = []
    seen_keys: set[str] = set()
    for entry in parsed.entries:
        result.seen += 1
        published = entry.published
        flags = list(entry.flags)
        if published is not None and feed.gmt_means_local and entry.published_says_gmt:
            published = published - TAIWAN_OFFSET
            flags.append("GMT read as local time")
        if published is not None and published < window_start:
            result.skipped_old += 1
            continue

        link = entry.link or ""
        link_key = story_key(link) if link else ""
        guid = (entry.guid or "").strip()[:500]
        title_key = "" if (guid or link_key) else _title_key(entry.title, published)
        identity = guid or link_key or title_key
        if identity in seen_keys:
            continue
        seen_keys.add(identity)
        candidates.append(
            _Candidate(
                entry=entry,
                guid=guid,
                link_key=link_key,
                title_key=title_key,
                published=published,
                content_hash=_content_hash(entry, link, published),
                flags=flags,
            )
        )
    return candidates


def _display_date(
    published: datetime | None, first_seen: datetime, flags: list[str]
) -> datetime:
    """Pick the date the site sorts by: a future or missing date never leads."""
    if published is None:
        flags.append("missing date")
        return first_seen
    if published > first_seen + FUTURE_TOLERANCE:
        flags.append("future date")
        return first_seen
    return published


def store_parsed_feed(
    feed: Feed,
    parsed: ParsedFeed,
    now: datetime,
    agencies_by_oid: dict[str, int] | None = None,
) -> StoreResult:
    """Insert new stories of one fetch and update changed ones; delete nothing."""
    result = StoreResult()
    candidates = _prepare(feed, parsed, now, result)
    if not candidates:
        return result
    oids = agencies_by_oid if agencies_by_oid is not None else {}

    with transaction.atomic():
        by_guid = {
            fe.guid: fe
            for fe in FeedEntry.objects.filter(
                feed=feed, guid__in=[c.guid for c in candidates if c.guid]
            ).select_related("item")
        }
        link_keys = [c.link_key for c in candidates if c.link_key]
        by_link: dict[str, NewsItem] = {}
        for linked in NewsItem.objects.filter(link_key__in=link_keys).order_by("id"):
            by_link.setdefault(linked.link_key, linked)
        title_keys = [c.title_key for c in candidates if c.title_key]
        by_title = {
            titled.title_key: titled
            for titled in NewsItem.objects.filter(title_key__in=title_keys)
        }
        linked_item_ids = set(
            FeedEntry.objects.filter(
                feed=feed,
                item_id__in=[i.id for i in [*by_link.values(), *by_title.values()]],
            ).values_list("item_id", flat=True)
        ) | {fe.item_id for fe in by_guid.values()}

        new_items: list[tuple[NewsItem, str]] = []
        changed: list[NewsItem] = []
        new_links: list[FeedEntry] = []
        seen_ids: list[int] = []
        for c in candidates:
            item = None
            if c.guid and c.guid in by_guid:
                item = by_guid[c.guid].item
            elif c.link_key:
                item = by_link.get(c.link_key)
            elif c.title_key:
                item = by_title.get(c.title_key)

            agency_id = oids.get(c.entry.author_oid or "", feed.agency_id)
            if item is None:
                flags = list(c.flags)
                item = NewsItem(
                    agency_id=agency_id,
                    origin_feed=feed,
                    title=c.entry.title[:500],
                    link=c.entry.link or "",
                    link_key=c.link_key,
                    title_key=c.title_key,
                    summary_html=c.entry.summary_html,
                    source_published_at=c.published,
                    first_seen_at=now,
                    updated_at=now,
                    content_hash=c.content_hash,
                )
                item.published_at = _display_date(c.published, now, flags)
                item.flags = flags
                new_items.append((item, c.guid))
                if c.link_key:
                    by_link[c.link_key] = item
                continue

            if item.id not in linked_item_ids:
                new_links.append(
                    FeedEntry(
                        feed=feed,
                        item=item,
                        guid=c.guid,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                )
                linked_item_ids.add(item.id)
            else:
                seen_ids.append(item.id)
            owned = item.origin_feed_id in (None, feed.id)
            if owned and item.content_hash != c.content_hash:
                flags = list(c.flags)
                item.title = c.entry.title[:500]
                item.link = c.entry.link or ""
                item.link_key = c.link_key
                item.summary_html = c.entry.summary_html
                item.source_published_at = c.published
                item.agency_id = agency_id
                # The first-seen time stays the anchor for a missing or future date.
                item.published_at = _display_date(
                    c.published, item.first_seen_at, flags
                )
                item.flags = flags
                item.content_hash = c.content_hash
                item.updated_at = now
                changed.append(item)

        _insert_items(new_items, feed, now)
        insert_rows(
            FeedEntry,
            ENTRY_FIELDS,
            [(feed.id, link.item_id, link.guid, now, now) for link in new_links],
        )
        if changed:
            NewsItem.objects.bulk_update(
                changed,
                [
                    "title",
                    "link",
                    "link_key",
                    "summary_html",
                    "source_published_at",
                    "agency",
                    "published_at",
                    "flags",
                    "content_hash",
                    "updated_at",
                ],
            )
        if seen_ids:
            FeedEntry.objects.filter(feed=feed, item_id__in=seen_ids).update(
                last_seen_at=now
            )

    result.new = len(new_items)
    result.updated = len(changed)
    return result


ITEM_FIELDS = [
    "agency",
    "origin_feed",
    "title",
    "link",
    "link_key",
    "title_key",
    "summary_html",
    "published_at",
    "source_published_at",
    "first_seen_at",
    "updated_at",
    "content_hash",
    "flags",
]
ENTRY_FIELDS = ["feed", "item", "guid", "first_seen_at", "last_seen_at"]


def _insert_items(
    new_items: list[tuple[NewsItem, str]], feed: Feed, now: datetime
) -> None:
    """Insert new stories and the feed's entries for them, in two statements."""
    if not new_items:
        return
    rows = [
        (
            item.agency_id,
            feed.id,
            item.title,
            item.link,
            item.link_key,
            item.title_key,
            item.summary_html,
            item.published_at,
            item.source_published_at,
            item.first_seen_at,
            item.updated_at,
            item.content_hash,
            item.flags,
        )
        for item, _ in new_items
    ]
    ids = insert_rows(NewsItem, ITEM_FIELDS, rows, returning_ids=True)
    for (item, _), new_id in zip(new_items, ids, strict=True):
        item.id = new_id
    insert_rows(
        FeedEntry,
        ENTRY_FIELDS,
        [(feed.id, item.id, guid, now, now) for item, guid in new_items],
    )


def agency_ids_by_oid(oids: set[str]) -> dict[str, int]:
    """Map the OIDs that feed entries name to agency ids, in one query."""
    oids.discard("")
    if not oids:
        return {}
    rows = Agency.objects.filter(oid__in=oids).values_list("oid", "id")
    return {oid: agency_id for oid, agency_id in rows if oid}


def purge_expired(now: datetime) -> int:
    """Delete news older than the retention period; return how many went."""
    cutoff = now - timedelta(days=settings.NEWS_RETENTION_DAYS)
    _, per_model = NewsItem.objects.filter(published_at__lt=cutoff).delete()
    deleted = per_model.get(NewsItem._meta.label, 0)
    logger.info("news purged items=%d cutoff=%s", deleted, cutoff.isoformat())
    return deleted
