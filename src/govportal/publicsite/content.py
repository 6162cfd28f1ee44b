"""Loading of the published content into plain objects ready for the templates.

All news comes from one query joined with the agency table, and the per-agency
groups are built from it in memory, so the number of queries does not grow with
the number of items or agencies.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TypedDict
from zoneinfo import ZoneInfo

from django.conf import settings

from govportal.feeds.models import Feed
from govportal.lib.sanitize import sanitize_html
from govportal.news.models import NewsItem

from .paths import SitePaths, is_safe_agency_key, is_web_url

logger = logging.getLogger(__name__)

# List pages and the RSS feed show at most this many characters of a summary's
# text, because a stored summary may be a whole article (up to
# sanitize.MAX_SUMMARY_TEXT characters).
SUMMARY_EXCERPT_CHARS = 160

# The feed states whose feeds are approved and fetched. A failing feed is still
# an approved source, only temporarily unreachable.
PUBLISHED_FEED_STATES = (Feed.State.ACTIVE, Feed.State.FAILING)


class NewsEntry(TypedDict):
    """A news item with everything a page shows precomputed.

    A dict rather than a dataclass because Django's variable lookup tries item
    access first, and a failed item access costs an exception per lookup. Each
    entry is rendered once per build, so this is measurable for large sites.
    """

    item_id: int
    title: str
    # The agency's own page for the story, or "" when the stored link is not an
    # absolute http(s) URL (the title is then shown without a link).
    link: str
    agency_name: str
    # The agency's news page on this site, or "" when its key is not URL-safe.
    agency_url: str
    agency_key: str
    published_at: datetime
    published_iso: str
    published_display: str
    # The stored sanitized summary, cut to SUMMARY_EXCERPT_CHARS characters of text.
    summary_html: str


@dataclass(slots=True)
class AgencyGroup:
    """An agency with a URL-safe key and its news, newest first."""

    key: str
    name: str
    url: str
    entries: list[NewsEntry] = field(default_factory=list)


@dataclass(slots=True)
class FeedSource:
    agency_name: str
    title: str
    # "" when the stored address is not an absolute http(s) URL.
    url: str


@dataclass(slots=True)
class SiteContent:
    entries: list[NewsEntry]
    # Agencies that have news, sorted by Chinese name.
    agencies: list[AgencyGroup]
    feeds: list[FeedSource]


def format_local_time(moment: datetime, zone: tzinfo) -> tuple[str, str]:
    """Return (datetime attribute value, displayed text) in the site's time zone."""
    local = moment.astimezone(zone)
    return local.isoformat(timespec="seconds"), local.strftime("%Y-%m-%d %H:%M")


def summary_excerpt(summary_html: str) -> str:
    """Cut a sanitized summary to SUMMARY_EXCERPT_CHARS characters of text.

    The sanitizer closes the elements that the cut leaves open and marks the cut
    with an ellipsis. Markup this short has no more text, so it is kept as is.
    """
    if len(summary_html) <= SUMMARY_EXCERPT_CHARS:
        return summary_html
    excerpt, _truncated = sanitize_html(
        summary_html, max_text_chars=SUMMARY_EXCERPT_CHARS
    )
    return excerpt


def load_news(paths: SitePaths) -> tuple[list[NewsEntry], list[AgencyGroup]]:
    """Load all news, newest first, and group it by agency."""
    zone = ZoneInfo(settings.TIME_ZONE)
    rows = (
        NewsItem.objects.order_by("-published_at", "-id")
        .values_list(
            "id",
            "title",
            "link",
            "summary_html",
            "published_at",
            "agency_id",
            "agency__code",
            "agency__oid",
            "agency__name_zh",
        )
        .iterator(chunk_size=2000)
    )

    entries: list[NewsEntry] = []
    groups: dict[int, AgencyGroup] = {}
    unsafe_agency_ids: set[int] = set()
    for (
        item_id,
        title,
        link,
        summary_html,
        published_at,
        agency_id,
        agency_code,
        agency_oid,
        agency_name,
    ) in rows:
        agency_key = agency_code or agency_oid or ""
        group = groups.get(agency_id)
        if group is None and agency_id not in unsafe_agency_ids:
            if is_safe_agency_key(agency_key):
                folder = paths.agency_folder(agency_key)
                group = AgencyGroup(agency_key, agency_name, paths.url(folder))
                groups[agency_id] = group
            else:
                unsafe_agency_ids.add(agency_id)
                logger.warning(
                    "Agency id=%s has key %r, which is not a valid code or OID, "
                    "so it gets no agency page.",
                    agency_id,
                    agency_key,
                )

        published_iso, published_display = format_local_time(published_at, zone)
        entry = NewsEntry(
            item_id=item_id,
            title=title,
            link=link if is_web_url(link) else "",
            agency_name=agency_name,
            agency_url=group.url if group else "",
            agency_key=agency_key,
            published_at=published_at,
            published_iso=published_iso,
            published_display=published_display,
            summary_html=summary_excerpt(summary_html),
        )
        entries.append(entry)
        if group is not None:
            group.entries.append(entry)

    agencies = sorted(groups.values(), key=lambda group: (group.name, group.key))
    return entries, agencies


def load_feed_sources() -> list[FeedSource]:
    feeds = (
        Feed.objects.filter(state__in=PUBLISHED_FEED_STATES)
        .select_related("agency")
        .order_by("agency__name_zh", "title", "id")
    )
    return [
        FeedSource(
            agency_name=feed.agency.name_zh,
            title=feed.title,
            url=feed.url if is_web_url(feed.url) else "",
        )
        for feed in feeds
    ]


def load_content(paths: SitePaths) -> SiteContent:
    entries, agencies = load_news(paths)
    return SiteContent(entries=entries, agencies=agencies, feeds=load_feed_sources())
