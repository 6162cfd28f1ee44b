"""One set of states and one history for every kind of published content.

A content model adopts the workflow by subclassing ``Publishable``. Its
content fields live in ``Revision`` snapshots, never in its own columns, so
the public keeps seeing ``published_revision`` while a newer
``current_revision`` waits for review. ``Revision`` and ``Transition`` are
keyed by content type and object id, so one table serves every content type
and the history can be listed per item, per agency and for the whole portal.
"""

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from govportal.publishing.states import Action, State


class Publishable(models.Model):
    """Abstract base of a content item that goes through central review.

    Subclasses keep only their identity (agency, keys) in columns. Change
    ``state`` and the revision fields only through ``govportal.publishing.
    workflow``, which records a ``Transition`` for every change.
    """

    state = models.CharField(
        _("state"),
        max_length=20,
        choices=State.choices,
        default=State.DRAFT,
        db_index=True,
    )
    current_revision = models.ForeignKey(
        "publishing.Revision",
        verbose_name=_("current revision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_revision = models.ForeignKey(
        "publishing.Revision",
        verbose_name=_("published revision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The revision shown to the public. Empty while nothing is public."),
    )
    approved_at = models.DateTimeField(
        _("approved at"),
        null=True,
        blank=True,
        help_text=_("When the published revision was approved."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    # django-stubs does not add the *_id attributes of an abstract model's keys.
    current_revision_id: int | None
    published_revision_id: int | None

    # Snapshot keys in display order, for the review diff.
    snapshot_fields: ClassVar[list[str]] = []

    class Meta:
        abstract = True

    def publishing_agency_id(self) -> int | None:
        """Return the id of the agency that owns the item, for the history."""
        return getattr(self, "agency_id", None)

    def publishing_label(self) -> str:
        """Name the item in error messages and the history."""
        return f"{self._meta.verbose_name} #{self.pk}"

    def approval_blocker(self) -> str:
        """Return why the current revision cannot be approved, or "" when it can.

        Types whose content can be stored but not shown, such as a camera with
        a plain-http stream, return the problem here. The workflow then
        rejects the approval with that text.
        """
        return ""

    def public_snapshot(self) -> dict[str, Any] | None:
        """Return the content shown to the public, or None while nothing is public."""
        if self.published_revision is None:
            return None
        return dict(self.published_revision.snapshot)

    @classmethod
    def snapshot_label(cls, key: str) -> str | Promise:
        """Return the label of a snapshot field for the review diff."""
        return key

    @classmethod
    def snapshot_display(cls, key: str, value: Any) -> str:
        """Return a snapshot value as plain text for the review diff."""
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return "" if value is None else str(value)


class RevisionImmutableError(Exception):
    """A stored revision was about to be changed."""


class Revision(models.Model):
    """An immutable snapshot of one item's content fields.

    ``number`` starts at 1 and increases by one per item. ``field_changes``
    stores, per field, the number and time of the revision that last changed
    it, so a report can tell which translation is older than its source.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    number = models.PositiveIntegerField(_("revision number"))
    snapshot = models.JSONField(_("content"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    field_changes = models.JSONField(_("field changes"), default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["content_type", "object_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "number"],
                name="revision_number_unique_per_item",
            )
        ]

    def __str__(self) -> str:
        return f"revision {self.number} of {self.content_type_id}/{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # NOTE: QuerySet.update() bypasses this check, and nothing in
        # govportal calls it on revisions.
        if not self._state.adding:
            raise RevisionImmutableError(
                f"{self} is stored and cannot change. Create a new revision instead."
            )
        super().save(*args, **kwargs)


class Transition(models.Model):
    """One recorded change of an item: who, when, from and to which state, why."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_state = models.CharField(
        _("from state"), max_length=20, choices=State.choices, blank=True
    )
    to_state = models.CharField(_("to state"), max_length=20, choices=State.choices)
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="transitions",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    live_at = models.DateTimeField(
        _("live at"),
        null=True,
        blank=True,
        help_text=_(
            "For an approval: when the public site first showed the approved revision."
        ),
    )

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"]),
            models.Index(fields=["agency", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]
        permissions = [
            ("review_content", "Can start review, approve and return content"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} of {self.content_type_id}/{self.object_id}: "
            f"{self.from_state or '-'} to {self.to_state}"
        )
