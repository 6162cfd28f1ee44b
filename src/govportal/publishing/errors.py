"""Errors of the publishing workflow, each with a stable code and parameters.

The message is formatted when the error is turned into text, so the admin
shows it in the staff member's language and an API can send ``code`` and
``params`` as they are.
"""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class PublishingError(Exception):
    """A rejected workflow operation. Nothing was changed."""

    code = "publishing_error"
    template: Promise | str = _("The publishing operation failed.")

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.code)

    def __str__(self) -> str:
        values = {key: _as_text(value) for key, value in self.params.items()}
        return str(self.template) % values


def _as_text(value: Any) -> str:
    """Render lazy labels in the active language and lists as comma lists."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


class InvalidTransitionError(PublishingError):
    code = "invalid_transition"
    template = _(
        "Cannot %(action)s %(item)s because it is %(state)s. This action is "
        "allowed only when the item is %(allowed)s. Reload the item to see "
        "its current state."
    )


class StaleRevisionError(PublishingError):
    code = "stale_revision"
    template = _(
        "Cannot %(action)s revision %(requested)s of %(item)s because the "
        "current revision is %(current)s. Open revision %(current)s and decide "
        "on that one."
    )


class FourEyesError(PublishingError):
    code = "four_eyes"
    template = _(
        "%(user)s cannot %(action)s revision %(revision)s of %(item)s because "
        "they edited or submitted it since the last approval. Another reviewer "
        "has to decide."
    )


class ReasonRequiredError(PublishingError):
    code = "reason_required"
    template = _(
        "A reason is required to %(action)s %(item)s. Write what has to change "
        "or why the item is taken down."
    )


class ReviewPermissionError(PublishingError):
    code = "review_permission"
    template = _(
        "%(user)s cannot %(action)s %(item)s because they lack the permission "
        "%(permission)s. Ask a portal administrator for the central reviewer "
        "role."
    )


class ConcurrentChangeError(PublishingError):
    code = "concurrent_change"
    template = _(
        "%(item)s changed while the %(action)s was being saved. Reload the "
        "item and try again."
    )


class NotPublishableError(PublishingError):
    code = "not_publishable"
    template = _(
        "Cannot approve revision %(revision)s of %(item)s: %(problem)s Correct "
        "it and submit it again."
    )
