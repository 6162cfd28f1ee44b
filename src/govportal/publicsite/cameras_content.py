"""Loading of the public cameras and their availability for the camera pages.

A camera is public when it has a published revision (approval checks its
stream, see ``Camera.approval_blocker``) and its published snapshot names a
known stream kind and a stream URL (``PUBLIC_CAMERAS``). Only the published
snapshot is read, so an edit waiting for review never reaches the public.
One query loads the cameras with their agency, snapshot and last check
time, and one loads the approved stream hosts. Each availability window
takes two aggregate queries (rolled-up days and today, see
``govportal.cameras.availability``), so the number of queries does not grow
with the number of cameras.
"""

import logging
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, Subquery

from govportal.cameras.availability import availability_by_agency, ensure_rollups
from govportal.cameras.models import (
    ApprovedStreamHost,
    Camera,
    CameraCheck,
    HealthState,
    StreamKind,
)

logger = logging.getLogger(__name__)

# Days of the availability windows on the status page, shortest first.
AVAILABILITY_WINDOWS_DAYS = (7, 30)

# The filter of public cameras, for the camera query and the availability
# queries alike, so both count the same cameras.
PUBLIC_CAMERAS = (
    Q(published_revision__isnull=False)
    & Q(published_revision__snapshot__stream_kind__in=StreamKind.values)
    & Q(published_revision__snapshot__has_key="stream_url")
    & ~Q(published_revision__snapshot__stream_url="")
)


@dataclass(slots=True)
class CameraEntry:
    """A public camera: identity, published content and health."""

    pk: int
    agency_id: int
    # The agency's code, else its OID. It may fail is_safe_agency_key.
    agency_key: str
    agency_name: str
    name: str
    # County or city, or the road for freeway cameras. "" when the list has none.
    region: str
    road: str
    direction: str
    section: str
    mileage: str
    address: str
    latitude: float | None
    longitude: float | None
    stream_kind: str
    stream_url: str
    # "" when the list has no separate still picture.
    snapshot_url: str
    health_state: str
    health_changed_at: datetime | None
    last_checked_at: datetime | None

    @property
    def is_down(self) -> bool:
        return self.health_state == HealthState.DOWN


@dataclass(slots=True)
class Availability:
    """Checks of an agency's public cameras within one window."""

    checks: int = 0
    ok: int = 0

    @property
    def share(self) -> float | None:
        """The fraction of OK checks, or None without checks."""
        if not self.checks:
            return None
        return self.ok / self.checks


@dataclass(slots=True)
class AgencyCameraStatus:
    """Camera counts by health state and availability of one agency."""

    agency_id: int
    agency_key: str
    agency_name: str
    cameras: int = 0
    up: int = 0
    down: int = 0
    unknown: int = 0
    # Availability by window length in days, see AVAILABILITY_WINDOWS_DAYS.
    availability: dict[int, Availability] = field(default_factory=dict)


@dataclass(slots=True)
class CameraContent:
    # Sorted by primary key.
    cameras: list[CameraEntry]
    # Approved embed host names (lower case) by agency id.
    approved_hosts: dict[int, frozenset[str]]
    # Agencies with public cameras, sorted by Chinese name and key.
    agencies: list[AgencyCameraStatus]


def load_cameras(now: datetime) -> CameraContent:
    """Load the public cameras, approved hosts and availability up to ``now``."""
    cameras = _load_entries()
    if not cameras:
        return CameraContent(cameras=[], approved_hosts={}, agencies=[])
    agency_ids = {entry.agency_id for entry in cameras}
    hosts: dict[int, set[str]] = {}
    host_rows = ApprovedStreamHost.objects.filter(agency_id__in=agency_ids)
    for agency_id, host in host_rows.values_list("agency_id", "host"):
        hosts.setdefault(agency_id, set()).add(host.strip().lower().rstrip("."))
    approved_hosts = {agency_id: frozenset(names) for agency_id, names in hosts.items()}
    return CameraContent(
        cameras=cameras,
        approved_hosts=approved_hosts,
        agencies=_agency_statuses(cameras, now),
    )


def _load_entries() -> list[CameraEntry]:
    last_check = (
        CameraCheck.objects.filter(camera=OuterRef("pk"))
        .order_by("-checked_at")
        .values("checked_at")[:1]
    )
    rows = (
        Camera.objects.filter(PUBLIC_CAMERAS)
        .annotate(last_checked_at=Subquery(last_check))
        .order_by("pk")
        .values_list(
            "pk",
            "agency_id",
            "agency__code",
            "agency__oid",
            "agency__name_zh",
            "published_revision__snapshot",
            "health_state",
            "health_changed_at",
            "last_checked_at",
        )
    )
    entries: list[CameraEntry] = []
    for (
        pk,
        agency_id,
        agency_code,
        agency_oid,
        agency_name,
        snapshot,
        health_state,
        health_changed_at,
        last_checked_at,
    ) in rows.iterator(chunk_size=2000):
        entry = _entry(
            pk,
            agency_id,
            agency_code or agency_oid or "",
            agency_name,
            snapshot,
            health_state,
            health_changed_at,
            last_checked_at,
        )
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(
    pk: int,
    agency_id: int,
    agency_key: str,
    agency_name: str,
    snapshot: Any,
    health_state: str,
    health_changed_at: datetime | None,
    last_checked_at: datetime | None,
) -> CameraEntry | None:
    """Build an entry from a published snapshot, or None when it is unusable."""
    if not isinstance(snapshot, dict):
        logger.warning("camera published snapshot is not an object camera=%s", pk)
        return None
    stream_url = snapshot.get("stream_url")
    if not isinstance(stream_url, str) or not stream_url.strip():
        logger.warning("camera published stream URL is not text camera=%s", pk)
        return None
    snapshot_url = snapshot.get("snapshot_url")
    return CameraEntry(
        pk=pk,
        agency_id=agency_id,
        agency_key=agency_key,
        agency_name=agency_name,
        name=clean_text(snapshot.get("name")) or str(pk),
        region=clean_text(snapshot.get("region")),
        road=clean_text(snapshot.get("road")),
        direction=clean_text(snapshot.get("direction")),
        section=clean_text(snapshot.get("section")),
        mileage=clean_text(snapshot.get("mileage")),
        address=clean_text(snapshot.get("address")),
        latitude=coordinate(snapshot.get("latitude")),
        longitude=coordinate(snapshot.get("longitude")),
        stream_kind=str(snapshot.get("stream_kind")),
        stream_url=stream_url.strip(),
        snapshot_url=snapshot_url.strip() if isinstance(snapshot_url, str) else "",
        health_state=health_state,
        health_changed_at=health_changed_at,
        last_checked_at=last_checked_at,
    )


def clean_text(value: object) -> str:
    """Return a snapshot value as stripped NFC text, or "" when it is not text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFC", value).strip()


def coordinate(value: object) -> float | None:
    """Return a finite number from a snapshot, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _agency_statuses(
    cameras: list[CameraEntry], now: datetime
) -> list[AgencyCameraStatus]:
    statuses: dict[int, AgencyCameraStatus] = {}
    for entry in cameras:
        status = statuses.get(entry.agency_id)
        if status is None:
            status = AgencyCameraStatus(
                entry.agency_id, entry.agency_key, entry.agency_name
            )
            statuses[entry.agency_id] = status
        status.cameras += 1
        if entry.health_state == HealthState.UP:
            status.up += 1
        elif entry.health_state == HealthState.DOWN:
            status.down += 1
        else:
            status.unknown += 1
    ensure_rollups(now)
    public = Camera.objects.filter(PUBLIC_CAMERAS)
    for days in AVAILABILITY_WINDOWS_DAYS:
        for status in statuses.values():
            status.availability[days] = Availability()
        for agency_id, (checks, ok) in availability_by_agency(
            public, now, days
        ).items():
            status = statuses.get(agency_id)
            if status is not None:
                status.availability[days] = Availability(checks=checks, ok=ok)
    return sorted(
        statuses.values(), key=lambda status: (status.agency_name, status.agency_key)
    )
