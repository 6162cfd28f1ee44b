"""Background fetching: a scheduler claims due feeds and queues them in batches."""

import logging

from django.tasks import task
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from govportal.feeds.ingest import claim_due_feeds, fetch_feeds
from govportal.feeds.models import Feed

logger = logging.getLogger(__name__)

# Feeds per queued job: enough to use the fetcher's concurrency, small enough
# that several workers share a large round.
BATCH_SIZE = 50


@task()
def fetch_feeds_task(feed_ids: list[int]) -> dict[str, int]:
    """Fetch the claimed feeds and store their news."""
    feeds = list(
        Feed.objects.filter(
            id__in=feed_ids, state__in=[Feed.State.ACTIVE, Feed.State.FAILING]
        ).select_related("agency")
    )
    outcomes = fetch_feeds(feeds)
    counts = {
        "feeds": len(outcomes),
        "failed": sum(1 for o in outcomes if not o.ok),
        "new": sum(o.store.new for o in outcomes),
        "updated": sum(o.store.updated for o in outcomes),
    }
    logger.info(
        "feeds fetched feeds=%d failed=%d new=%d updated=%d",
        counts["feeds"],
        counts["failed"],
        counts["new"],
        counts["updated"],
    )
    return counts


def queue_due_feeds() -> int:
    """Claim every due feed and queue it; return how many were queued."""
    feed_ids = claim_due_feeds(timezone.now())
    for start in range(0, len(feed_ids), BATCH_SIZE):
        fetch_feeds_task.enqueue(feed_ids[start : start + BATCH_SIZE])
    return len(feed_ids)


@db_periodic_task(crontab(minute="*"))
def schedule_due_feeds() -> None:
    queued = queue_due_feeds()
    if queued:
        logger.info("feeds queued count=%d", queued)
