"""Recording when approved revisions went live on the public site.

An approval's ``created_at`` is the time of the decision and ``live_at`` the
time the site first showed it. The difference is the time from approval to
live.
"""

from collections import defaultdict
from datetime import datetime

from govportal.publishing.models import Transition
from govportal.publishing.states import Action


def mark_live(approved_before: datetime, live_at: datetime) -> int:
    """Set ``live_at`` on approvals up to ``approved_before`` that are now public.

    The site builder calls this once a build that read the database at
    ``approved_before`` is public. An approval whose revision is no longer
    the published one (a newer approval or a withdrawal came before the
    build) never went live and stays unmarked. Returns how many were marked.
    """
    pending = Transition.objects.filter(
        action=Action.APPROVE, live_at__isnull=True, created_at__lte=approved_before
    ).select_related("content_type")
    by_type: dict[int, list[Transition]] = defaultdict(list)
    for approval in pending:
        by_type[approval.content_type_id].append(approval)

    marked: list[int] = []
    for approvals in by_type.values():
        for chunk in _chunks(approvals):
            marked += _still_published(chunk)
    count = 0
    for ids in _chunks(marked):
        count += Transition.objects.filter(pk__in=ids).update(live_at=live_at)
    return count


# Values per IN list, under SQLite's lowest limit of bound parameters.
IN_CHUNK = 900


def _chunks[T](values: list[T]) -> list[list[T]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]


def _still_published(approvals: list[Transition]) -> list[int]:
    """Return the ids of approvals (of one content type) whose revision is public."""
    model = approvals[0].content_type.model_class()
    if model is None:
        return []
    object_ids = [approval.object_id for approval in approvals]
    published = dict(
        model._base_manager.filter(pk__in=object_ids).values_list(
            "pk", "published_revision_id"
        )
    )
    return [
        approval.pk
        for approval in approvals
        if published.get(approval.object_id) == approval.revision_id
    ]
