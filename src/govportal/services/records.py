"""Creating and changing service records through validation and the publishing core."""

from django.db import IntegrityError, transaction

from govportal.agencies.models import Agency
from govportal.publishing.models import Revision
from govportal.publishing.workflow import Actor, create_draft, edit
from govportal.services.errors import FieldError, ServiceValidationError
from govportal.services.models import Service
from govportal.services.staleness import EnglishGap, english_gaps
from govportal.services.validation import (
    SERVICE_ID_LABEL,
    validate_agency_service_id,
    validate_service,
)


def create_service(
    agency: Agency, agency_service_id: object, data: object, author: Actor
) -> Service:
    """Validate a new service and store it as a draft with revision 1.

    Raises ``ServiceValidationError`` for invalid data or an id the agency
    already uses.
    """
    service_id = validate_agency_service_id(agency_service_id)
    snapshot = validate_service(data)
    service = Service(agency=agency, agency_service_id=service_id)
    try:
        # A savepoint, so a duplicate leaves the caller's transaction usable.
        with transaction.atomic():
            create_draft(service, snapshot, author)
    except IntegrityError:
        if not find_service(agency, service_id):
            raise
        params = {"field": SERVICE_ID_LABEL, "value": service_id}
        error = FieldError("agency_service_id", "duplicate_service_id", params)
        raise ServiceValidationError([error]) from None
    return service


def update_service(service: Service, data: object, author: Actor) -> Revision:
    """Validate changed content and store it as the service's new revision.

    Returns the current revision unchanged when the content is identical.
    """
    return edit(service, validate_service(data), author)


def find_service(agency: Agency, agency_service_id: str) -> Service | None:
    """Return the agency's service with that id, or None."""
    return Service.objects.filter(
        agency=agency, agency_service_id=agency_service_id
    ).first()


def service_english_gaps(
    service: Service, revision: Revision | None = None
) -> list[EnglishGap]:
    """Return the English fields of a revision that are missing or stale.

    The revision is the current one unless given.
    """
    revision = revision or service.current_revision
    if revision is None:
        return []
    return english_gaps(revision.snapshot, revision.field_changes)
