"""API keys of agency integrations, and the sandbox copy of their services."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govportal.publishing.states import State


class Environment(models.TextChoices):
    TEST = "test", _("test (sandbox)")
    PRODUCTION = "production", _("production")


# The environment's word in the visible key prefix, such as "gpk_live_".
KEY_PREFIX_WORDS = {Environment.TEST: "test", Environment.PRODUCTION: "live"}


class ApiKey(models.Model):
    """A secret an agency's system sends to the integration API.

    Only the SHA-256 hash of the full key is stored, so the key is shown once
    when issued and cannot be recovered. ``public_id`` is the visible part of
    the key that finds the row. Calls made with the key are recorded as made
    by ``user``, the agency's integration account: deactivating that account
    suspends every key of the integration.
    """

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("integration account"),
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    environment = models.CharField(
        _("environment"), max_length=20, choices=Environment.choices
    )
    public_id = models.CharField(_("public ID"), max_length=20, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    label = models.CharField(_("label"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["agency", "-created_at"]

    def __str__(self) -> str:
        return self.prefix

    @property
    def prefix(self) -> str:
        """The public start of the key, such as ``gpk_live_k3j9x0a2b7qe``."""
        word = KEY_PREFIX_WORDS[Environment(self.environment)]
        return f"gpk_{word}_{self.public_id}"


class SandboxService(models.Model):
    """A service as the sandbox stores it: validated, never published or reviewed.

    The sandbox imitates the production states (a write leads to
    ``submitted``, a withdrawal to ``withdrawn``) so integrations can test
    their handling of them. ``field_changes`` has the same form as a
    publishing revision's, for the English staleness report.
    """

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.CASCADE,
        related_name="sandbox_services",
    )
    agency_service_id = models.CharField(_("agency's service ID"), max_length=100)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.SUBMITTED
    )
    revision = models.PositiveIntegerField(_("revision number"), default=1)
    snapshot = models.JSONField(_("content"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    field_changes = models.JSONField(_("field changes"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox service")
        verbose_name_plural = _("sandbox services")
        ordering = ["agency", "agency_service_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "agency_service_id"],
                name="sandbox_service_id_unique_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"sandbox {self.agency_service_id}"
