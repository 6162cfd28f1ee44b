from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Feed(models.Model):
    """An agency's news feed address, its approval and its fetch history."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending approval")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        FAILING = "failing", _("failing")

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="feeds",
    )
    url = models.URLField(_("feed address"), max_length=2000)
    title = models.CharField(_("feed title"), max_length=500, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    interval_minutes = models.PositiveIntegerField(
        _("fetch interval (minutes)"), default=60
    )

    # Registration and approval.
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    check_report = models.JSONField(
        _("check report"),
        default=dict,
        blank=True,
        help_text=_("What the check at registration found."),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.CharField(_("approved by"), max_length=150, blank=True)

    # Scheduling and health.
    next_fetch_at = models.DateTimeField(_("next fetch at"), null=True, blank=True)
    last_fetch_at = models.DateTimeField(_("last fetch at"), null=True, blank=True)
    last_success_at = models.DateTimeField(
        _("last good fetch at"), null=True, blank=True
    )
    last_unconditional_at = models.DateTimeField(
        _("last unconditional fetch at"), null=True, blank=True
    )
    consecutive_failures = models.PositiveIntegerField(
        _("failures in a row"), default=0
    )
    last_error_code = models.CharField(_("last problem"), max_length=40, blank=True)
    last_error_params = models.JSONField(default=dict, blank=True)
    last_error_at = models.DateTimeField(_("last problem at"), null=True, blank=True)
    last_item_count = models.PositiveIntegerField(
        _("items in last fetch"), null=True, blank=True
    )
    last_flags = models.JSONField(_("warnings of last fetch"), default=list, blank=True)

    # HTTP caching validators of the last 200 response.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    # A permanent redirect seen on the last fetch, waiting for an operator to
    # confirm it; the stored address is never rewritten silently.
    moved_to_url = models.URLField(max_length=2000, blank=True)
    moved_seen_count = models.PositiveIntegerField(default=0)

    # Some CMSs label Taiwan local time as GMT. Measured per feed, never assumed.
    gmt_means_local = models.BooleanField(_("GMT dates are local time"), default=False)

    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("feed")
        verbose_name_plural = _("feeds")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "url"], name="feed_unique_url_per_agency"
            )
        ]
        indexes = [models.Index(fields=["state", "next_fetch_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"

    @property
    def is_fetchable(self) -> bool:
        return self.state in {self.State.ACTIVE, self.State.FAILING}

    def backoff_delay(self) -> timedelta:
        """Return the wait before the next try after ``consecutive_failures``."""
        base = max(self.interval_minutes, 5)
        exponent = max(self.consecutive_failures - 1, 0)
        minutes = min(base * (2**exponent), settings.FEED_MAX_BACKOFF_MINUTES)
        return timedelta(minutes=minutes)

    def unconditional_due(self, now: datetime | None = None) -> bool:
        """Whether the next fetch must ignore validators (once a day at least)."""
        now = now or timezone.now()
        if self.last_unconditional_at is None:
            return True
        return now - self.last_unconditional_at >= timedelta(days=1)


class FetchLog(models.Model):
    """One fetch of one feed: kept for operators and trimmed by the daily purge."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="fetches")
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error_code = models.CharField(max_length=40, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    items_seen = models.PositiveIntegerField(default=0)
    items_new = models.PositiveIntegerField(default=0)
    items_updated = models.PositiveIntegerField(default=0)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("fetch")
        verbose_name_plural = _("fetches")

    def __str__(self) -> str:
        return f"feed {self.feed_id} at {self.started_at.isoformat()}"
