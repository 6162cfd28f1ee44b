"""Request counting per API key and per client address, in one-minute windows.

Counters live in Django's default cache.
NOTE: the default cache is per process (LocMemCache), so with several
worker processes each one counts on its own and the effective limit is
multiplied by their number until CACHES points at a shared cache (Redis).
"""

import math
import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60
DEFAULT_REQUESTS_PER_MINUTE = 120
DEFAULT_FAILURES_PER_MINUTE = 30


def requests_per_minute() -> int:
    return int(
        getattr(settings, "API_RATE_LIMIT_PER_MINUTE", DEFAULT_REQUESTS_PER_MINUTE)
    )


def failures_per_minute() -> int:
    return int(
        getattr(settings, "API_AUTH_FAILURES_PER_MINUTE", DEFAULT_FAILURES_PER_MINUTE)
    )


def seconds_to_next_window() -> int:
    remaining = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    return max(1, math.ceil(remaining))


def _counter_name(kind: str, subject: str) -> str:
    window = int(time.time() // WINDOW_SECONDS)
    return f"govportal.api:{kind}:{subject}:{window}"


def count(kind: str, subject: str) -> int:
    """Add one to the subject's counter in the current window and return it."""
    name = _counter_name(kind, subject)
    cache.add(name, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return cache.incr(name)
    except ValueError:
        # The entry expired between add and incr.
        cache.set(name, 1, timeout=WINDOW_SECONDS * 2)
        return 1


def current(kind: str, subject: str) -> int:
    """Return the subject's counter in the current window without changing it."""
    return int(cache.get(_counter_name(kind, subject), 0))
