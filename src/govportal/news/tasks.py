"""Daily upkeep of stored news, and rebuilding the site when news or cameras changed."""

import logging
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from govportal.core.models import JobMark
from govportal.feeds.models import FetchLog
from govportal.news.models import NewsItem
from govportal.news.store import purge_expired

logger = logging.getLogger(__name__)

FETCH_LOG_DAYS = 30


@db_periodic_task(crontab(hour="3", minute="15"))
def purge_news() -> None:
    now = timezone.now()
    purge_expired(now)
    FetchLog.objects.filter(
        started_at__lt=now - timedelta(days=FETCH_LOG_DAYS)
    ).delete()


def news_fingerprint() -> dict[str, str | int]:
    """Return a cheap summary that changes when an item is added, changed or removed."""
    summary = NewsItem.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    latest = summary["latest"]
    return {"count": summary["count"], "latest": latest.isoformat() if latest else ""}


def rebuild_site_if_changed(force: bool = False) -> bool:
    """Build the public site when news or public cameras differ from the last build.

    Camera health counts only when a state changes, which the up/down
    hysteresis makes rare, so a flapping camera does not rebuild the site
    every minute.
    """
    from govportal.cameras.health import public_camera_fingerprint
    from govportal.publicsite.build import build_site_and_mark_live

    fingerprint = {**news_fingerprint(), "cameras": public_camera_fingerprint()}
    mark = JobMark.objects.filter(name="site_build").first()
    if not force and mark is not None and mark.detail == fingerprint:
        return False
    report = build_site_and_mark_live()
    JobMark.objects.update_or_create(
        name="site_build", defaults={"at": timezone.now(), "detail": fingerprint}
    )
    logger.info(
        "site rebuilt pages=%d seconds=%.2f", report.pages_written, report.seconds
    )
    return True


@db_periodic_task(crontab(minute="*"))
@lock_task("site-build")
def rebuild_site() -> None:
    rebuild_site_if_changed()
