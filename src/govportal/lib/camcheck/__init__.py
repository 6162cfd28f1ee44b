"""Health checks of agency camera streams, and the status decisions on them.

``check_stream`` reads a JPEG snapshot, MJPEG stream, HLS playlist or
embed page through the guarded HTTP client and returns a CheckResult.
The functions in ``status`` turn results into up/down decisions.
"""

from govportal.lib.camcheck.check import check_stream
from govportal.lib.camcheck.result import KINDS, CheckLimits, CheckResult
from govportal.lib.camcheck.status import (
    DOWN,
    UNKNOWN,
    UP,
    Incident,
    StatusEvent,
    Transition,
    fingerprint_distance,
    frozen,
    group_by_host_outage,
    next_state,
    schedule_offsets,
)

__all__ = [
    "DOWN",
    "KINDS",
    "UNKNOWN",
    "UP",
    "CheckLimits",
    "CheckResult",
    "Incident",
    "StatusEvent",
    "Transition",
    "check_stream",
    "fingerprint_distance",
    "frozen",
    "group_by_host_outage",
    "next_state",
    "schedule_offsets",
]
