import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from govportal.publishing.models import Publishable


class StreamKind(models.TextChoices):
    JPEG_SNAPSHOT = "jpeg_snapshot", _("JPEG snapshot")
    MJPEG = "mjpeg", _("MJPEG stream")
    HLS = "hls", _("HLS stream")
    EMBED_PAGE = "embed_page", _("embedded page")


class NoticeState(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    NOT_NEEDED = "not_needed", _("not needed: a new camera's first result")
    SENT = "sent", _("sent")
    MAINTENANCE = "maintenance", _("held back: maintenance window")
    NO_CONTACT = "no_contact", _("not sent: the agency has no camera contact")


class HealthState(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    UP = "up", _("up")
    DOWN = "down", _("down")


# Snapshot keys of a camera's content, in display order, with their labels.
SNAPSHOT_LABELS: dict[str, Promise] = {
    "name": _("name"),
    "region": _("region"),
    "road": _("road"),
    "direction": _("direction"),
    "section": _("road section"),
    "mileage": _("mileage"),
    "address": _("address"),
    "latitude": _("latitude"),
    "longitude": _("longitude"),
    "stream_kind": _("kind of stream"),
    "stream_url": _("stream URL"),
    "snapshot_url": _("snapshot URL"),
}

_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)


class CameraAgreement(models.Model):
    """An authorization agreement (授權同意書) under which an agency offers cameras."""

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="camera_agreements",
    )
    signed_on = models.DateField(_("signed on"))
    scope = models.TextField(
        _("scope"), help_text=_("Which cameras and uses the agreement covers.")
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Empty when the agreement has no end date."),
    )
    signed_file = models.FileField(
        _("signed file"), upload_to="camera-agreements/%Y/", blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("camera agreement")
        verbose_name_plural = _("camera agreements")
        ordering = ["agency", "-signed_on"]

    def __str__(self) -> str:
        return f"{self.agency.key} {self.signed_on.isoformat()}"

    def clean(self) -> None:
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise ValidationError(
                {"valid_until": _("The end date is before the start date.")}
            )


class ApprovedStreamHost(models.Model):
    """A host name from which an agency's cameras may embed pages."""

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.CASCADE,
        related_name="approved_stream_hosts",
    )
    host = models.CharField(
        _("host name"),
        max_length=253,
        help_text=_("A host name only, such as cctv.example.gov.tw, without https://."),
    )

    class Meta:
        verbose_name = _("approved stream host")
        verbose_name_plural = _("approved stream hosts")
        ordering = ["agency", "host"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "host"], name="stream_host_unique_per_agency"
            )
        ]

    def __str__(self) -> str:
        return self.host

    def clean(self) -> None:
        self.host = self.host.strip().lower().rstrip(".")
        if not _HOST_NAME.fullmatch(self.host):
            raise ValidationError(
                {
                    "host": _(
                        "%(value)s is not a host name. Enter a name such as "
                        "cctv.example.gov.tw, without scheme, port or path."
                    )
                    % {"value": repr(self.host)}
                }
            )


class Camera(Publishable):
    """A traffic or public camera whose stream the portal shows (監視器).

    The row stores the owner, the source's id and operational fields. The
    content (name, place, stream) lives in publishing revisions, see
    ``SNAPSHOT_LABELS``.
    """

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="cameras",
    )
    source_id = models.CharField(
        _("source ID"),
        max_length=100,
        help_text=_("The camera's id in the source list, used for re-imports."),
    )
    source_list = models.CharField(
        _("source list"),
        max_length=200,
        blank=True,
        help_text=_("The name of the list the camera was last imported from."),
    )
    agreement = models.ForeignKey(
        CameraAgreement,
        verbose_name=_("authorization agreement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cameras",
    )
    stream_problem = models.CharField(
        _("stream problem"),
        max_length=300,
        blank=True,
        help_text=_(
            "Why the current revision's stream cannot be shown publicly, which "
            "blocks its approval. Empty when it can."
        ),
    )
    stream_warnings = models.JSONField(
        _("stream warnings"),
        default=list,
        blank=True,
        help_text=_("Problems to fix that do not block publishing."),
    )
    health_state = models.CharField(
        _("health state"),
        max_length=10,
        choices=HealthState.choices,
        default=HealthState.UNKNOWN,
    )
    health_changed_at = models.DateTimeField(
        _("health changed at"), null=True, blank=True
    )

    snapshot_fields = list(SNAPSHOT_LABELS)

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["agency", "source_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "source_id"], name="camera_id_unique_per_agency"
            )
        ]

    def __str__(self) -> str:
        return self.source_id

    def publishing_label(self) -> str:
        return _("camera %(source_id)s of agency %(agency)s") % {
            "source_id": self.source_id,
            "agency": self.agency.key,
        }

    @property
    def is_publishable(self) -> bool:
        """Whether the current revision's stream may be shown, so approved."""
        return not self.stream_problem

    def approval_blocker(self) -> str:
        # The published revision passed this check when it was approved, so
        # a problem of a newer revision does not take it off the site.
        if not self.stream_problem:
            return ""
        return self.stream_problem.rstrip(".") + "."

    @property
    def name(self) -> str:
        """The name in the current revision (one query unless joined)."""
        if self.current_revision is None:
            return ""
        return str(self.current_revision.snapshot.get("name", ""))

    @classmethod
    def snapshot_label(cls, key: str) -> str | Promise:
        return SNAPSHOT_LABELS.get(key, key)

    @classmethod
    def snapshot_display(cls, key: str, value: Any) -> str:
        if key == "stream_kind" and value in StreamKind.values:
            return str(StreamKind(value).label)
        return super().snapshot_display(key, value)

    def clean(self) -> None:
        if self.agreement is not None and self.agreement.agency_id != self.agency_id:
            raise ValidationError(
                {"agreement": _("The agreement belongs to another agency.")}
            )


class CameraContact(models.Model):
    """A person or mailbox of an agency that gets mail about its cameras' state."""

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.CASCADE,
        related_name="camera_contacts",
    )
    email = models.EmailField(_("email address"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("camera contact")
        verbose_name_plural = _("camera contacts")
        ordering = ["agency", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "email"], name="camera_contact_unique_per_agency"
            )
        ]

    def __str__(self) -> str:
        return self.email


class MaintenanceWindow(models.Model):
    """A planned time in which an agency's cameras may fail without mail.

    A window without a camera covers every camera of the agency. Checks and
    state changes go on as usual during a window; only the mail is held back.
    """

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.CASCADE,
        related_name="camera_maintenance_windows",
    )
    camera = models.ForeignKey(
        "Camera",
        verbose_name=_("camera"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        help_text=_("Leave empty for every camera of the agency."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["agency", "ends_at"], name="camera_window_agency_end")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.starts_at.isoformat()}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError(
                {"ends_at": _("The window ends before it starts. Enter a later end.")}
            )
        if self.camera is not None and self.camera.agency_id != self.agency_id:
            raise ValidationError(
                {"camera": _("The camera belongs to another agency.")}
            )


class HostIncident(models.Model):
    """Several cameras of one stream host down at once: one incident, one notice."""

    host = models.CharField(_("host name"), max_length=253, db_index=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("host incident")
        verbose_name_plural = _("host incidents")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.host} {self.started_at.isoformat()}"


class CameraCheck(models.Model):
    """The stored outcome of one health check of a camera's stream."""

    camera = models.ForeignKey(
        Camera,
        verbose_name=_("camera"),
        on_delete=models.CASCADE,
        related_name="checks",
    )
    checked_at = models.DateTimeField(_("checked at"))
    ok = models.BooleanField(_("OK"))
    problem_code = models.CharField(
        _("problem code"),
        max_length=50,
        blank=True,
        help_text=_("Empty when the check passed, else a code such as timeout."),
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    elapsed_ms = models.PositiveIntegerField(_("elapsed time (ms)"))
    fingerprint = models.CharField(
        _("frame fingerprint"),
        max_length=80,
        blank=True,
        help_text=_("Average hash of the frame, for JPEG and MJPEG streams."),
    )
    media_sequence = models.BigIntegerField(
        _("HLS media sequence"), null=True, blank=True
    )
    segment_count = models.PositiveIntegerField(
        _("HLS segments"), null=True, blank=True
    )
    unchanged_since = models.DateTimeField(
        _("unchanged since"),
        null=True,
        blank=True,
        help_text=_("When the HLS playlist last advanced, while it stays the same."),
    )

    class Meta:
        verbose_name = _("camera check")
        verbose_name_plural = _("camera checks")
        ordering = ["camera", "-checked_at"]
        indexes = [
            models.Index(
                fields=["camera", "-checked_at"], name="camera_check_camera_time"
            ),
            # Today's availability and the nightly roll-up and purge.
            models.Index(fields=["checked_at"], name="camera_check_time"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.checked_at.isoformat()}"


class CameraDailyStats(models.Model):
    """A camera's checks of one local day, summed for the status page."""

    camera = models.ForeignKey(
        Camera,
        verbose_name=_("camera"),
        on_delete=models.CASCADE,
        related_name="daily_stats",
    )
    day = models.DateField(_("day"))
    checks = models.PositiveIntegerField(_("checks"))
    ok_checks = models.PositiveIntegerField(_("OK checks"))

    class Meta:
        verbose_name = _("camera daily statistics")
        verbose_name_plural = _("camera daily statistics")
        constraints = [
            models.UniqueConstraint(
                fields=["camera", "day"], name="camera_daily_stats_unique"
            )
        ]
        indexes = [models.Index(fields=["day"], name="camera_daily_stats_day")]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.day.isoformat()}"


class CameraHealthEvent(models.Model):
    """A change of a camera's health state, with the reason for it."""

    camera = models.ForeignKey(
        Camera,
        verbose_name=_("camera"),
        on_delete=models.CASCADE,
        related_name="health_events",
    )
    at = models.DateTimeField(_("changed at"))
    from_state = models.CharField(
        _("previous state"), max_length=10, choices=HealthState.choices
    )
    to_state = models.CharField(
        _("new state"), max_length=10, choices=HealthState.choices
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    host = models.CharField(_("stream host"), max_length=253, blank=True)
    problem_code = models.CharField(_("problem code"), max_length=50, blank=True)
    host_level = models.BooleanField(
        _("host problem"),
        default=False,
        help_text=_("The failure points at the host: no answer, or a 5xx status."),
    )
    incident = models.ForeignKey(
        HostIncident,
        verbose_name=_("host incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    notice = models.CharField(
        _("notice"),
        max_length=20,
        choices=NoticeState.choices,
        default=NoticeState.PENDING,
    )
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("camera health event")
        verbose_name_plural = _("camera health events")
        ordering = ["camera", "-at"]
        indexes = [
            models.Index(fields=["notice", "at"], name="camera_event_notice_at"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.from_state} -> {self.to_state}"


class CameraReport(models.Model):
    """A visitor's report that a camera is broken, and the re-check it caused."""

    camera = models.ForeignKey(
        Camera,
        verbose_name=_("camera"),
        on_delete=models.CASCADE,
        related_name="reports",
    )
    reported_at = models.DateTimeField(_("reported at"))
    description = models.TextField(_("description"), max_length=1000, blank=True)
    check_result = models.ForeignKey(
        CameraCheck,
        verbose_name=_("re-check"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The check run because of the report."),
    )
    handled = models.BooleanField(_("handled"), default=False)

    class Meta:
        verbose_name = _("camera report")
        verbose_name_plural = _("camera reports")
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.reported_at.isoformat()}"


class CameraSchedule(models.Model):
    """When a camera is next checked, and the claim of the worker checking it."""

    camera = models.OneToOneField(
        Camera,
        verbose_name=_("camera"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="check_schedule",
    )
    next_check_at = models.DateTimeField(_("next check at"), db_index=True)
    claimed_until = models.DateTimeField(
        _("claimed until"),
        null=True,
        blank=True,
        help_text=_("A worker has claimed the check until this time."),
    )

    class Meta:
        verbose_name = _("camera check schedule")
        verbose_name_plural = _("camera check schedules")

    def __str__(self) -> str:
        return f"{self.camera_id} {self.next_check_at.isoformat()}"
