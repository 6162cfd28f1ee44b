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
    next_state,
)
from govportal.lib.httpfetch import Fetcher, FetchPolicy

logger = logging.getLogger(__name__)

FROZEN_PROBLEM_CODE = "frozen_frame"
# Stored checks older than this are not read: the last observation and the
# up/down history come from the newest checks, at most a few intervals old.
MIN_HISTORY_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class StreamTarget:
    """A camera's stream address, read before the event loop starts."""

    camera: Camera
    kind: str
    url: str
    # The camera's last stored check that saw a frame or an HLS position,
    # for frozen frames and stale playlists.
    previous: CheckResult | None = None
    # Outcomes of the camera's recent stored checks, newest first.
    recent_ok: tuple[bool, ...] = ()
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
    ``CAMERA_FROZEN_AFTER_SECONDS``; the checker compares each frame with the
    camera's last stored one, whose ``unchanged_since`` carries the run.
    """
    targets = [t for t in map(stream_target, cameras) if t is not None]
    if not targets:
        return []
    down_after = settings.CAMERA_DOWN_AFTER
    up_after = settings.CAMERA_UP_AFTER
    # next_state reads at most twice down_after results, its default window.
    history_length = max(2 * down_after, up_after)
    limits = limits or CheckLimits()
    if limits.frozen_after is None:
        limits = dataclasses.replace(
            limits,
            frozen_after=float(settings.CAMERA_FROZEN_AFTER_SECONDS),
        )
    targets = _with_history(targets, history_length, now or timezone.now())
    policy = policy or fetch_policy(
        per_host_limit=settings.CAMERA_PER_HOST_LIMIT,
        allow_https_downgrade=False,
    )
    results = asyncio.run(_check_all(targets, policy, limits))
    now = now or timezone.now()

    outcomes: list[CameraHealth] = []
    with transaction.atomic():
        CameraCheck.objects.bulk_create(
            _check_row(target.camera, result)
            for target, result in zip(targets, results, strict=True)
        )
        for target, result in zip(targets, results, strict=True):
            recent = [*reversed(target.recent_ok[: history_length - 1]), result.ok]
            outcomes.append(
                _update_state(target, result, now, down_after, up_after, recent)
            )
        CameraSchedule.objects.filter(
            camera_id__in=[target.camera.pk for target in targets]
        ).update(claimed_until=None)
    return outcomes


async def _check_all(
    targets: list[StreamTarget], policy: FetchPolicy, limits: CheckLimits
) -> list[CheckResult]:
    """Check every target, at most ``policy.per_host_limit`` at a time per host.

    A check's time limit starts when it gets its turn on the host, so
    cameras that never respond delay the other cameras of their host but do
    not make them time out.
    """
    turns: dict[str, asyncio.Semaphore] = {}
    for target in targets:
        turns.setdefault(target.host, asyncio.Semaphore(policy.per_host_limit))

    async def check(target: StreamTarget, fetcher: Fetcher) -> CheckResult:
        async with turns[target.host]:
            return await check_stream(
                target.kind,
                target.url,
                fetcher_or_policy=fetcher,
                limits=limits,
                previous=target.previous,
                allowed_hosts=target.allowed_hosts,
            )

    async with Fetcher(policy) as fetcher:
        return await asyncio.gather(*(check(target, fetcher) for target in targets))


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


def _with_history(
    targets: list[StreamTarget], history_length: int, now: datetime
) -> list[StreamTarget]:
    """Add each camera's recent checks and its agency's approved hosts.

    One query reads the batch's checks of the last few intervals, newest
    first, which contains both the last observation and the up/down history.
    """
    interval = timedelta(seconds=settings.CAMERA_CHECK_INTERVAL_SECONDS)
    window = max(interval * (history_length + 2), MIN_HISTORY_WINDOW)
    camera_ids = [target.camera.pk for target in targets]
    recent: dict[int, list[bool]] = {pk: [] for pk in camera_ids}
    previous: dict[int, CameraCheck] = {}
    rows = CameraCheck.objects.filter(
        camera_id__in=camera_ids, checked_at__gte=now - window
    ).order_by("camera_id", "-checked_at", "-id")
    for check in rows:
        outcomes = recent[check.camera_id]
        if len(outcomes) < history_length:
            outcomes.append(check.ok)
        observed = check.fingerprint or check.media_sequence is not None
        if observed and check.camera_id not in previous:
            previous[check.camera_id] = check
    agency_ids = {target.camera.agency_id for target in targets}
    hosts: dict[int, set[str]] = {agency_id: set() for agency_id in agency_ids}
    for agency_id, host in ApprovedStreamHost.objects.filter(
        agency_id__in=agency_ids
    ).values_list("agency_id", "host"):
        hosts[agency_id].add(host)
    return [
        dataclasses.replace(
            target,
            previous=_as_result(previous.get(target.camera.pk)),
            recent_ok=tuple(recent[target.camera.pk]),
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
    target: StreamTarget,
    result: CheckResult,
    now: datetime,
    down_after: int,
    up_after: int,
    recent: list[bool],
) -> CameraHealth:
    """Decide the camera's state from ``recent`` outcomes, oldest first."""
    camera = target.camera
    host = target.host
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
            problem_code=(
                "" if result.ok or transition.state == UP else result.problem_code
            ),
            host_level=transition.state != UP and is_host_problem(result),
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


# Failures that come from the host or the network rather than one camera.
HOST_PROBLEMS = frozenset(
    {"timeout", "connect_failed", "tls_error", "host_not_found", "protocol_error"}
)


def is_host_problem(result: CheckResult) -> bool:
    """Return whether a failed check points at the host: no response, or a 5xx."""
    if result.ok:
        return False
    if result.problem_code in HOST_PROBLEMS:
        return True
    return result.problem_code == "http_status" and " HTTP 5" in result.detail


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
        if not event.host_level:
            # A camera-level fault (404, no picture, frozen) does not mean
            # that its host is down.
            return
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
    minimum = settings.CAMERA_HOST_OUTAGE_MIN
    interval = settings.CAMERA_CHECK_INTERVAL_SECONDS
    recent = list(
        CameraHealthEvent.objects.filter(
            host=event.host,
            to_state=HealthState.DOWN,
            host_level=True,
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
