"""Background camera checks: a scheduler claims due cameras and queues batches."""

import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.tasks import task
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from govportal.cameras.availability import ensure_rollups
from govportal.cameras.health import check_cameras
from govportal.cameras.models import (
    Camera,
    CameraCheck,
    CameraDailyStats,
    CameraSchedule,
)
from govportal.cameras.notices import send_pending_notices
from govportal.lib.camcheck import schedule_offsets

logger = logging.getLogger(__name__)

# Cameras per queued job: enough to use the fetcher's concurrency, small
# enough that several workers share a large round.
BATCH_SIZE = 50
# A claim outlives a batch of checks (20 s deadline each, run concurrently),
# and a worker that died releases its cameras after this time.
CLAIM_SECONDS = 10 * 60


def check_interval() -> timedelta:
    return timedelta(seconds=settings.CAMERA_CHECK_INTERVAL_SECONDS)


@task()
def check_cameras_task(camera_ids: list[int]) -> dict[str, int]:
    """Check the claimed cameras and store their health."""
    cameras = list(
        Camera.objects.filter(id__in=camera_ids).select_related(
            "current_revision", "published_revision"
        )
    )
    outcomes = check_cameras(cameras)
    counts = {
        "cameras": len(outcomes),
        "failed": sum(1 for outcome in outcomes if not outcome.result.ok),
        "changed": sum(1 for outcome in outcomes if outcome.changed),
    }
    logger.info(
        "cameras checked cameras=%d failed=%d changed=%d",
        counts["cameras"],
        counts["failed"],
        counts["changed"],
    )
    return counts


def monitored_cameras() -> QuerySet[Camera]:
    """Cameras checked on schedule: the ones the public site shows or hides.

    A camera never approved or withdrawn is not checked on schedule;
    ``govportal cameras check`` checks any camera on demand. A published
    camera stays checked while a newer revision waits for review.
    """
    return Camera.objects.filter(published_revision__isnull=False)


def schedule_new_cameras(now: datetime) -> int:
    """Insert schedules for cameras that have none, spread over one interval.

    Returns the number of schedules inserted.
    """
    interval = check_interval()
    missing = list(
        monitored_cameras()
        .filter(check_schedule__isnull=True)
        .values_list("id", flat=True)
    )
    if not missing:
        return 0
    offsets = schedule_offsets(missing, interval.total_seconds())
    CameraSchedule.objects.bulk_create(
        [
            CameraSchedule(
                camera_id=camera_id,
                next_check_at=now + timedelta(seconds=offsets[camera_id]),
            )
            for camera_id in missing
        ],
        ignore_conflicts=True,
    )
    return len(missing)


def claim_due_cameras(now: datetime, limit: int = 5000) -> list[int]:
    """Claim cameras whose check is due, so two schedulers never claim one twice.

    A claim also moves the camera's next check one interval on from its
    previous due time, which keeps the spread of schedule_new_cameras. A
    camera more than one interval late is next due one interval from now.
    One UPDATE claims the whole set: it marks the rows with a claim time of
    its own, and only rows still unclaimed when it runs match it.
    """
    interval = check_interval()
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = CameraSchedule.objects.filter(
        next_check_at__lte=now, camera__in=monitored_cameras()
    ).filter(unclaimed)
    due_ids = list(
        due.order_by("next_check_at").values_list("camera_id", flat=True)[:limit]
    )
    if not due_ids:
        return []
    # The microseconds make this claim's mark differ from a concurrent one's.
    mark = now + timedelta(
        seconds=CLAIM_SECONDS, microseconds=secrets.randbelow(1_000_000)
    )
    CameraSchedule.objects.filter(camera_id__in=due_ids, next_check_at__lte=now).filter(
        unclaimed
    ).update(
        claimed_until=mark,
        next_check_at=Case(
            When(next_check_at__lte=now - interval, then=Value(now + interval)),
            default=F("next_check_at") + interval,
        ),
    )
    return list(
        CameraSchedule.objects.filter(camera_id__in=due_ids, claimed_until=mark)
        .order_by("next_check_at")
        .values_list("camera_id", flat=True)
    )


def queue_due_cameras() -> int:
    """Claim every due camera and queue it, and return how many were queued."""
    now = timezone.now()
    schedule_new_cameras(now)
    camera_ids = claim_due_cameras(now)
    for start in range(0, len(camera_ids), BATCH_SIZE):
        check_cameras_task.enqueue(camera_ids[start : start + BATCH_SIZE])
    return len(camera_ids)


@db_periodic_task(crontab(minute="*"))
def schedule_due_cameras() -> None:
    queued = queue_due_cameras()
    if queued:
        logger.info("cameras queued count=%d", queued)


@db_periodic_task(crontab(minute="*"))
@lock_task("camera-notices")
def send_camera_notices() -> None:
    report = send_pending_notices()
    if report.mails_sent or report.mails_failed:
        logger.info(
            "camera notices mails=%d events=%d failed=%d",
            report.mails_sent,
            report.events_sent,
            report.mails_failed,
        )


def purge_old_checks(now: datetime | None = None) -> int:
    """Delete checks older than CAMERA_CHECK_RETENTION_DAYS; return how many.

    Their sums per day stay in CameraDailyStats, which is kept
    CAMERA_DAILY_STATS_RETENTION_DAYS.
    """
    now = now or timezone.now()
    days = settings.CAMERA_CHECK_RETENTION_DAYS
    deleted, _ = CameraCheck.objects.filter(
        checked_at__lt=now - timedelta(days=days)
    ).delete()
    stats_days = settings.CAMERA_DAILY_STATS_RETENTION_DAYS
    CameraDailyStats.objects.filter(
        day__lt=(now - timedelta(days=stats_days)).date()
    ).delete()
    return deleted


@db_periodic_task(crontab(minute="17", hour="3"))
@lock_task("camera-check-purge")
def purge_camera_checks() -> None:
    # Yesterday's sums are stored before any check could be purged.
    ensure_rollups(timezone.now())
    deleted = purge_old_checks()
    logger.info("camera checks purged count=%d", deleted)
