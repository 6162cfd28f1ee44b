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

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from govportal.cameras.models import (
    Camera,
    CameraCheck,
    CameraHealthEvent,
    CameraSchedule,
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
        for camera, result in checked:
            outcomes.append(
                _update_state(camera, result, now, down_after, up_after, history_length)
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
                    target.kind, target.url, fetcher_or_policy=fetcher, limits=limits
                )
                for target in targets
            )
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
    )


def _update_state(
    camera: Camera,
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
        CameraHealthEvent.objects.create(
            camera=camera,
            at=now,
            from_state=previous_state,
            to_state=transition.state,
            reason=reason,
        )
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
