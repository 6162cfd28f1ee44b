"""robots.txt rules for feed fetches, and a per-origin cache of them.

The Fetcher downloads robots.txt itself, through the same address checks as
every other request, and hands the text to ``urllib.robotparser``, which
never fetches anything here.
"""

import time
from collections.abc import Callable
from urllib.robotparser import RobotFileParser

from yarl import URL

ROBOTS_CACHE_TTL = 24 * 60 * 60  # seconds
# RFC 9309 (section 2.5) requires crawlers to parse at least 500 KiB.
MAX_ROBOTS_BYTES = 512 * 1024


class RobotsRules:
    """Rules from one robots.txt, or rules that allow everything."""

    def __init__(self, parser: RobotFileParser | None) -> None:
        self._parser = parser

    @classmethod
    def allow_all(cls) -> "RobotsRules":
        return cls(None)

    @classmethod
    def parse(cls, body: bytes) -> "RobotsRules":
        """Parse a robots.txt body. A binary body (with NUL bytes) allows all."""
        if b"\x00" in body:
            return cls.allow_all()
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            # RFC 9309 requires UTF-8, but a legacy-encoded file still has
            # ASCII field names and paths, which Latin-1 keeps intact.
            text = body.decode("latin-1")
        parser = RobotFileParser()
        parser.parse(text.splitlines())
        return cls(parser)

    def can_fetch(self, user_agent: str, url: str) -> bool:
        if self._parser is None:
            return True
        return self._parser.can_fetch(product_token(user_agent), url)

    def crawl_delay(self, user_agent: str) -> float | None:
        """Return the Crawl-delay in seconds for ``user_agent``, if any.

        urllib.robotparser (Python 3.13) reads whole seconds only and ignores
        a decimal value such as ``0.5``.
        """
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(product_token(user_agent))
        return float(delay) if delay is not None else None


class RobotsCache:
    """robots.txt rules per origin, each kept for ``ttl`` seconds.

    Pass one instance to every Fetcher of a long-running worker so the rules
    survive from one run to the next. Not thread-safe: use it from one event
    loop thread.
    """

    def __init__(
        self,
        ttl: float = ROBOTS_CACHE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, RobotsRules]] = {}

    def get(self, origin: str) -> RobotsRules | None:
        entry = self._entries.get(origin)
        if entry is None:
            return None
        stored_at, rules = entry
        if self._clock() - stored_at >= self.ttl:
            del self._entries[origin]
            return None
        return rules

    def put(self, origin: str, rules: RobotsRules) -> None:
        self._entries[origin] = (self._clock(), rules)

    def __len__(self) -> int:
        return len(self._entries)


def robots_url(url: URL) -> URL:
    """Return the robots.txt URL for the origin of ``url``.

    robots.txt lives only at the root of scheme, host and port, never
    beside the feed path.
    """
    return url.origin().with_path("/robots.txt")


def origin_key(url: URL) -> str:
    return str(url.origin())


def product_token(user_agent: str) -> str:
    """Return the product name of a User-Agent, as robots.txt groups name it.

    ``"GovPortalFeedFetcher/1.0 (+https://...)"`` becomes
    ``"GovPortalFeedFetcher"``.
    """
    token = user_agent.strip().split(" ", 1)[0]
    return token.split("/", 1)[0] or user_agent
