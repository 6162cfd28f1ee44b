"""Tests of the Django-free library code, with helpers they share."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from govportal.lib.errors import SourceError
from govportal.lib.httpfetch import Fetcher, FetchPolicy, FetchResult
from govportal.lib.robots import RobotsCache

CASES = Path(__file__).resolve().parent.parent / "cases" / "rss"
BASELINE = (CASES / "00-baseline.xml").read_bytes()
RSS_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
# The test-only relaxation: the loopback fixture server and nothing else.
LOOPBACK = "127.0.0.1/32"


def loopback_policy(**overrides: Any) -> FetchPolicy:
    """Return a policy that reaches only 127.0.0.1 and skips robots.txt."""
    settings: dict[str, Any] = {
        "allowed_networks": (LOOPBACK,),
        "respect_robots": False,
    }
    settings.update(overrides)
    return FetchPolicy(**settings)


def fetch(
    url: str,
    policy: FetchPolicy | None = None,
    robots_cache: RobotsCache | None = None,
    **kwargs: Any,
) -> FetchResult:
    """Run one Fetcher.get in a fresh event loop."""

    async def run() -> FetchResult:
        async with Fetcher(
            policy or loopback_policy(), robots_cache=robots_cache
        ) as fetcher:
            return await fetcher.get(url, **kwargs)

    return asyncio.run(run())


def fetch_error(
    url: str, policy: FetchPolicy | None = None, **kwargs: Any
) -> SourceError:
    """Run one fetch that must fail and return its SourceError."""
    with pytest.raises(SourceError) as caught:
        fetch(url, policy, **kwargs)
    return caught.value
