"""The publishing operations: create, edit, submit, review, approve, return, withdraw.

Each operation locks the item row (``select_for_update``), checks the rules
of ``states`` against the fresh row, then writes with a conditional UPDATE
that matches the state and revision it read. The lock makes a concurrent
caller wait and then fail with a clear error on PostgreSQL. The conditional
UPDATE is the backstop where the lock is a no-op (SQLite), so two decisions
on one item can never both succeed. Every change records a ``Transition``.
"""

import json
import logging
from datetime import datetime
from typing import Any, Protocol

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from govportal.publishing.errors import (
    ConcurrentChangeError,
    FourEyesError,
    InvalidTransitionError,
    NotPublishableError,
    ReasonRequiredError,
    ReviewPermissionError,
    StaleRevisionError,
)
from govportal.publishing.models import Publishable, Revision, Transition
from govportal.publishing.signals import public_version_changed
from govportal.publishing.snapshot import (
    Snapshot,
    canonical_json,
    carry_field_changes,
    content_hash,
)
from govportal.publishing.states import (
    DECISIONS,
    REASON_REQUIRED,
    REVIEW_ACTIONS,
    Action,
    State,
    allowed_from,
    target_state,
)

logger = logging.getLogger(__name__)

REVIEW_PERMISSION = "publishing.review_content"


class Actor(Protocol):
    """The user who performs an operation, as Django's auth user provides it."""

    pk: Any

    def get_username(self) -> str: ...

    def has_perm(self, perm: str, obj: Any = None) -> bool: ...


# NOTE: who may edit, submit or withdraw an agency's items is not checked
# here. The back office and the API must limit callers to the owning agency
# or the central team.

# Actions after which the public site must show something else.
PUBLIC_CHANGES = frozenset({Action.APPROVE, Action.WITHDRAW})


def create_draft[P: Publishable](
    item: P, snapshot: Snapshot, author: Actor
) -> Revision:
    """Insert a new item in the draft state with revision 1 of its content.

    ``item`` is an unsaved instance with its identity fields (agency, keys)
    set. Database constraints on those fields raise ``IntegrityError``.
    """
    if not item._state.adding:
        raise ValueError(f"{item.publishing_label()} is already stored. Use edit().")
    with transaction.atomic():
        now = timezone.now()
        item.state = State.DRAFT
        item.created_at = now
        item.updated_at = now
        item.save(force_insert=True)
        revision = _add_revision(item, snapshot, author, None, now)
        item.current_revision = revision
        item.save(update_fields=["current_revision"])
        _record(item, Action.CREATE, State.DRAFT, revision, author, "", now)
    return revision


def edit[P: Publishable](item: P, snapshot: Snapshot, author: Actor) -> Revision:
    """Store changed content as a new revision and put the item back to draft.

    The published revision stays public until the new one is approved. A
    pending submission or review is cancelled, because it was for an older
    revision. Content equal to the current revision changes nothing, and
    the current revision is returned.
    """
    with transaction.atomic():
        locked = _lock(item)
        current = _current_revision(locked)
        if content_hash(snapshot) == current.content_hash:
            return current
        now = timezone.now()
        revision = _add_revision(locked, snapshot, author, current, now)
        changes = {"state": State.DRAFT, "current_revision": revision}
        _update(locked, Action.EDIT, changes, now)
        _record(locked, Action.EDIT, State.DRAFT, revision, author, "", now)
    _copy_changes(item, changes, now)
    return revision


def submit(item: Publishable, actor: Actor) -> Transition:
    """Send the current revision to the central review queue."""
    return _move(item, Action.SUBMIT, actor)


def start_review(item: Publishable, reviewer: Actor) -> Transition:
    """Mark a submitted item as taken up by the central review team."""
    return _move(item, Action.START_REVIEW, reviewer)


def approve(item: Publishable, revision_number: int, reviewer: Actor) -> Transition:
    """Publish revision ``revision_number``, which must still be the current one."""
    return _move(item, Action.APPROVE, reviewer, revision_number=revision_number)


def return_for_changes(
    item: Publishable, revision_number: int, reviewer: Actor, reason: str
) -> Transition:
    """Send revision ``revision_number`` back to the agency with a reason."""
    return _move(
        item, Action.RETURN, reviewer, revision_number=revision_number, reason=reason
    )


def withdraw(item: Publishable, actor: Actor, reason: str) -> Transition:
    """Take the item off the public site and out of review, with a reason."""
    return _move(item, Action.WITHDRAW, actor, reason=reason)


def _move(
    item: Publishable,
    action: Action,
    actor: Actor,
    *,
    revision_number: int | None = None,
    reason: str = "",
) -> Transition:
    reason = reason.strip()
    _check_actor(item, action, actor, reason)
    with transaction.atomic():
        locked = _lock(item)
        revision = _current_revision(locked)
        if revision_number is not None and revision_number != revision.number:
            raise StaleRevisionError(
                action=action.label,
                requested=revision_number,
                current=revision.number,
                item=item.publishing_label(),
            )
        target = _target_state(locked, action)
        if action in DECISIONS:
            _check_four_eyes(locked, revision, action, actor)
        if action == Action.APPROVE:
            problem = locked.approval_blocker()
            if problem:
                raise NotPublishableError(
                    revision=revision.number,
                    item=item.publishing_label(),
                    problem=problem,
                )
        now = timezone.now()
        changes = _state_changes(action, target, revision, now)
        _update(locked, action, changes, now)
        transition = _record(locked, action, target, revision, actor, reason, now)
        if action in PUBLIC_CHANGES:
            transaction.on_commit(
                lambda: public_version_changed.send(
                    sender=type(item), item=item, transition=transition
                )
            )
    _copy_changes(item, changes, now)
    return transition


def _check_actor(item: Publishable, action: Action, actor: Actor, reason: str) -> None:
    if action in REASON_REQUIRED and not reason:
        raise ReasonRequiredError(action=action.label, item=item.publishing_label())
    if action in REVIEW_ACTIONS and not actor.has_perm(REVIEW_PERMISSION):
        raise ReviewPermissionError(
            user=actor.get_username(),
            action=action.label,
            item=item.publishing_label(),
            permission=REVIEW_PERMISSION,
        )


def _target_state(item: Publishable, action: Action) -> State:
    target = target_state(item.state, action)
    if target is None:
        raise InvalidTransitionError(
            action=action.label,
            item=item.publishing_label(),
            state=State(item.state).label,
            allowed=[State(state).label for state in allowed_from(action)],
        )
    return target


def _state_changes(
    action: Action, target: State, revision: Revision, now: datetime
) -> dict[str, Any]:
    changes: dict[str, Any] = {"state": target}
    if action == Action.APPROVE:
        changes["published_revision"] = revision
        changes["approved_at"] = now
    elif action == Action.WITHDRAW:
        changes["published_revision"] = None
        changes["approved_at"] = None
    return changes


def _check_four_eyes(
    item: Publishable, revision: Revision, action: Action, actor: Actor
) -> None:
    if actor.pk in _contributors_since_approval(item):
        raise FourEyesError(
            user=actor.get_username(),
            action=action.label,
            revision=revision.number,
            item=item.publishing_label(),
        )


def _contributors_since_approval(item: Publishable) -> set[Any]:
    """Return the ids of users who wrote or submitted anything since the last approval.

    "Since" is by revision number for authors and by transition id for
    submitters, because a withdrawn item can be submitted again unchanged.
    """
    content_type, object_id = _key(item)
    history = Transition.objects.filter(content_type=content_type, object_id=object_id)
    last_approval = (
        history.filter(action=Action.APPROVE)
        .select_related("revision")
        .order_by("-id")
        .first()
    )
    approved_number = last_approval.revision.number if last_approval else 0
    approval_id = last_approval.pk if last_approval else 0
    authors = Revision.objects.filter(
        content_type=content_type, object_id=object_id, number__gt=approved_number
    ).values_list("author_id", flat=True)
    submitters = history.filter(action=Action.SUBMIT, id__gt=approval_id).values_list(
        "actor_id", flat=True
    )
    return set(authors) | set(submitters)


def _key(item: Publishable) -> tuple[ContentType, int]:
    content_type = ContentType.objects.get_for_model(item)
    return content_type, item.pk


def _lock[P: Publishable](item: P) -> P:
    if item.pk is None:
        raise ValueError("The item is not stored yet. Use create_draft().")
    return type(item)._base_manager.select_for_update().get(pk=item.pk)


def _current_revision(item: Publishable) -> Revision:
    if item.current_revision_id is None:
        raise ValueError(
            f"{item.publishing_label()} has no revision because it was not made "
            "with create_draft()."
        )
    return Revision.objects.get(pk=item.current_revision_id)


def _add_revision(
    item: Publishable,
    snapshot: Snapshot,
    author: Actor,
    previous: Revision | None,
    now: datetime,
) -> Revision:
    # A JSON round trip stores a private copy and fails early on values that
    # are not JSON, before anything is written.
    stored = json.loads(canonical_json(snapshot))
    number = previous.number + 1 if previous else 1
    field_changes = carry_field_changes(
        previous.snapshot if previous else {},
        previous.field_changes if previous else {},
        stored,
        number,
        now,
    )
    content_type, object_id = _key(item)
    return Revision.objects.create(
        content_type=content_type,
        object_id=object_id,
        number=number,
        snapshot=stored,
        content_hash=content_hash(stored),
        field_changes=field_changes,
        author_id=author.pk,
        created_at=now,
    )


def _update(
    locked: Publishable, action: Action, changes: dict[str, Any], now: datetime
) -> None:
    matched = (
        type(locked)
        ._base_manager.filter(
            pk=locked.pk,
            state=locked.state,
            current_revision_id=locked.current_revision_id,
        )
        .update(updated_at=now, **changes)
    )
    if matched != 1:
        raise ConcurrentChangeError(item=locked.publishing_label(), action=action.label)


def _record(
    item: Publishable,
    action: Action,
    target: str,
    revision: Revision,
    actor: Actor,
    reason: str,
    now: datetime,
) -> Transition:
    """Store the transition. ``item.state`` must still be the state before it."""
    content_type, object_id = _key(item)
    transition = Transition.objects.create(
        content_type=content_type,
        object_id=object_id,
        agency_id=item.publishing_agency_id(),
        action=action,
        from_state=item.state if action != Action.CREATE else "",
        to_state=target,
        revision=revision,
        actor_id=actor.pk,
        reason=reason,
        created_at=now,
    )
    logger.info(
        "publishing action=%s item=%s/%s revision=%d actor=%s from=%s to=%s",
        action.value,
        content_type.model,
        object_id,
        revision.number,
        actor.pk,
        transition.from_state or "-",
        target,
    )
    return transition


def _copy_changes(item: Publishable, changes: dict[str, Any], now: datetime) -> None:
    """Bring the caller's instance up to date with what was written."""
    for name, value in changes.items():
        setattr(item, name, value)
    item.updated_at = now
