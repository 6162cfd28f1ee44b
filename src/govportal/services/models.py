from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from govportal.publishing.models import Publishable
from govportal.services.fields import FIELD_ORDER, FIELDS_BY_KEY, Kind
from govportal.services.vocabularies import term_by_slug


class Service(Publishable):
    """A service an agency offers the public (服務), such as a licence or a benefit.

    The row stores only the owner and the agency's key. The content (names,
    eligibility, fees and the rest, see ``services.fields``) lives in
    publishing revisions: ``current_revision`` is the latest edit and
    ``published_revision`` the one shown to the public.
    """

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="services",
    )
    agency_service_id = models.CharField(
        _("agency's service ID"),
        max_length=100,
        help_text=_("The agency's own identifier for the service, used for updates."),
    )

    snapshot_fields = FIELD_ORDER

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["agency", "agency_service_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "agency_service_id"],
                name="service_id_unique_per_agency",
            )
        ]

    def __str__(self) -> str:
        return self.agency_service_id

    def publishing_label(self) -> str:
        return _("service %(service_id)s of agency %(agency)s") % {
            "service_id": self.agency_service_id,
            "agency": self.agency.key,
        }

    @property
    def name_zh(self) -> str:
        """The Chinese name in the current revision (one query unless joined)."""
        if self.current_revision is None:
            return ""
        return str(self.current_revision.snapshot.get("name_zh", ""))

    @classmethod
    def snapshot_label(cls, key: str) -> str | Promise:
        spec = FIELDS_BY_KEY.get(key)
        return spec.label if spec else key

    @classmethod
    def snapshot_display(cls, key: str, value: Any) -> str:
        spec = FIELDS_BY_KEY.get(key)
        if spec is None or spec.kind != Kind.TERMS or not isinstance(value, list):
            return super().snapshot_display(key, value)
        names = []
        for slug in value:
            term = term_by_slug(spec.terms, slug)
            names.append(f"{term.name_zh} ({slug})" if term else slug)
        return ", ".join(names)


class ServiceInReview(Service):
    """Services waiting for central review, as a list of their own in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("service awaiting review")
        verbose_name_plural = _("services awaiting review")
