"""Queries over the publishing history: per item, per agency, for the portal.

Every function returns a lazy QuerySet with the related rows a listing shows
already joined, so callers can filter, slice or paginate it further.
"""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from govportal.agencies.models import Agency
from govportal.publishing.models import Publishable, Revision, Transition
from govportal.publishing.states import REVIEW_QUEUE_STATES

RELATED = ["revision", "actor", "agency", "content_type"]


def item_history(item: Publishable) -> QuerySet[Transition]:
    """Return the transitions of one item in the order they were made.

    The order is by id: the item's row lock serialises its transitions, so
    ids follow commit order even if the clock is adjusted between two.
    """
    content_type = ContentType.objects.get_for_model(item)
    return (
        Transition.objects.filter(content_type=content_type, object_id=item.pk)
        .select_related(*RELATED)
        .order_by("id")
    )


def item_revisions(item: Publishable) -> QuerySet[Revision]:
    """Return the revisions of one item, oldest first."""
    content_type = ContentType.objects.get_for_model(item)
    return (
        Revision.objects.filter(content_type=content_type, object_id=item.pk)
        .select_related("author")
        .order_by("number")
    )


def agency_history(
    agency: Agency | int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Transition]:
    """Return the transitions of every item an agency owns, newest first."""
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    return portal_history(since, until).filter(agency_id=agency_id)


def portal_history(
    since: datetime | None = None,
    until: datetime | None = None,
    model: type[Publishable] | None = None,
) -> QuerySet[Transition]:
    """Return the transitions of the whole portal, newest first.

    ``since`` is inclusive and ``until`` exclusive. ``model`` keeps one
    content type.
    """
    transitions = Transition.objects.select_related(*RELATED)
    if since is not None:
        transitions = transitions.filter(created_at__gte=since)
    if until is not None:
        transitions = transitions.filter(created_at__lt=until)
    if model is not None:
        content_type = ContentType.objects.get_for_model(model)
        transitions = transitions.filter(content_type=content_type)
    return transitions.order_by("-created_at", "-id")


def review_queue[P: Publishable](model: type[P]) -> QuerySet[P]:
    """Return the items of ``model`` waiting for central review, oldest first."""
    return model._default_manager.filter(state__in=REVIEW_QUEUE_STATES).order_by(
        "updated_at", "pk"
    )
