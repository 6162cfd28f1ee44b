"""Reports of broken cameras from visitors, and the re-check each one starts.

The public camera pages are static, so the report form is served by the
office site. A report is stored before anything else happens; the re-check
runs in the background and its result is linked to the report for the
operators. A camera checked less than RECHECK_MIN_SECONDS ago is not checked
again: the report is linked to that check instead.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from govportal.cameras.health import check_cameras
from govportal.cameras.models import Camera, CameraCheck, CameraReport, HealthState
from govportal.lib.textclean import remove_unwanted, truncate

logger = logging.getLogger(__name__)

RECHECK_MIN_SECONDS = 60
MAX_DESCRIPTION = 1000


def clean_description(text: str) -> str:
    """Return the visitor's text without control or invisible characters, shortened."""
    return truncate(remove_unwanted(text).strip(), MAX_DESCRIPTION)


def file_report(camera: Camera, description: str) -> CameraReport:
    """Store a report and queue the re-check once the report is saved."""
    report = CameraReport.objects.create(
        camera=camera,
        reported_at=timezone.now(),
        description=clean_description(description),
    )
    transaction.on_commit(lambda: recheck_reported_camera.enqueue(report.pk))
    logger.info("camera reported camera=%s report=%s", camera.pk, report.pk)
    return report


@task()
def recheck_reported_camera(report_id: int) -> dict[str, str | bool]:
    """Check a reported camera now, unless it was checked a moment ago."""
    report = (
        CameraReport.objects.select_related(
            "camera__current_revision", "camera__published_revision"
        )
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        logger.warning("camera report not found report=%s", report_id)
        return {}
    camera = report.camera
    recent = (
        CameraCheck.objects.filter(
            camera=camera,
            checked_at__gte=timezone.now() - timedelta(seconds=RECHECK_MIN_SECONDS),
        )
        .order_by("-checked_at", "-id")
        .first()
    )
    if recent is None:
        check_cameras([camera])
        recent = (
            CameraCheck.objects.filter(camera=camera)
            .order_by("-checked_at", "-id")
            .first()
        )
    report.check_result = recent
    report.save(update_fields=["check_result"])
    camera.refresh_from_db(fields=["health_state"])
    logger.info(
        "reported camera checked camera=%s report=%s ok=%s state=%s",
        camera.pk,
        report.pk,
        recent.ok if recent else None,
        camera.health_state,
    )
    return {
        "ok": bool(recent and recent.ok),
        "down": camera.health_state == HealthState.DOWN,
    }
