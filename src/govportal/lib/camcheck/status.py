"""Pure decisions about camera status: frozen frames, hysteresis, grouping.

Nothing here does I/O or reads the clock; callers pass the time in.
"""

import hashlib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from govportal.lib.camcheck.frames import FINGERPRINT_PREFIX

UP = "up"
DOWN = "down"
# State of a camera that no decision has been made for yet.
UNKNOWN = "unknown"
STATES = frozenset({UP, DOWN, UNKNOWN})


def fingerprint_distance(first: str, second: str) -> int:
    """Return the number of differing bits of two average hashes.

    Raises ValueError when either is not an ``ahash16:`` fingerprint.
    """
    return (_hash_bits(first) ^ _hash_bits(second)).bit_count()


def _hash_bits(fingerprint: str) -> int:
    if not fingerprint.startswith(FINGERPRINT_PREFIX):
        raise ValueError(f"not an average-hash fingerprint: {fingerprint[:40]!r}")
    return int(fingerprint[len(FINGERPRINT_PREFIX) :], 16)


def _same_frame(first: str, second: str, max_distance: int) -> bool:
    if first == second:
        return True
    try:
        return fingerprint_distance(first, second) <= max_distance
    except ValueError:
        return False


def frozen(
    fingerprints_with_times: Iterable[tuple[datetime, str | None]],
    now: datetime,
    frozen_after: timedelta | float,
    *,
    max_distance: int = 4,
) -> bool:
    """Return whether the newest frame has stayed the same for frozen_after.

    ``fingerprints_with_times`` are (time seen, fingerprint) pairs in any
    order. None stands for a check without a frame and is skipped. The
    run is the newest fingerprint and the older ones before it that are
    within ``max_distance`` bits of it, up to the first different frame.
    The frame is frozen when the run has at least two observations and its
    oldest is ``frozen_after`` (seconds when a float) or more before ``now``.
    """
    if not isinstance(frozen_after, timedelta):
        frozen_after = timedelta(seconds=frozen_after)
    seen = sorted(
        (entry for entry in fingerprints_with_times if entry[1] is not None),
        key=lambda entry: entry[0],
    )
    if len(seen) < 2:
        return False
    newest = seen[-1][1]
    assert newest is not None
    run_start = seen[-1][0]
    run_length = 0
    for seen_at, fingerprint in reversed(seen):
        assert fingerprint is not None
        if not _same_frame(fingerprint, newest, max_distance):
            break
        run_start = seen_at
        run_length += 1
    return run_length >= 2 and now - run_start >= frozen_after


class HasOk(Protocol):
    @property
    def ok(self) -> bool: ...


class Transition(NamedTuple):
    """New state of a camera, and whether a change event should be sent."""

    state: str
    changed: bool


def next_state(
    current_state: str,
    recent_results: Sequence[bool | HasOk],
    down_after: int = 3,
    up_after: int = 2,
    flap_window: int | None = None,
) -> Transition:
    """Decide a camera's state from its recent check results, newest last.

    A camera goes down after ``down_after`` failures in a row, or as many
    failures among the last ``flap_window`` results (default twice
    ``down_after``), so a camera that alternates between working and
    failing goes down too. It comes back up only after ``up_after`` good
    results in a row, so a flapping camera stays down and changes state
    once. A single failure changes nothing. A camera in the unknown state
    takes whichever state its results reach first. Results are bools or
    objects with an ``ok`` attribute, such as CheckResult.
    """
    if current_state not in STATES:
        raise ValueError(f"unknown camera state {current_state!r}")
    if down_after < 1 or up_after < 1:
        raise ValueError("down_after and up_after must be at least 1")
    window = flap_window if flap_window is not None else 2 * down_after
    if window < down_after:
        raise ValueError("flap_window must not be smaller than down_after")
    oks = [
        result if isinstance(result, bool) else result.ok for result in recent_results
    ]

    recovered = len(oks) >= up_after and all(oks[-up_after:])
    failed_in_row = len(oks) >= down_after and not any(oks[-down_after:])
    failed_in_window = oks[-window:].count(False) >= down_after
    failing = failed_in_row or failed_in_window

    if current_state == UP:
        new_state = DOWN if failing else UP
    elif current_state == DOWN:
        new_state = UP if recovered else DOWN
    elif recovered:
        new_state = UP
    elif failing:
        new_state = DOWN
    else:
        new_state = UNKNOWN
    return Transition(new_state, new_state != current_state)


@dataclass(frozen=True)
class StatusEvent:
    """A camera's change of state, found in one round of checks."""

    camera_id: Hashable
    # Host name of the camera's stream URL, lower-case.
    host: str
    # UP or DOWN.
    state: str


@dataclass(frozen=True)
class Incident:
    """Changes of one state on one host, to be reported as one message."""

    host: str
    state: str
    camera_ids: tuple[Hashable, ...]
    # True when at least min_cameras cameras of the host changed together,
    # which points at the host rather than at single cameras.
    host_outage: bool


def group_by_host_outage(
    events: Iterable[StatusEvent], min_cameras: int = 2
) -> list[Incident]:
    """Group one round's events into one incident per host and state.

    Hosts keep the order of their first event, camera ids the order of
    their events. Pass the events of one round only, because events of
    different rounds are merged as well.
    """
    if min_cameras < 1:
        raise ValueError("min_cameras must be at least 1")
    groups: dict[tuple[str, str], list[Hashable]] = {}
    for event in events:
        cameras = groups.setdefault((event.host.lower(), event.state), [])
        if event.camera_id not in cameras:
            cameras.append(event.camera_id)
    return [
        Incident(
            host=host,
            state=state,
            camera_ids=tuple(cameras),
            host_outage=len(cameras) >= min_cameras,
        )
        for (host, state), cameras in groups.items()
    ]


def schedule_offsets(
    camera_ids: Iterable[Hashable], interval_seconds: float
) -> dict[Hashable, float]:
    """Spread checks evenly over the interval, in an order fixed by the ids.

    Cameras are ordered by a SHA-256 hash of ``str(camera_id)`` and get
    offsets i * interval / n, so neighbouring ids do not hit one host at
    the same moment and every run computes the same schedule.
    NOTE: adding or removing a camera shifts the others' offsets, so one
    camera may once wait up to about two intervals between checks.
    """
    if interval_seconds <= 0:
        raise ValueError("interval_seconds must be positive")
    unique = list(dict.fromkeys(camera_ids))
    ordered = sorted(unique, key=_schedule_key)
    step = interval_seconds / len(ordered) if ordered else 0.0
    return {camera_id: index * step for index, camera_id in enumerate(ordered)}


def _schedule_key(camera_id: Hashable) -> tuple[bytes, str]:
    text = str(camera_id)
    return hashlib.sha256(text.encode("utf-8")).digest(), text
