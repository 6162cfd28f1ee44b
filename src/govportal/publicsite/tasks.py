"""Publishing a change to the public site in the background."""

import logging

from django.tasks import task

from govportal.publicsite.incremental import publish_service_change
from govportal.services.models import Service

logger = logging.getLogger(__name__)


@task()
def publish_service_change_task(service_id: int) -> dict[str, float | int]:
    """Put a service's approved or withdrawn state on the public site."""
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        logger.warning("service to publish not found service_id=%d", service_id)
        return {}
    report = publish_service_change(service)
    logger.info(
        "service published service_id=%d pages=%d full_build=%s seconds=%.2f",
        service_id,
        len(report.pages_written),
        report.full_build,
        report.seconds,
    )
    return {"pages": len(report.pages_written), "seconds": report.seconds}
