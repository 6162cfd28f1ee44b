"""Mail to agencies when their cameras go down or come back.

An agency's changes of health state are mailed together once the oldest of
them has waited CAMERA_NOTICE_DELAY_SECONDS. The checks of a host's cameras
are spread over the check interval, so the wait lets one mail cover a
failing host. It also makes a camera that goes down and soon comes back one
mail, not two. Changes inside a maintenance window are marked when they are
recorded and are not mailed. A mail that cannot be sent stays pending and is
tried again on the next run, because nothing is marked sent before the
relay accepts it.
"""

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from govportal.cameras.models import (
    CameraContact,
    CameraHealthEvent,
    HealthState,
    NoticeState,
)
from govportal.lib.textclean import clean_text

logger = logging.getLogger(__name__)

LOCAL_TIME = ZoneInfo("Asia/Taipei")
# Cameras named one by one in a host incident; the rest are counted.
INCIDENT_LISTED_CAMERAS = 20


@dataclass
class NoticeReport:
    mails_sent: int = 0
    events_sent: int = 0
    events_without_contact: int = 0
    mails_failed: int = 0


@dataclass(frozen=True)
class NoticeLine:
    """One camera's change as the mail shows it."""

    camera_id: int
    source_id: str
    name: str
    down: bool
    at: str
    reason: str
    admin_url: str


@dataclass
class IncidentBlock:
    host: str
    incident_id: int
    started_at: str
    ended_at: str
    lines: list[NoticeLine]

    @property
    def listed(self) -> list[NoticeLine]:
        return self.lines[:INCIDENT_LISTED_CAMERAS]

    @property
    def not_listed(self) -> int:
        return max(len(self.lines) - INCIDENT_LISTED_CAMERAS, 0)

    @property
    def down_count(self) -> int:
        return sum(1 for line in self.lines if line.down)

    @property
    def up_count(self) -> int:
        return len(self.lines) - self.down_count


def local_time(value: datetime) -> str:
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def send_pending_notices(now: datetime | None = None) -> NoticeReport:
    """Mail each agency whose oldest pending change waited long enough."""
    now = now or timezone.now()
    delay = timedelta(seconds=settings.CAMERA_NOTICE_DELAY_SECONDS)
    due_agencies = (
        CameraHealthEvent.objects.filter(
            notice=NoticeState.PENDING, at__lte=now - delay
        )
        .values("camera__agency_id")
        .distinct()
    )
    events = list(
        CameraHealthEvent.objects.filter(
            notice=NoticeState.PENDING,
            at__lte=now,
            camera__agency_id__in=due_agencies,
        )
        .select_related(
            "camera__agency",
            "camera__current_revision",
            "camera__published_revision",
            "incident",
        )
        .order_by("at", "id")
    )
    report = NoticeReport()
    by_agency: dict[int, list[CameraHealthEvent]] = defaultdict(list)
    for event in events:
        by_agency[event.camera.agency_id].append(event)
    contacts: dict[int, list[str]] = defaultdict(list)
    for agency_id, email in CameraContact.objects.filter(
        agency_id__in=list(by_agency)
    ).values_list("agency_id", "email"):
        contacts[agency_id].append(email)

    for agency_id, agency_events in by_agency.items():
        ids = [event.pk for event in agency_events]
        recipients = contacts.get(agency_id, [])
        if not recipients:
            CameraHealthEvent.objects.filter(pk__in=ids).update(
                notice=NoticeState.NO_CONTACT, notified_at=now
            )
            report.events_without_contact += len(ids)
            logger.warning(
                "camera notice not sent agency=%s events=%d: the agency has no "
                "camera contact; add one in the admin under camera contacts",
                agency_events[0].camera.agency.key,
                len(ids),
            )
            continue
        message = compose_notice(agency_events, recipients)
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            report.mails_failed += 1
            logger.error(
                "camera notice mail failed agency=%s events=%d, tried again on "
                "the next run: %s",
                agency_events[0].camera.agency.key,
                len(ids),
                exc,
            )
            continue
        CameraHealthEvent.objects.filter(pk__in=ids).update(
            notice=NoticeState.SENT, notified_at=now
        )
        report.mails_sent += 1
        report.events_sent += len(ids)
        logger.info(
            "camera notice sent agency=%s events=%d recipients=%d",
            agency_events[0].camera.agency.key,
            len(ids),
            len(recipients),
        )
    return report


def compose_notice(
    events: list[CameraHealthEvent], recipients: list[str]
) -> EmailMessage:
    """Return the mail for one agency's changes, in Chinese and English."""
    agency = events[0].camera.agency
    incidents: dict[int, IncidentBlock] = {}
    single: list[NoticeLine] = []
    for event in events:
        line = _line(event)
        if event.incident is None:
            single.append(line)
            continue
        block = incidents.get(event.incident.pk)
        if block is None:
            incident = event.incident
            block = IncidentBlock(
                host=incident.host,
                incident_id=incident.pk,
                started_at=local_time(incident.started_at),
                ended_at=local_time(incident.ended_at) if incident.ended_at else "",
                lines=[],
            )
            incidents[incident.pk] = block
        block.lines.append(line)
    down = sum(1 for event in events if event.to_state == HealthState.DOWN)
    up = len(events) - down
    context = {
        "agency": agency,
        "incidents": list(incidents.values()),
        "single": single,
        "down": down,
        "up": up,
        "office_url": settings.OFFICE_BASE_URL,
    }
    subject = (
        f"[govportal] 監視器狀態 Camera status: {down} 無法提供 down, {up} 恢復 back up"
    )
    body = render_to_string("cameras/notice_mail.txt", context)
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )


def _line(event: CameraHealthEvent) -> NoticeLine:
    camera = event.camera
    revision = camera.published_revision or camera.current_revision
    name = str(revision.snapshot.get("name", "")) if revision else ""
    return NoticeLine(
        camera_id=camera.pk,
        source_id=clean_text(camera.source_id),
        # One clean line each, so a name cannot add lines to the mail.
        name=clean_text(name or camera.source_id),
        down=event.to_state == HealthState.DOWN,
        at=local_time(event.at),
        reason=clean_text(event.reason),
        admin_url=(
            f"{settings.OFFICE_BASE_URL}/admin/cameras/camera/{camera.pk}/change/"
        ),
    )
