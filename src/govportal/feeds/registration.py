"""Registering an agency's feed: check it at once, keep the report, approve it."""

import asyncio
import logging
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from govportal.agencies.models import Agency
from govportal.feeds.ingest import fetch_policy
from govportal.feeds.messages import describe_both
from govportal.feeds.models import Feed
from govportal.lib.errors import SourceError
from govportal.lib.feedparse import parse_feed
from govportal.lib.httpfetch import Fetcher, FetchPolicy
from govportal.lib.netguard import validate_url

logger = logging.getLogger(__name__)


USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@]*@")


def redact_url(url: str, limit: int = 200) -> str:
    """Shorten an address for a message and hide any user name and password."""
    return USERINFO.sub(r"\1***@", url[:limit])


class RegistrationError(Exception):
    """A failed registration or approval, with the reason and fix in the message."""


def _error_report(error: SourceError) -> dict[str, Any]:
    texts = describe_both(error.code, {"detail": error.detail, **error.params})
    return {
        "code": error.code,
        "detail": error.detail[:300],
        "message_zh": texts["zh-hant"],
        "message_en": texts["en"],
    }


async def _check(url: str, policy: FetchPolicy) -> dict[str, Any]:
    report: dict[str, Any] = {"url": redact_url(url, 500), "ok": False}
    try:
        async with Fetcher(policy) as fetcher:
            result = await fetcher.get(url)
        report.update(
            http_status=result.status,
            final_url=result.url,
            content_type=result.content_type,
            charset=result.charset,
            bytes=len(result.body),
            etag=bool(result.etag),
            last_modified=bool(result.last_modified),
        )
        parsed = parse_feed(
            result.body,
            content_type=result.content_type,
            charset=result.charset,
            url=result.url,
        )
    except SourceError as exc:
        report["error"] = _error_report(exc)
        return report

    dated = [e.published for e in parsed.entries if e.published is not None]
    report.update(
        ok=bool(parsed.entries),
        kind=parsed.kind,
        title=parsed.title,
        encoding=parsed.encoding,
        items=len(parsed.entries),
        dated_items=len(dated),
        newest=max(dated).isoformat() if dated else None,
        oldest=min(dated).isoformat() if dated else None,
        with_agency_oid=sum(1 for e in parsed.entries if e.author_oid),
        flags=sorted(set(parsed.flags)),
        sample_titles=[e.title for e in parsed.entries[:3]],
    )
    if not parsed.entries:
        report["error"] = _error_report(SourceError("empty"))
    return report


def check_feed_url(url: str, policy: FetchPolicy | None = None) -> dict[str, Any]:
    """Fetch and parse an address without storing anything; return the report."""
    report = asyncio.run(_check(url, policy or fetch_policy()))
    report["checked_at"] = timezone.now().isoformat()
    return report


def register_feed(
    agency: Agency,
    url: str,
    *,
    approve: bool = False,
    approved_by: str = "",
    interval_minutes: int | None = None,
    policy: FetchPolicy | None = None,
) -> Feed:
    """Check and register a feed address for an agency; optionally approve it.

    Raises RegistrationError for an address the fetcher would never fetch, for
    a duplicate, and for approval of a feed whose check failed.
    """
    policy = policy or fetch_policy()
    if interval_minutes is None:
        interval_minutes = settings.FEED_DEFAULT_INTERVAL_MINUTES
    try:
        url = validate_url(url, policy)
    except SourceError as exc:
        texts = describe_both(exc.code, {"detail": exc.detail, **exc.params})
        raise RegistrationError(
            f"{texts['zh-hant']} / {texts['en']} ({exc.code}: {redact_url(url)!r})"
        ) from exc
    if not 5 <= interval_minutes <= 24 * 60:
        raise RegistrationError(
            f"Fetch interval {interval_minutes} min is outside 5..1440 minutes; "
            "feeds are fetched at least daily."
        )
    existing = Feed.objects.filter(agency=agency, url=url).first()
    if existing is not None:
        raise RegistrationError(
            f"{agency.key} already has this address registered as feed #{existing.pk}."
        )

    report = check_feed_url(url, policy)
    if approve and not report["ok"]:
        problem = report.get("error", {}).get("message_en", "the check failed")
        raise RegistrationError(
            f"Not approved: {problem} Register it without --approve to keep "
            "the report, fix the feed, then approve it."
        )
    try:
        with transaction.atomic():
            feed = Feed.objects.create(
                agency=agency,
                url=url,
                title=(report.get("title") or "")[:500],
                check_report=report,
                interval_minutes=interval_minutes,
            )
    except IntegrityError as exc:
        raise RegistrationError(
            f"{agency.key} already has this address registered."
        ) from exc
    logger.info("feed registered feed_id=%d agency=%s", feed.id, agency.key)
    if approve:
        approve_feed(feed, approved_by or "cli")
    return feed


def approve_feed(feed: Feed, approved_by: str) -> Feed:
    """Switch a pending or paused feed on; it is fetched at the next round."""
    updated = Feed.objects.filter(
        pk=feed.pk, state__in=[Feed.State.PENDING, Feed.State.PAUSED]
    ).update(
        state=Feed.State.ACTIVE,
        approved_at=timezone.now(),
        approved_by=approved_by[:150],
        next_fetch_at=timezone.now(),
    )
    feed.refresh_from_db()
    if updated:
        logger.info("feed approved feed_id=%d by=%s", feed.id, approved_by)
    return feed


def pause_feed(feed: Feed) -> Feed:
    Feed.objects.filter(pk=feed.pk).exclude(state=Feed.State.PENDING).update(
        state=Feed.State.PAUSED
    )
    feed.refresh_from_db()
    return feed


def confirm_move(feed: Feed) -> Feed:
    """Apply a permanent redirect that an operator has confirmed."""
    if not feed.moved_to_url:
        raise RegistrationError(f"Feed #{feed.pk} has no pending move to confirm.")
    if Feed.objects.filter(agency=feed.agency, url=feed.moved_to_url).exists():
        raise RegistrationError(
            f"{feed.agency.key} already has a feed at {feed.moved_to_url}."
        )
    feed.url = feed.moved_to_url
    feed.moved_to_url = ""
    feed.moved_seen_count = 0
    feed.etag = ""
    feed.last_modified = ""
    feed.save()
    return feed
