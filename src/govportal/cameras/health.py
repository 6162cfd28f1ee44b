"""Health checks of camera streams: run the checks and store the outcome.

This is the I/O edge around ``govportal.lib.camcheck``, which makes the
decisions (frozen frames, up/down hysteresis) without touching the
database or the clock.
"""

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from govportal.cameras.models import (
    ApprovedStreamHost,
    Camera,
    CameraCheck,
    CameraHealthEvent,
    CameraSchedule,
    HealthState,
    HostIncident,
    MaintenanceWindow,
    NoticeState,
)
from govportal.feeds.ingest import fetch_policy
from govportal.lib.camcheck import (
    KINDS,
    UP,
    CheckLimits,
    CheckResult,
    check_stream,
    frozen,
    next_state,
)
from govportal.lib.httpfetch import Fetcher, FetchPolicy

logger = logging.getLogger(__name__)

# A 16x16 average hash ignores small changes such as an overlaid clock, so a
# live camera on a still scene looks frozen for a while. Keep this long.
DEFAULT_FROZEN_AFTER_SECONDS = 30 * 60
FROZEN_PROBLEM_CODE = "frozen_frame"
# Maximum number of stored checks read per camera to find a frozen frame.
# NOTE: a camera checked more often than this within frozen_after has its
# older rows in the window skipped, so a changed frame among them is missed.
MAX_FROZEN_HISTORY = 100


@dataclass(frozen=True)
class StreamTarget:
    """A camera's stream address, read before the event loop starts."""

    camera: Camera
    kind: str
    url: str
    # The camera's last stored check, for stale HLS playlists.
    previous: CheckResult | None = None
    # Hosts besides the playlist's own that an HLS playlist may point at.
    allowed_hosts: frozenset[str] | None = None

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").rstrip(".").lower()


@dataclass(frozen=True)
class CameraHealth:
    """Outcome of one check of one camera and the state decided from it."""

    camera_id: int
    result: CheckResult
    state: str
    changed: bool


def stream_target(camera: Camera) -> StreamTarget | None:
    """Return the published (else current) stream of a camera, or None."""
    snapshot = camera.public_snapshot()
    if snapshot is None and camera.current_revision is not None:
        snapshot = dict(camera.current_revision.snapshot)
    if not snapshot:
        return None
    kind = str(snapshot.get("stream_kind") or "")
    url = str(snapshot.get("stream_url") or "")
    if kind not in KINDS or not url:
        return None
    return StreamTarget(camera, kind, url)


def check_cameras(
    cameras: Iterable[Camera],
    *,
    policy: FetchPolicy | None = None,
    now: datetime | None = None,
    limits: CheckLimits | None = None,
) -> list[CameraHealth]:
    """Check each camera's stream, store the checks and update health states.

    Cameras without a stream address or with an unknown stream kind are
    skipped and missing from the returned list. The frozen-frame rule uses
    ``limits.frozen_after`` when set, else the setting
    ``CAMERA_FROZEN_AFTER_SECONDS``.
    """
    targets = [t for t in map(stream_target, cameras) if t is not None]
    if not targets:
        return []
    targets = _with_history(targets)
    limits = limits or CheckLimits()
    results = asyncio.run(_check_all(targets, policy or fetch_policy(), limits))
    now = now or timezone.now()

    frozen_after = limits.frozen_after
    if frozen_after is None:
        frozen_after = float(
            getattr(
                settings, "CAMERA_FROZEN_AFTER_SECONDS", DEFAULT_FROZEN_AFTER_SECONDS
            )
        )
    down_after = int(getattr(settings, "CAMERA_DOWN_AFTER", 3))
    up_after = int(getattr(settings, "CAMERA_UP_AFTER", 2))
    # next_state reads at most twice down_after results, its default window.
    history_length = max(2 * down_after, up_after)

    outcomes: list[CameraHealth] = []
    with transaction.atomic():
        checked = []
        for target, result in zip(targets, results, strict=True):
            result = _apply_frozen(target.camera, result, now, frozen_after, limits)
            checked.append((target.camera, result))
        CameraCheck.objects.bulk_create(
            _check_row(camera, result) for camera, result in checked
        )
        for target, (camera, result) in zip(targets, checked, strict=True):
            outcomes.append(
                _update_state(
                    camera,
                    target.host,
                    result,
                    now,
                    down_after,
                    up_after,
                    history_length,
                )
            )
        CameraSchedule.objects.filter(
            camera_id__in=[camera.pk for camera, _ in checked]
        ).update(claimed_until=None)
    return outcomes


async def _check_all(
    targets: list[StreamTarget], policy: FetchPolicy, limits: CheckLimits
) -> list[CheckResult]:
    async with Fetcher(policy) as fetcher:
        return await asyncio.gather(
            *(
                check_stream(
                    target.kind,
                    target.url,
                    fetcher_or_policy=fetcher,
                    limits=limits,
                    previous=target.previous,
                    allowed_hosts=target.allowed_hosts,
                )
                for target in targets
            )
        )


def public_camera_fingerprint() -> dict[str, str | int]:
    """Return a summary that changes when what the public site shows of cameras does.

    It covers publishing (a camera approved, edited or withdrawn) and every
    change of health state, and the hour, so the status page's availability
    figures are at most an hour old.
    """
    summary = Camera.objects.filter(published_revision__isnull=False).aggregate(
        count=models.Count("id"),
        down=models.Count("id", filter=Q(health_state=HealthState.DOWN)),
        revisions=models.Sum("published_revision_id"),
        changed=models.Max("health_changed_at"),
    )
    if not summary["count"]:
        return {"count": 0}
    changed = summary["changed"]
    return {
        "count": summary["count"],
        "down": summary["down"],
        "revisions": summary["revisions"] or 0,
        "changed": changed.isoformat() if changed else "",
        "hour": timezone.now().strftime("%Y-%m-%dT%H"),
    }


def _with_history(targets: list[StreamTarget]) -> list[StreamTarget]:
    """Add each camera's last check and its agency's approved hosts."""
    camera_ids = [target.camera.pk for target in targets]
    latest: dict[int, CameraCheck] = {}
    # One query per batch: the newest check of each camera, found as the
    # newest row id, which grows with time within a camera.
    newest_ids = (
        CameraCheck.objects.filter(camera_id__in=camera_ids)
        .values("camera_id")
        .annotate(newest=models.Max("id"))
        .values_list("newest", flat=True)
    )
    for check in CameraCheck.objects.filter(id__in=list(newest_ids)):
        latest[check.camera_id] = check
    agency_ids = {target.camera.agency_id for target in targets}
    hosts: dict[int, set[str]] = {agency_id: set() for agency_id in agency_ids}
    for agency_id, host in ApprovedStreamHost.objects.filter(
        agency_id__in=agency_ids
    ).values_list("agency_id", "host"):
        hosts[agency_id].add(host)
    return [
        dataclasses.replace(
            target,
            previous=_as_result(latest.get(target.camera.pk)),
            allowed_hosts=frozenset(hosts[target.camera.agency_id]),
        )
        for target in targets
    ]


def _as_result(check: CameraCheck | None) -> CheckResult | None:
    if check is None:
        return None
    return CheckResult(
        ok=check.ok,
        problem_code=check.problem_code,
        detail=check.detail,
        elapsed_ms=check.elapsed_ms,
        fingerprint=check.fingerprint or None,
        media_sequence=check.media_sequence,
        checked_at=check.checked_at,
        segment_count=check.segment_count,
        unchanged_since=check.unchanged_since,
    )


def _apply_frozen(
    camera: Camera,
    result: CheckResult,
    now: datetime,
    frozen_after: float,
    limits: CheckLimits,
) -> CheckResult:
    """Return ``result`` as a frozen_frame failure when the frame stopped changing."""
    if not result.ok or result.fingerprint is None:
        return result
    # The run can only reach frozen_after with observations from that window
    # and the one just before it, so older rows are not read.
    since = now - timedelta(seconds=frozen_after)
    history: list[tuple[datetime, str | None]] = list(
        CameraCheck.objects.filter(camera=camera, checked_at__gte=since)
        .exclude(fingerprint="")
        .order_by("-checked_at")
        .values_list("checked_at", "fingerprint")[:MAX_FROZEN_HISTORY]
    )
    before = (
        CameraCheck.objects.filter(camera=camera, checked_at__lt=since)
        .exclude(fingerprint="")
        .order_by("-checked_at")
        .values_list("checked_at", "fingerprint")
        .first()
    )
    if before is not None:
        history.append(before)
    history.append((result.checked_at, result.fingerprint))
    if not frozen(history, now, frozen_after, max_distance=limits.frozen_max_distance):
        return result
    return dataclasses.replace(
        result,
        ok=False,
        problem_code=FROZEN_PROBLEM_CODE,
        detail=f"the frame has not changed for {frozen_after:g} s or more",
    )


def _check_row(camera: Camera, result: CheckResult) -> CameraCheck:
    return CameraCheck(
        camera=camera,
        checked_at=result.checked_at,
        ok=result.ok,
        problem_code=result.problem_code[:50],
        detail=result.detail[:300],
        elapsed_ms=max(result.elapsed_ms, 0),
        fingerprint=result.fingerprint or "",
        media_sequence=result.media_sequence,
        segment_count=result.segment_count,
        unchanged_since=result.unchanged_since,
    )


def _update_state(
    camera: Camera,
    host: str,
    result: CheckResult,
    now: datetime,
    down_after: int,
    up_after: int,
    history_length: int,
) -> CameraHealth:
    recent = list(
        CameraCheck.objects.filter(camera=camera)
        .order_by("-checked_at", "-id")
        .values_list("ok", flat=True)[:history_length]
    )
    recent.reverse()
    previous_state = camera.health_state
    transition = next_state(
        previous_state, recent, down_after=down_after, up_after=up_after
    )
    if transition.changed:
        reason = _change_reason(transition.state, recent, result, up_after)
        camera.health_state = transition.state
        camera.health_changed_at = now
        camera.save(update_fields=["health_state", "health_changed_at"])
        event = CameraHealthEvent.objects.create(
            camera=camera,
            at=now,
            from_state=previous_state,
            to_state=transition.state,
            reason=reason,
            host=host,
            notice=_first_notice(camera, previous_state, now),
        )
        _join_incident(event, now)
        logger.info(
            "camera health changed camera=%s from=%s to=%s reason=%s",
            camera.pk,
            previous_state,
            transition.state,
            reason,
        )
    return CameraHealth(camera.pk, result, transition.state, transition.changed)


def _change_reason(
    state: str, recent: list[bool], result: CheckResult, up_after: int
) -> str:
    if state == UP:
        return f"{up_after} good checks in a row"
    failures = recent.count(False)
    reason = f"{failures} of the last {len(recent)} checks failed"
    if not result.ok:
        reason += f", last with {result.problem_code}: {result.detail}"
    return reason[:300]


def _first_notice(camera: Camera, previous_state: str, now: datetime) -> str:
    """Return how the agency is to hear of a change: by mail, or not at all.

    The first result of a new camera (unknown to up) is no news. Changes in
    a maintenance window are recorded but not mailed.
    """
    if previous_state == HealthState.UNKNOWN and camera.health_state == HealthState.UP:
        return NoticeState.NOT_NEEDED
    in_window = (
        MaintenanceWindow.objects.filter(
            agency_id=camera.agency_id, starts_at__lte=now, ends_at__gt=now
        )
        .filter(Q(camera__isnull=True) | Q(camera_id=camera.pk))
        .exists()
    )
    return NoticeState.MAINTENANCE if in_window else NoticeState.PENDING


def _join_incident(event: CameraHealthEvent, now: datetime) -> None:
    """Group a change with the other cameras of its host that changed alike.

    A host has one open incident while several of its cameras are down.
    A camera that goes down joins the host's open incident, or opens one when
    enough cameras of the host went down within one check interval. A camera
    that comes back joins the open incident too, and the last one back
    closes it.
    """
    if not event.host:
        return
    open_incident = (
        HostIncident.objects.select_for_update()
        .filter(host=event.host, ended_at__isnull=True)
        .order_by("-started_at")
        .first()
    )
    if event.to_state == HealthState.DOWN:
        if open_incident is None:
            open_incident = _open_incident(event, now)
        if open_incident is not None:
            CameraHealthEvent.objects.filter(pk=event.pk).update(incident=open_incident)
        return
    if open_incident is None:
        return
    CameraHealthEvent.objects.filter(pk=event.pk).update(incident=open_incident)
    still_down = Camera.objects.filter(
        health_events__incident=open_incident, health_state=HealthState.DOWN
    ).exists()
    if not still_down:
        open_incident.ended_at = now
        open_incident.save(update_fields=["ended_at"])
        logger.info(
            "host incident ended host=%s incident=%s", event.host, open_incident.pk
        )


def _open_incident(event: CameraHealthEvent, now: datetime) -> HostIncident | None:
    minimum = int(getattr(settings, "CAMERA_HOST_OUTAGE_MIN", 3))
    interval = float(getattr(settings, "CAMERA_CHECK_INTERVAL_SECONDS", 300))
    recent = list(
        CameraHealthEvent.objects.filter(
            host=event.host,
            to_state=HealthState.DOWN,
            incident__isnull=True,
            at__gte=now - timedelta(seconds=interval),
            camera__health_state=HealthState.DOWN,
        ).values_list("pk", "at")
    )
    if len(recent) < minimum:
        return None
    incident = HostIncident.objects.create(
        host=event.host, started_at=min(at for _, at in recent)
    )
    CameraHealthEvent.objects.filter(pk__in=[pk for pk, _ in recent]).update(
        incident=incident
    )
    logger.warning(
        "host incident opened host=%s incident=%s cameras=%d",
        event.host,
        incident.pk,
        len(recent),
    )
    return incident
