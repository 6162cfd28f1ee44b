"""The publishing state machine: states, actions and which action leads where.

Pure rules with no database access, shared by every content type that adopts
``Publishable``. ``workflow`` applies them to stored items.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    IN_REVIEW = "in_review", _("in central review")
    PUBLISHED = "published", _("published")
    RETURNED = "returned", _("returned")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Action(models.TextChoices):
    CREATE = "create", _("create")
    EDIT = "edit", _("edit")
    SUBMIT = "submit", _("submit")
    START_REVIEW = "start_review", _("start review")
    APPROVE = "approve", _("approve")
    RETURN = "return", _("return for changes")
    WITHDRAW = "withdraw", _("withdraw")


ALL_STATES = frozenset(State)

# The states an action may start from, and the state it leads to. An edit
# from any state makes a new draft: a pending submission or review is
# cancelled, because the reviewed revision is no longer the current one.
TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.EDIT: (ALL_STATES, State.DRAFT),
    Action.SUBMIT: (
        frozenset({State.DRAFT, State.RETURNED, State.WITHDRAWN}),
        State.SUBMITTED,
    ),
    Action.START_REVIEW: (frozenset({State.SUBMITTED}), State.IN_REVIEW),
    Action.APPROVE: (frozenset({State.IN_REVIEW}), State.PUBLISHED),
    Action.RETURN: (frozenset({State.SUBMITTED, State.IN_REVIEW}), State.RETURNED),
    Action.WITHDRAW: (ALL_STATES - {State.WITHDRAWN}, State.WITHDRAWN),
}

# Actions that require a reason, because the agency or the public needs it.
REASON_REQUIRED = frozenset({Action.RETURN, Action.WITHDRAW})

# Decisions on a revision: bound to the revision number shown to the
# reviewer, and barred to anyone who wrote or submitted it.
DECISIONS = frozenset({Action.APPROVE, Action.RETURN})

# Actions reserved to the central review team.
REVIEW_ACTIONS = frozenset({Action.START_REVIEW, Action.APPROVE, Action.RETURN})

# Items the central team has to look at, oldest first.
REVIEW_QUEUE_STATES = frozenset({State.SUBMITTED, State.IN_REVIEW})


def allowed_from(action: Action) -> frozenset[State]:
    """Return the states from which ``action`` is allowed."""
    return TRANSITIONS[action][0]


def target_state(state: str, action: Action) -> State | None:
    """Return the state ``action`` leads to from ``state``, or None if not allowed."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        return None
    return target
