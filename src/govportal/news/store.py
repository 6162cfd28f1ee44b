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
from typing import Any

from django.conf import settings
from django.db import transaction

from govportal.agencies.models import Agency
from govportal.core.bulk import insert_rows, update_rows
from govportal.feeds.models import Feed
from govportal.lib.feedparse.types import ParsedEntry, ParsedFeed
from govportal.lib.urlnorm import story_key
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
    return store_parsed_feeds([(feed, parsed)], now, agencies_by_oid)[feed.id]


def store_parsed_feeds(
    batch: list[tuple[Feed, ParsedFeed]],
    now: datetime,
    agencies_by_oid: dict[str, int] | None = None,
) -> dict[int, StoreResult]:
    """Store the entries of several fetches in one transaction; delete nothing.

    Feeds are handled in order, so a story that an earlier feed of the batch
    brought in is shared, not duplicated, by a later one. Returns a result per
    feed id.
    """
    results: dict[int, StoreResult] = {}
    prepared: list[tuple[Feed, list[_Candidate]]] = []
    for feed, parsed in batch:
        results[feed.id] = StoreResult()
        candidates = _prepare(feed, parsed, now, results[feed.id])
        if candidates:
            prepared.append((feed, candidates))
    if not prepared:
        return results

    with transaction.atomic():
        index = _StoryIndex(prepared)
        for feed, candidates in prepared:
            oids = agencies_by_oid or {}
            for candidate in candidates:
                index.apply(feed, candidate, now, oids, results[feed.id])
        index.write(now)
    return results


# Columns read for matching and updating a stored story.
MATCH_FIELDS = [
    "id",
    "link_key",
    "title_key",
    "content_hash",
    "origin_feed",
    "first_seen_at",
]
UPDATE_FIELDS = [
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
]
# Values per IN list, under SQLite's lowest limit of bound parameters.
IN_CHUNK = 900


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]


class _StoryIndex:
    """The stories a batch can match, loaded in a few queries, and the writes due."""

    def __init__(self, prepared: list[tuple[Feed, list[_Candidate]]]) -> None:
        feed_ids = [feed.id for feed, _ in prepared]
        guids = sorted({c.guid for _, cs in prepared for c in cs if c.guid})
        link_keys = sorted({c.link_key for _, cs in prepared for c in cs if c.link_key})
        title_keys = sorted(
            {c.title_key for _, cs in prepared for c in cs if c.title_key}
        )

        guid_item_ids: dict[tuple[int, str], int] = {}
        for chunk in _chunks(guids):
            rows = FeedEntry.objects.filter(
                feed_id__in=feed_ids, guid__in=chunk
            ).values_list("feed_id", "guid", "item_id")
            guid_item_ids.update({(f, g): i for f, g, i in rows})

        items: dict[int, NewsItem] = {}
        # Several agencies may carry one link; each keeps its own story.
        self.by_link: dict[str, list[NewsItem]] = {}
        self.by_title: dict[str, list[NewsItem]] = {}
        for chunk in _chunks(link_keys):
            query = NewsItem.objects.filter(link_key__in=chunk).only(*MATCH_FIELDS)
            for item in query.order_by("id"):
                items[item.id] = item
                self.by_link.setdefault(item.link_key, []).append(item)
        for chunk in _chunks(title_keys):
            query = NewsItem.objects.filter(title_key__in=chunk).only(*MATCH_FIELDS)
            for item in query.order_by("id"):
                items[item.id] = item
                self.by_title.setdefault(item.title_key, []).append(item)
        missing = sorted(set(guid_item_ids.values()) - set(items))
        for chunk in _chunks(missing):
            for item in NewsItem.objects.filter(id__in=chunk).only(*MATCH_FIELDS):
                items[item.id] = item
        self.by_guid = {key: items[i] for key, i in guid_item_ids.items() if i in items}

        # Which (feed, story) pairs already have an entry; new stories of this
        # batch are keyed by object identity until they have an id.
        self.linked: set[tuple[int, int]] = set()
        for chunk in _chunks(sorted(items)):
            self.linked.update(
                FeedEntry.objects.filter(
                    feed_id__in=feed_ids, item_id__in=chunk
                ).values_list("feed_id", "item_id")
            )

        agency_ids = {feed.agency_id for feed, _ in prepared}
        agency_ids |= {item.agency_id for item in items.values()}
        self.agency_oids: dict[int, str] = {
            agency_id: oid
            for agency_id, oid in Agency.objects.filter(id__in=agency_ids)
            .exclude(oid=None)
            .values_list("id", "oid")
            if oid
        }

        self.new_items: list[NewsItem] = []
        self.new_entries: list[tuple[int, NewsItem, str]] = []
        self.changed: list[NewsItem] = []
        self.seen: dict[int, list[int]] = {}

    def related(self, first: int, second: int) -> bool:
        """Tell whether two agencies are the same or one is under the other.

        The OID hierarchy follows the prefix: 行政院 is 2.16.886.101.20003 and
        its ministries are 2.16.886.101.20003.N.
        """
        if first == second:
            return True
        a, b = self.agency_oids.get(first), self.agency_oids.get(second)
        if not a or not b:
            return False
        return a.startswith(b + ".") or b.startswith(a + ".")

    def _find(
        self, feed: Feed, candidate: _Candidate, agency_id: int
    ) -> NewsItem | None:
        if candidate.guid:
            item = self.by_guid.get((feed.id, candidate.guid))
            if item is not None:
                return item
        # A link or title matches only a story of a related agency, so one
        # agency's feed cannot claim, or hide, another agency's story.
        for key, index in (
            (candidate.link_key, self.by_link),
            (candidate.title_key, self.by_title),
        ):
            for item in index.get(key, []) if key else []:
                if self.related(item.agency_id, agency_id):
                    return item
        return None

    def credited_agency(
        self, feed: Feed, candidate: _Candidate, oids: dict[str, int]
    ) -> int:
        """Return the agency an entry is credited to: the feed's, or one under it.

        An aggregated feed tags each item with the OID of the agency that wrote
        it. An OID outside the feed's own agency is ignored and flagged.
        """
        oid = candidate.entry.author_oid or ""
        agency_id = oids.get(oid)
        if agency_id is None:
            return feed.agency_id
        feed_oid = self.agency_oids.get(feed.agency_id)
        if agency_id == feed.agency_id or (feed_oid and oid.startswith(feed_oid + ".")):
            self.agency_oids[agency_id] = oid
            return agency_id
        candidate.flags.append("agency OID outside the feed's agency")
        return feed.agency_id

    def apply(
        self,
        feed: Feed,
        candidate: _Candidate,
        now: datetime,
        oids: dict[str, int],
        result: StoreResult,
    ) -> None:
        """Match one entry to a story, creating or updating it as needed."""
        agency_id = self.credited_agency(feed, candidate, oids)
        item = self._find(feed, candidate, agency_id)
        if item is None:
            self._create(feed, candidate, agency_id, now)
            result.new += 1
            return

        key = (feed.id, item.id if item.id is not None else id(item))
        if key not in self.linked:
            self.linked.add(key)
            self.new_entries.append((feed.id, item, candidate.guid))
        elif item.id is not None:
            self.seen.setdefault(feed.id, []).append(item.id)

        # Only the feed that first carried a story may change its text.
        owned = item.id is not None and item.origin_feed_id in (None, feed.id)
        if owned and item.content_hash != candidate.content_hash:
            self._update(item, candidate, agency_id, now)
            result.updated += 1

    def _create(
        self, feed: Feed, candidate: _Candidate, agency_id: int, now: datetime
    ) -> None:
        flags = list(candidate.flags)
        item = NewsItem(
            agency_id=agency_id,
            origin_feed_id=feed.id,
            title=candidate.entry.title[:500],
            link=candidate.entry.link or "",
            link_key=candidate.link_key,
            title_key=candidate.title_key,
            summary_html=candidate.entry.summary_html,
            source_published_at=candidate.published,
            first_seen_at=now,
            updated_at=now,
            content_hash=candidate.content_hash,
        )
        item.published_at = _display_date(candidate.published, now, flags)
        item.flags = flags
        self.new_items.append(item)
        self.new_entries.append((feed.id, item, candidate.guid))
        self.linked.add((feed.id, id(item)))
        if candidate.guid:
            self.by_guid[(feed.id, candidate.guid)] = item
        if candidate.link_key:
            self.by_link.setdefault(candidate.link_key, []).insert(0, item)
        if candidate.title_key:
            self.by_title.setdefault(candidate.title_key, []).insert(0, item)

    def _update(
        self, item: NewsItem, candidate: _Candidate, agency_id: int, now: datetime
    ) -> None:
        flags = list(candidate.flags)
        item.title = candidate.entry.title[:500]
        item.link = candidate.entry.link or ""
        item.link_key = candidate.link_key
        item.summary_html = candidate.entry.summary_html
        item.source_published_at = candidate.published
        item.agency_id = agency_id
        # The first-seen time stays the anchor for a missing or future date.
        item.published_at = _display_date(
            candidate.published, item.first_seen_at, flags
        )
        item.flags = flags
        item.content_hash = candidate.content_hash
        item.updated_at = now
        self.changed.append(item)

    def write(self, now: datetime) -> None:
        """Insert the new stories and entries and save the changed stories."""
        _insert_items(self.new_items)
        insert_rows(
            FeedEntry,
            ENTRY_FIELDS,
            [
                (feed_id, item.id, guid, now, now)
                for feed_id, item, guid in self.new_entries
            ],
        )
        if self.changed:
            update_rows(NewsItem, UPDATE_FIELDS, self.changed)
        for feed_id, item_ids in self.seen.items():
            FeedEntry.objects.filter(feed_id=feed_id, item_id__in=item_ids).update(
                last_seen_at=now
            )


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


def _insert_items(items: list[NewsItem]) -> None:
    """Insert new stories in multi-row statements and set their ids."""
    if not items:
        return
    rows = [
        (
            item.agency_id,
            item.origin_feed_id,
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
        for item in items
    ]
    ids = insert_rows(NewsItem, ITEM_FIELDS, rows, returning_ids=True)
    for item, new_id in zip(items, ids, strict=True):
        item.id = new_id


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
