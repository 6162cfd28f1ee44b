"""Availability of cameras over days: the share of checks that passed.

Thousands of cameras checked every few minutes make tens of millions of
checks a month, too many to count at every site build. So a nightly
roll-up sums each camera's checks of a finished local day into one
``CameraDailyStats`` row. Availability over N days is the sum of the last
N - 1 rolled-up days plus today's checks, counted live. Days are calendar
days in the site's time zone (TIME_ZONE), so "the last 7 days" is today and
the 6 days before it.
"""

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from govportal.cameras.models import Camera, CameraCheck, CameraDailyStats
from govportal.core.models import JobMark

logger = logging.getLogger(__name__)

ROLLUP_MARK = "camera_daily_stats"
# Days the roll-up goes back when it has never run or was stopped for long.
MAX_WINDOW_DAYS = 30


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def roll_up_day(day: date) -> int:
    """Store each camera's checks of ``day``, replacing earlier sums; return rows."""
    counts = (
        CameraCheck.objects.filter(
            checked_at__gte=day_start(day),
            checked_at__lt=day_start(day + timedelta(days=1)),
        )
        .values("camera_id")
        .annotate(checks=Count("id"), ok_checks=Count("id", filter=Q(ok=True)))
        .values_list("camera_id", "checks", "ok_checks")
    )
    rows = [
        CameraDailyStats(camera_id=camera_id, day=day, checks=checks, ok_checks=ok)
        for camera_id, checks, ok in counts
    ]
    with transaction.atomic():
        CameraDailyStats.objects.filter(day=day).delete()
        CameraDailyStats.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def ensure_rollups(now: datetime) -> list[date]:
    """Roll up every finished day not rolled up yet, within the longest window.

    Returns the days rolled up. Runs nightly and before each site build, so
    a stopped worker leaves no gap once it runs again.
    """
    yesterday = local_day(now) - timedelta(days=1)
    first = yesterday - timedelta(days=MAX_WINDOW_DAYS - 1)
    mark = JobMark.objects.filter(name=ROLLUP_MARK).first()
    through = mark.detail.get("through") if mark and mark.detail else None
    if through:
        first = max(first, date.fromisoformat(through) + timedelta(days=1))
    days = []
    day = first
    while day <= yesterday:
        roll_up_day(day)
        days.append(day)
        day += timedelta(days=1)
    if days:
        JobMark.objects.update_or_create(
            name=ROLLUP_MARK,
            defaults={
                "at": timezone.now(),
                "detail": {"through": yesterday.isoformat()},
            },
        )
        logger.info("camera checks rolled up days=%d through=%s", len(days), yesterday)
    return days


def availability_by_agency(
    cameras: QuerySet[Camera], now: datetime, days: int
) -> dict[int, tuple[int, int]]:
    """Return {agency id: (checks, OK checks)} of ``cameras`` over the last ``days``."""
    today = local_day(now)
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    camera_ids = cameras.values("pk")
    rolled = (
        CameraDailyStats.objects.filter(
            camera_id__in=camera_ids,
            day__gt=today - timedelta(days=days),
            day__lt=today,
        )
        .values("camera__agency_id")
        .annotate(checks=Sum("checks"), ok=Sum("ok_checks"))
        .values_list("camera__agency_id", "checks", "ok")
    )
    live = (
        CameraCheck.objects.filter(
            camera_id__in=camera_ids,
            checked_at__gte=day_start(today),
            checked_at__lte=now,
        )
        .values("camera__agency_id")
        .annotate(checks=Count("id"), ok=Count("id", filter=Q(ok=True)))
        .values_list("camera__agency_id", "checks", "ok")
    )
    for rows in (rolled, live):
        for agency_id, checks, ok in rows:
            totals[agency_id][0] += checks or 0
            totals[agency_id][1] += ok or 0
    return {agency_id: (checks, ok) for agency_id, (checks, ok) in totals.items()}
