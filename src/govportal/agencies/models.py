from django.db import models
from django.utils.translation import gettext_lazy as _


class Agency(models.Model):
    """A government agency (機關), keyed by its DGPA code or, failing that, its OID.

    The DGPA code list and the OID directory are separate registries. An agency
    created after the code list was published may have only an OID, so both
    keys are optional, and a constraint requires at least one.
    """

    code = models.CharField(
        _("agency code (機關代碼)"),
        max_length=10,
        unique=True,
        null=True,
        blank=True,
    )
    oid = models.CharField(_("OID"), max_length=80, unique=True, null=True, blank=True)
    name_zh = models.CharField(_("Chinese name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=300, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("level"), null=True, blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    established_on = models.DateField(_("established on"), null=True, blank=True)
    abolished_on = models.DateField(_("abolished on"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("successor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predecessors",
    )
    source = models.CharField(
        _("source registry"),
        max_length=40,
        blank=True,
        help_text=_("Which registry the record came from (dgpa, oid, manual)."),
    )

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code", "oid"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__isnull=False) | models.Q(oid__isnull=False),
                name="agency_has_code_or_oid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.key})"

    @property
    def key(self) -> str:
        """The identifier shown to staff and used in URLs: the code, else the OID."""
        return self.code or self.oid or ""

    @property
    def is_abolished(self) -> bool:
        return self.abolished_on is not None
