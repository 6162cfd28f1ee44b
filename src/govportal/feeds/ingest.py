"""Fetching feeds and storing what they carry: the I/O edge of news ingestion.

Fetching runs concurrently on one event loop with the guarded client in
``govportal.lib.httpfetch``, and parsing is pure. Storing runs afterwards in
the calling thread, one transaction per feed, so a failure in one feed never
touches another's items.
"""

import asyncio
import ipaddress
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from govportal.core.bulk import insert_rows, update_rows
from govportal.feeds.models import Feed, FetchLog
from govportal.lib.errors import SourceError
from govportal.lib.feedparse import parse_feed
from govportal.lib.feedparse.types import ParsedFeed
from govportal.lib.httpfetch import Fetcher, FetchPolicy, FetchResult
from govportal.news.store import (
    StoreResult,
    agency_ids_by_oid,
    measure_gmt_means_local,
    store_parsed_feeds,
)

logger = logging.getLogger(__name__)

# A claimed feed is left alone by other workers for this long.
CLAIM_SECONDS = 15 * 60


def fetch_policy(**overrides: Any) -> FetchPolicy:
    """Build the fetch policy from the settings."""
    values: dict[str, Any] = {
        "allowed_networks": tuple(
            ipaddress.ip_network(n, strict=False)
            for n in settings.FETCH_ALLOWED_NETWORKS
        ),
        "user_agent": settings.FETCH_USER_AGENT,
        "extra_ca_file": settings.FETCH_EXTRA_CA_BUNDLE,
        "concurrency": settings.FETCH_CONCURRENCY,
        "per_host_limit": settings.FETCH_PER_HOST_LIMIT,
        "deadline": float(settings.FETCH_DEADLINE_SECONDS),
        "max_body_bytes": settings.FETCH_MAX_BODY_BYTES,
        "max_decoded_bytes": settings.FETCH_MAX_BODY_BYTES,
    }
    values.update(overrides)
    return FetchPolicy(**values)


@dataclass
class FeedRequest:
    """A feed's address and validators, read before the event loop starts."""

    feed_id: int
    url: str
    etag: str = ""
    last_modified: str = ""


@dataclass
class FetchOutcome:
    feed_id: int
    started_at: datetime
    conditional: bool = False
    duration_ms: int = 0
    result: FetchResult | None = None
    parsed: ParsedFeed | None = None
    error: SourceError | None = None
    store: StoreResult = field(default_factory=StoreResult)

    @property
    def ok(self) -> bool:
        return self.error is None


def _validator_in_future(value: str, now: datetime) -> bool:
    """Tell whether an HTTP date (or an ETag holding one) lies in the future.

    Some servers send a far-future Last-Modified and then return 304 to it
    for ever, so such validators are not sent back.
    """
    text = value.strip().strip("W/").strip('"')
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return False
    if moment.tzinfo is None:
        return False
    return moment > now + timedelta(minutes=5)


def build_request(feed: Feed, now: datetime, conditional: bool = True) -> FeedRequest:
    request = FeedRequest(feed_id=feed.id, url=feed.url)
    if conditional and not feed.unconditional_due(now):
        if feed.etag and not _validator_in_future(feed.etag, now):
            request.etag = feed.etag
        if feed.last_modified and not _validator_in_future(feed.last_modified, now):
            request.last_modified = feed.last_modified
    return request


async def _fetch_one(fetcher: Fetcher, request: FeedRequest) -> FetchOutcome:
    outcome = FetchOutcome(
        feed_id=request.feed_id,
        started_at=timezone.now(),
        conditional=bool(request.etag or request.last_modified),
    )
    started = time.monotonic()
    try:
        result = await fetcher.get(
            request.url,
            etag=request.etag or None,
            last_modified=request.last_modified or None,
        )
        outcome.result = result
        if result.status != 304:
            outcome.parsed = parse_feed(
                result.body,
                content_type=result.content_type,
                charset=result.charset,
                url=result.url,
            )
    except SourceError as exc:
        outcome.error = exc
    except Exception as exc:  # one feed's surprise must not stop the others
        logger.exception("feed fetch crashed feed_id=%d", request.feed_id)
        outcome.error = SourceError("protocol_error", type(exc).__name__)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


async def fetch_many(
    requests: list[FeedRequest], policy: FetchPolicy
) -> list[FetchOutcome]:
    async with Fetcher(policy) as fetcher:
        return await asyncio.gather(*(_fetch_one(fetcher, r) for r in requests))


def _record_success(feed: Feed, outcome: FetchOutcome, now: datetime) -> None:
    result = outcome.result
    assert result is not None
    feed.consecutive_failures = 0
    feed.last_success_at = now
    feed.last_error_code = ""
    feed.last_error_params = {}
    if feed.state == Feed.State.FAILING:
        feed.state = Feed.State.ACTIVE
    if not outcome.conditional:
        feed.last_unconditional_at = now

    _store_validators(feed, result, now)

    if outcome.parsed is not None:
        feed.last_item_count = len(outcome.parsed.entries)
        feed.last_flags = sorted(set(outcome.parsed.flags))
        if outcome.parsed.title and not feed.title:
            feed.title = outcome.parsed.title[:500]

    if result.permanent_redirect and result.permanent_redirect != feed.url:
        if feed.moved_to_url == result.permanent_redirect:
            feed.moved_seen_count += 1
        else:
            feed.moved_to_url = result.permanent_redirect[:2000]
            feed.moved_seen_count = 1
    elif not result.redirects:
        feed.moved_to_url = ""
        feed.moved_seen_count = 0

    jitter = timedelta(seconds=random.uniform(0, 60))
    feed.next_fetch_at = now + timedelta(minutes=feed.interval_minutes) + jitter


def _store_validators(feed: Feed, result: FetchResult, now: datetime) -> None:
    """Keep the response's ETag and Last-Modified for the next conditional GET.

    A 200 replaces both, so a validator the server stopped sending is dropped;
    a 304 updates only those it sends.
    """
    if result.status == 304:
        etag, last_modified = result.etag, result.last_modified
    else:
        etag, last_modified = result.etag or "", result.last_modified or ""
    if etag is not None:
        feed.etag = "" if _validator_in_future(etag, now) else etag[:500]
    if last_modified is not None:
        in_future = _validator_in_future(last_modified, now)
        feed.last_modified = "" if in_future else last_modified[:100]


def _record_failure(feed: Feed, error: SourceError, now: datetime) -> None:
    feed.consecutive_failures += 1
    feed.last_error_code = error.code
    feed.last_error_params = _jsonable(error.params, error.detail)
    feed.last_error_at = now
    if feed.state == Feed.State.ACTIVE:
        feed.state = Feed.State.FAILING
    delay = feed.backoff_delay()
    retry_after = error.params.get("retry_after")
    if isinstance(retry_after, int | float) and retry_after > delay.total_seconds():
        delay = timedelta(seconds=min(retry_after, 86400))
    feed.next_fetch_at = now + delay


def _jsonable(params: dict[str, Any], detail: str) -> dict[str, Any]:
    clean: dict[str, Any] = {"detail": detail[:300]}
    for key, value in params.items():
        if isinstance(value, str | int | float | bool) or value is None:
            clean[key] = value if not isinstance(value, str) else value[:300]
    return clean


# The feed fields a fetch changes, written for a whole batch at once.
FEED_FIELDS = [
    "title",
    "state",
    "last_fetch_at",
    "last_success_at",
    "last_unconditional_at",
    "consecutive_failures",
    "last_error_code",
    "last_error_params",
    "last_error_at",
    "last_item_count",
    "last_flags",
    "etag",
    "last_modified",
    "moved_to_url",
    "moved_seen_count",
    "gmt_means_local",
    "next_fetch_at",
    "claimed_until",
]


def record_outcome(feed: Feed, outcome: FetchOutcome, now: datetime) -> FetchLog:
    """Update the feed's health in memory and return its unsaved log entry.

    The caller saves feeds and log entries for a whole batch at once, after the
    batch's items are committed. Storing the items again after a crash in
    between is harmless, because storing is idempotent.
    """
    if outcome.ok:
        _record_success(feed, outcome, now)
    else:
        assert outcome.error is not None
        _record_failure(feed, outcome.error, now)
        logger.warning(
            "feed fetch failed feed_id=%d code=%s failures=%d",
            feed.id,
            outcome.error.code,
            feed.consecutive_failures,
        )
    feed.last_fetch_at = now
    feed.claimed_until = None
    return FetchLog(
        feed=feed,
        started_at=outcome.started_at,
        duration_ms=outcome.duration_ms,
        http_status=outcome.result.status if outcome.result else None,
        ok=outcome.ok,
        error_code=outcome.error.code if outcome.error else "",
        error_params=feed.last_error_params if outcome.error else {},
        items_seen=outcome.store.seen,
        items_new=outcome.store.new,
        items_updated=outcome.store.updated,
        flags=sorted(set(outcome.parsed.flags)) if outcome.parsed else [],
    )


LOG_FIELDS = [
    "feed",
    "started_at",
    "duration_ms",
    "http_status",
    "ok",
    "error_code",
    "error_params",
    "items_seen",
    "items_new",
    "items_updated",
    "flags",
]
LOG_ATTRIBUTES = ["feed_id", *LOG_FIELDS[1:]]

# Feeds whose items are stored in one transaction.
STORE_BATCH = 200


def store_outcomes(batch: list[tuple[Feed, FetchOutcome]], now: datetime) -> None:
    """Store the items of the successful fetches of a batch.

    The batch is one transaction. If the database rejects it, each feed is
    stored on its own, so one feed's bad data cannot hold back the others. A
    feed that still fails is marked failed with the database's error.
    """
    stored: list[tuple[Feed, FetchOutcome, ParsedFeed]] = [
        (feed, o, o.parsed) for feed, o in batch if o.ok and o.parsed is not None
    ]
    if not stored:
        return
    oids = agency_ids_by_oid(
        {e.author_oid or "" for _, _, parsed in stored for e in parsed.entries}
    )
    for feed, _, parsed in stored:
        if not feed.gmt_means_local and measure_gmt_means_local(parsed.entries, now):
            feed.gmt_means_local = True
            logger.info("feed GMT dates read as local feed_id=%d", feed.id)

    pairs = [(feed, parsed) for feed, _, parsed in stored]
    try:
        results = store_parsed_feeds(pairs, now, oids)
    except DatabaseError:
        logger.exception("batch store failed feeds=%d, storing one by one", len(pairs))
        results = {}
        for feed, outcome, parsed in stored:
            try:
                results.update(store_parsed_feeds([(feed, parsed)], now, oids))
            except DatabaseError as exc:
                logger.exception("feed store failed feed_id=%d", feed.id)
                outcome.error = SourceError("store_failed", type(exc).__name__)
    for feed, outcome, _ in stored:
        if feed.id in results:
            outcome.store = results[feed.id]


def fetch_feeds(
    feeds: list[Feed], *, policy: FetchPolicy | None = None
) -> list[FetchOutcome]:
    """Fetch the given feeds now, store their items and update their state."""
    if not feeds:
        return []
    now = timezone.now()
    requests = [build_request(feed, now) for feed in feeds]
    outcomes = asyncio.run(fetch_many(requests, policy or fetch_policy()))
    by_id = {feed.id: feed for feed in feeds}
    stored_at = timezone.now()
    for start in range(0, len(outcomes), STORE_BATCH):
        store_outcomes(
            [(by_id[o.feed_id], o) for o in outcomes[start : start + STORE_BATCH]],
            stored_at,
        )
    logs = [record_outcome(by_id[o.feed_id], o, stored_at) for o in outcomes]
    with transaction.atomic():
        update_rows(Feed, FEED_FIELDS, feeds)
        insert_rows(
            FetchLog,
            LOG_FIELDS,
            [[getattr(log, name) for name in LOG_ATTRIBUTES] for log in logs],
        )
    return outcomes


def claim_due_feeds(now: datetime, limit: int = 500) -> list[int]:
    """Claim feeds that are due, so two schedulers never fetch one feed twice."""
    due = (
        Feed.objects.filter(
            state__in=[Feed.State.ACTIVE, Feed.State.FAILING],
        )
        .filter(Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )
    claimed: list[int] = []
    until = now + timedelta(seconds=CLAIM_SECONDS)
    for feed_id, claimed_until in due.order_by("next_fetch_at").values_list(
        "id", "claimed_until"
    )[:limit]:
        # The conditional update is the claim: it fails if another worker won.
        won = Feed.objects.filter(id=feed_id, claimed_until=claimed_until).update(
            claimed_until=until
        )
        if won:
            claimed.append(feed_id)
    return claimed
