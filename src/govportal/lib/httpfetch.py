"""Hardened HTTP GET for untrusted feed URLs, built on aiohttp.

Every request goes through the checks in ``govportal.lib.netguard``: the URL
text before each hop, every address DNS returns, and the socket address
right before connecting. Redirects, body size, decompression, time and TLS
are all bounded here: a hostile or broken server costs at most
``FetchPolicy.deadline`` seconds of network time, and memory in the order
of the body size caps.

Failures raise ``SourceError`` with one of these codes: ``invalid_url``,
``scheme_not_allowed``, ``port_not_allowed``, ``credentials_in_url``,
``blocked_target``, ``host_not_found``, ``redirect_blocked``,
``redirect_loop``, ``too_many_redirects``, ``robots_disallowed``,
``http_status``, ``too_large``, ``too_large_decompressed``, ``timeout``,
``tls_error``, ``connect_failed`` and ``protocol_error``.
"""

import asyncio
import contextlib
import email.utils
import functools
import socket
import ssl
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import ip_network
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDictProxy
from yarl import URL

from govportal.lib.errors import SourceError
from govportal.lib.netguard import (
    IPNetwork,
    check_resolved_addresses,
    check_url,
    is_address_allowed,
    is_port_allowed,
)
from govportal.lib.robots import (
    MAX_ROBOTS_BYTES,
    RobotsCache,
    RobotsRules,
    origin_key,
    robots_url,
)

MiB = 1024 * 1024

DEFAULT_USER_AGENT = (
    "GovPortalFeedFetcher/0.1 (government news portal; reads agency RSS feeds)"
)
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)

PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Size of one network read and the most one decompression step may return,
# so memory grows in steps of this size and stops at the caps.
PIECE_BYTES = 64 * 1024

# Errors of a redirect hop that mean "this target is not allowed".
_TARGET_CODES = frozenset(
    {
        "invalid_url",
        "scheme_not_allowed",
        "port_not_allowed",
        "credentials_in_url",
        "blocked_target",
    }
)
# robots.txt failures that count as "no robots.txt", so everything is allowed.
# NOTE: RFC 9309 (section 2.3.1.4) requires crawlers to treat a 5xx response
# as "disallow all". The portal treats it as allowed, so an agency's broken
# robots.txt does not stop its feeds.
_ROBOTS_ABSENT_CODES = frozenset(
    {
        "http_status",
        "too_large",
        "too_large_decompressed",
        "protocol_error",
        "redirect_loop",
        "too_many_redirects",
        "redirect_blocked",
    }
)


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and trust settings for a Fetcher. Times are in seconds."""

    # Networks reachable even though they are not public, and the only
    # relaxation of the address checks. Empty in production, and the loopback
    # test server's address in tests. Strings are accepted.
    allowed_networks: tuple[IPNetwork, ...] = ()
    # Ports other than 80 and 443 that addresses in allowed_networks may
    # use. None allows any port there. Public addresses use 80 and 443 only.
    allowed_ports: frozenset[int] | None = None
    connect_timeout: float = 10.0
    # Maximum wait for the next bytes of a response.
    read_timeout: float = 20.0
    # Network time for the whole fetch: DNS, connect, TLS, every redirect
    # hop and robots.txt. Waiting for a concurrency slot or for a
    # Crawl-delay does not count.
    deadline: float = 45.0
    max_redirects: int = 5
    # Bytes as received, before Content-Encoding is undone.
    max_body_bytes: int = 10 * MiB
    # Bytes after decompression.
    max_decoded_bytes: int = 10 * MiB
    user_agent: str = DEFAULT_USER_AGENT
    # PEM file of extra trusted roots, for agency CAs missing from certifi.
    extra_ca_file: str | None = None
    concurrency: int = 50
    per_host_limit: int = 4
    retry_after_min: float = 60.0
    retry_after_max: float = 86400.0
    respect_robots: bool = True
    crawl_delay_max: float = 30.0
    # Whether a redirect may go from https to plain http. Camera checks turn
    # it off, because a browser on the https site would not load the picture.
    allow_https_downgrade: bool = True

    def __post_init__(self) -> None:
        networks = tuple(ip_network(network) for network in self.allowed_networks)
        object.__setattr__(self, "allowed_networks", networks)
        if self.allowed_ports is not None:
            object.__setattr__(
                self, "allowed_ports", frozenset(int(p) for p in self.allowed_ports)
            )
        for name in ("connect_timeout", "read_timeout", "deadline"):
            if getattr(self, name) <= 0:
                raise ValueError(f"FetchPolicy.{name} must be positive")
        for name in ("max_body_bytes", "max_decoded_bytes", "concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchPolicy.{name} must be at least 1")
        if self.per_host_limit < 1:
            raise ValueError("FetchPolicy.per_host_limit must be at least 1")
        if self.max_redirects < 0:
            raise ValueError("FetchPolicy.max_redirects must not be negative")


@dataclass
class FetchResult:
    # Final URL after redirects.
    url: str
    status: int
    # Response headers with lower-case names; repeated headers joined by ", ".
    headers: dict[str, str]
    # Body with Content-Encoding undone, or b"" for 304.
    body: bytes
    # Media type only, lower-case, e.g. "application/rss+xml".
    content_type: str | None
    charset: str | None
    # Validators of this response, which may be new on a 304. None when the
    # response had none, so the caller keeps the stored ones.
    etag: str | None
    last_modified: str | None
    # The final URL when every hop was 301 or 308, else None. The Fetcher
    # never stores it, because the caller decides whether to.
    permanent_redirect: str | None
    # (status, target URL) of each redirect followed, in order.
    redirects: list[tuple[int, str]] = field(default_factory=list)
    elapsed_ms: int = 0


def build_ssl_context(extra_ca_file: str | None = None) -> ssl.SSLContext:
    """Build the client TLS context: certifi's roots, else the system's.

    Verification and host name checks stay on. With ``extra_ca_file``, its
    roots are added and only ``VERIFY_X509_STRICT`` is cleared. Python 3.13
    sets that flag by default, and OpenSSL then rejects CA certificates
    without a Subject Key Identifier, such as the Taiwan Government Root CA
    (GRCA) and TWCA Global Root CA. OpenSSL flags apply to the whole
    context, so the relaxation also covers chains to the certifi roots.
    """
    try:
        import certifi
    except ImportError:
        cafile = None
    else:
        cafile = certifi.where()
    context = ssl.create_default_context(cafile=cafile)
    if extra_ca_file:
        context.load_verify_locations(cafile=extra_ca_file)
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return context


@functools.cache
def shared_ssl_context(extra_ca_file: str | None = None) -> ssl.SSLContext:
    """Return one ``build_ssl_context`` per CA file for the whole process.

    Loading certifi's roots costs about 20 ms of CPU on a 2-core test
    machine, which every batch of camera checks would otherwise pay when it
    opens a Fetcher. A changed CA file takes effect on restart.
    """
    return build_ssl_context(extra_ca_file)


def parse_retry_after(
    value: str | None, minimum: float, maximum: float, now: datetime | None = None
) -> int | None:
    """Return a Retry-After value (seconds or HTTP-date) clamped to the bounds."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return int(min(max(seconds, minimum), maximum))


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """Split a Content-Type header into lower-case media type and charset."""
    if not value:
        return None, None
    media_type, *parameters = value.split(";")
    charset = None
    for parameter in parameters:
        name, _, parameter_value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = parameter_value.strip().strip("\"'").strip().lower() or None
    return media_type.strip().lower() or None, charset


@dataclass
class StreamResponse:
    """An open 2xx response of ``Fetcher.stream`` whose body is not read yet."""

    # Final URL after redirects.
    url: str
    status: int
    media_type: str | None
    # Raw Content-Type header, with parameters such as the boundary.
    content_type_header: str
    content_length: int | None
    response: aiohttp.ClientResponse

    async def pieces(self) -> AsyncIterator[bytes]:
        """Yield body bytes as they arrive, at most PIECE_BYTES at a time."""
        async for piece in self.response.content.iter_chunked(PIECE_BYTES):
            yield piece


class Fetcher:
    """Guarded HTTP client with one aiohttp session for all its fetches.

    Use as ``async with Fetcher(policy) as fetcher: await fetcher.get(url)``.
    Pass a shared ``robots_cache`` to keep robots.txt rules across Fetchers.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        robots_cache: RobotsCache | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self.robots_cache = robots_cache if robots_cache is not None else RobotsCache()
        self._session: aiohttp.ClientSession | None = None
        self._global_slots: asyncio.Semaphore | None = None
        self._host_slots: weakref.WeakValueDictionary[str, asyncio.Semaphore] = (
            weakref.WeakValueDictionary()
        )
        self._robots_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # Per origin: monotonic time before which no request may start.
        self._next_request_at: dict[str, float] = {}

    async def __aenter__(self) -> "Fetcher":
        policy = self.policy
        connector = aiohttp.TCPConnector(
            resolver=_GuardedResolver(policy),
            ssl=shared_ssl_context(policy.extra_ca_file),
            limit=policy.concurrency,
            limit_per_host=policy.per_host_limit,
            # A new connection per request, resolved afresh: each request
            # goes to an address checked for it, and bytes a server sends
            # past the end of a response die with its connection.
            use_dns_cache=False,
            force_close=True,
            socket_factory=self._open_socket,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=policy.connect_timeout,
                sock_connect=policy.connect_timeout,
                sock_read=policy.read_timeout,
            ),
            # Bodies are decompressed here, under the size caps.
            auto_decompress=False,
            # Environment proxies would resolve names outside the guard.
            trust_env=False,
            # Cookies from one agency's server must not reach another's.
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": policy.user_agent},
        )
        self._global_slots = asyncio.Semaphore(policy.concurrency)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = DEFAULT_ACCEPT,
    ) -> FetchResult:
        """GET ``url`` within the policy's limits and return the final response.

        ``etag`` and ``last_modified`` are the validators stored from an
        earlier response; they are sent as If-None-Match and
        If-Modified-Since. A Last-Modified that is unparseable or in the
        future is not sent, because a server may otherwise respond with 304
        forever. A 304 returns a result with status 304 and an empty body.
        Raises SourceError (see the module docstring for the codes), and
        ValueError when a header argument contains control characters.
        """
        if self._session is None or self._global_slots is None:
            raise RuntimeError("use Fetcher inside 'async with'")
        started = time.monotonic()
        target = check_url(url, self.policy)
        headers = {
            "Accept": _header_value("accept", accept),
            "Accept-Encoding": _ACCEPT_ENCODING,
        }
        if etag:
            headers["If-None-Match"] = _header_value("etag", etag)
        if last_modified and _is_usable_last_modified(last_modified):
            headers["If-Modified-Since"] = _header_value("last_modified", last_modified)
        limits = _BodyLimits(self.policy.max_body_bytes, self.policy.max_decoded_bytes)
        budget = _Budget(self.policy.deadline)
        async with self._global_slots:
            result = await self._follow(
                target, headers, budget, limits, check_robots=self.policy.respect_robots
            )
        result.elapsed_ms = int((time.monotonic() - started) * 1000)
        return result

    @contextlib.asynccontextmanager
    async def stream(self, url: str, *, accept: str) -> AsyncIterator[StreamResponse]:
        """Send a GET and yield the 2xx response unread, following redirects.

        For bodies read in part, such as an MJPEG stream that never ends or
        the start of a video segment. Every hop passes the same address
        checks as ``get``. The body comes as sent, because identity encoding
        is asked for. robots.txt is not consulted, and the caller bounds the
        time.
        The connection is closed on exit, whether or not the body was read.
        Raises SourceError with the codes of ``get``, including
        ``http_status`` for a final status outside 2xx.
        """
        if self._session is None or self._global_slots is None:
            raise RuntimeError("use Fetcher inside 'async with'")
        current = check_url(url, self.policy)
        seen = {str(current)}
        headers = {
            "Accept": _header_value("accept", accept),
            "Accept-Encoding": "identity",
        }
        async with self._global_slots, self._host_slot(current.raw_host or ""):
            for _ in range(self.policy.max_redirects + 1):
                response = await self._send_unread(current, headers)
                try:
                    location = response.headers.get("Location")
                    if response.status in REDIRECT_STATUSES and location:
                        current = _next_stream_hop(current, location, self.policy, seen)
                        continue
                    if not 200 <= response.status < 300:
                        raise SourceError(
                            "http_status",
                            f"server returned HTTP {response.status}",
                            status=response.status,
                            url=str(current),
                        )
                    media_type, _ = parse_content_type(
                        response.headers.get("Content-Type")
                    )
                    opened = StreamResponse(
                        url=str(current),
                        status=response.status,
                        media_type=media_type,
                        content_type_header=response.headers.get("Content-Type", ""),
                        content_length=response.content_length,
                        response=response,
                    )
                    try:
                        yield opened
                    except aiohttp.ClientError as exc:
                        raise _translate_client_error(exc, current) from exc
                    except HttpProcessingError as exc:
                        raise _protocol_error(current, exc) from exc
                    return
                finally:
                    # close(), not release(): the rest of the body is never read.
                    response.close()
        raise SourceError(
            "too_many_redirects",
            f"more than {self.policy.max_redirects} redirects",
            url=url,
        )

    async def _send_unread(
        self, url: URL, headers: dict[str, str]
    ) -> aiohttp.ClientResponse:
        assert self._session is not None
        try:
            return await self._session.get(url, headers=headers, allow_redirects=False)
        except aiohttp.ClientError as exc:
            raise _translate_client_error(exc, url) from exc
        except HttpProcessingError as exc:
            raise _protocol_error(url, exc) from exc

    # -- redirects and robots.txt -------------------------------------------

    async def _follow(
        self,
        target: URL,
        headers: dict[str, str],
        budget: "_Budget",
        limits: "_BodyLimits",
        *,
        check_robots: bool,
    ) -> FetchResult:
        redirects: list[tuple[int, str]] = []
        seen = {str(target)}
        current = target
        while True:
            try:
                delay = 0.0
                if check_robots:
                    delay = await self._check_robots(current, budget)
                exchange = await self._exchange(current, headers, budget, limits, delay)
            except SourceError as exc:
                if redirects and exc.code in _TARGET_CODES:
                    raise _redirect_blocked(str(current), exc) from exc
                raise
            if exchange.location is None:
                return _result(current, exchange, redirects)

            if len(redirects) >= self.policy.max_redirects:
                raise SourceError(
                    "too_many_redirects",
                    f"more than {self.policy.max_redirects} redirects",
                    url=str(target),
                    redirects=len(redirects) + 1,
                )
            next_url = _redirect_target(current, exchange.location, self.policy)
            redirects.append((exchange.status, str(next_url)))
            if str(next_url) in seen:
                raise SourceError(
                    "redirect_loop",
                    f"redirect loop: {next_url} was already requested",
                    url=str(target),
                    redirects=len(redirects),
                )
            seen.add(str(next_url))
            current = next_url

    async def _check_robots(self, url: URL, budget: "_Budget") -> float:
        """Raise robots_disallowed if robots.txt forbids ``url``.

        Returns the Crawl-delay to keep before requesting it, capped by the
        policy.
        """
        rules = await self._robots_rules(url, budget)
        user_agent = self.policy.user_agent
        if not rules.can_fetch(user_agent, str(url)):
            raise SourceError(
                "robots_disallowed",
                f"robots.txt of {url.host} disallows {url.path}",
                url=str(url),
            )
        return min(rules.crawl_delay(user_agent) or 0.0, self.policy.crawl_delay_max)

    async def _robots_rules(self, url: URL, budget: "_Budget") -> RobotsRules:
        origin = origin_key(url)
        rules = self.robots_cache.get(origin)
        if rules is not None:
            return rules
        lock = self._robots_locks.get(origin)
        if lock is None:
            lock = asyncio.Lock()
            self._robots_locks[origin] = lock
        # One download per origin, even when several feeds of a host start
        # together.
        async with lock:
            rules = self.robots_cache.get(origin)
            if rules is None:
                rules = await self._download_robots(url, budget)
                self.robots_cache.put(origin, rules)
        return rules

    async def _download_robots(self, url: URL, budget: "_Budget") -> RobotsRules:
        """Fetch and parse robots.txt. A missing or unusable file allows all.

        Transport failures (timeout, refused connection, TLS, DNS, blocked
        address) propagate, because the feed on that origin would fail the
        same way, and nothing is cached then.
        """
        headers = {"Accept": "text/plain", "Accept-Encoding": _ACCEPT_ENCODING}
        limits = _BodyLimits(MAX_ROBOTS_BYTES, MAX_ROBOTS_BYTES)
        try:
            result = await self._follow(
                robots_url(url), headers, budget, limits, check_robots=False
            )
        except SourceError as exc:
            if exc.code in _ROBOTS_ABSENT_CODES:
                return RobotsRules.allow_all()
            raise
        if result.status != 200:
            return RobotsRules.allow_all()
        return RobotsRules.parse(result.body)

    # -- one request --------------------------------------------------------

    async def _exchange(
        self,
        url: URL,
        headers: dict[str, str],
        budget: "_Budget",
        limits: "_BodyLimits",
        crawl_delay: float,
    ) -> "_Exchange":
        assert self._session is not None
        host = url.raw_host or ""
        if crawl_delay > 0:
            await self._wait_for_turn(origin_key(url), crawl_delay)
        async with self._host_slot(host), budget.running():
            try:
                async with self._session.get(
                    url, headers=headers, allow_redirects=False
                ) as response:
                    return await self._read_exchange(url, response, limits)
            except aiohttp.ClientError as exc:
                raise _translate_client_error(exc, url) from exc
            except HttpProcessingError as exc:
                # Raised unwrapped when the parser fails while a body is read.
                raise _protocol_error(url, exc) from exc
            except TimeoutError as exc:
                raise SourceError(
                    "timeout", f"{url.host} timed out", url=str(url)
                ) from exc
            except ssl.SSLError as exc:
                raise SourceError(
                    "tls_error", f"TLS failed: {exc}", url=str(url)
                ) from exc
            except ConnectionError as exc:
                raise SourceError(
                    "connect_failed", f"connection to {url.host} failed: {exc}"
                ) from exc

    async def _read_exchange(
        self, url: URL, response: aiohttp.ClientResponse, limits: "_BodyLimits"
    ) -> "_Exchange":
        status = response.status
        headers = _lower_headers(response.headers)
        location = response.headers.get("Location")
        if status in REDIRECT_STATUSES and location:
            response.close()
            return _Exchange(status, headers, b"", location)
        if status == 304:
            return _Exchange(status, headers, b"", None)
        if not 200 <= status < 300:
            # Error pages are never read: they are not feeds and may be huge.
            response.close()
            retry_after = parse_retry_after(
                headers.get("retry-after"),
                self.policy.retry_after_min,
                self.policy.retry_after_max,
            )
            raise SourceError(
                "http_status",
                f"server returned HTTP {status} {response.reason or ''}".rstrip(),
                status=status,
                retry_after=retry_after,
                url=str(url),
            )
        try:
            body = await _read_body(response, headers, limits)
        except (aiohttp.ClientResponseError, HttpProcessingError) as exc:
            response.close()
            declared = response.content_length
            if declared is None:
                raise
            # aiohttp stops at the declared length and parses what follows as
            # the next response, which fails: the server lied about the size.
            raise SourceError(
                "protocol_error",
                f"server sent more data than its Content-Length of {declared} bytes",
                declared=declared,
                url=str(url),
            ) from exc
        except BaseException:
            response.close()
            raise
        return _Exchange(status, headers, body, None)

    @contextlib.asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        semaphore = self._host_slots.get(host)
        if semaphore is None:
            semaphore = asyncio.Semaphore(self.policy.per_host_limit)
            self._host_slots[host] = semaphore
        async with semaphore:
            yield

    async def _wait_for_turn(self, origin: str, delay: float) -> None:
        # Reserve the next start time before sleeping, so concurrent
        # fetches to one origin queue up delay seconds apart.
        now = time.monotonic()
        start_at = max(now, self._next_request_at.get(origin, 0.0))
        self._next_request_at[origin] = start_at + delay
        if start_at > now:
            await asyncio.sleep(start_at - now)

    def _open_socket(self, addr_info: Any) -> socket.socket:
        """Create the socket for one connect, after a last address check.

        aiohttp skips the resolver for IP-literal hosts, so this is the one
        place that checks every address right before connecting.
        """
        family, type_, proto, _, sockaddr = addr_info
        address, port = str(sockaddr[0]), int(sockaddr[1])
        if not is_address_allowed(address, self.policy.allowed_networks):
            raise SourceError(
                "blocked_target",
                f"connection to {address} is not allowed",
                address=address,
            )
        if not is_port_allowed(address, port, self.policy):
            raise SourceError(
                "port_not_allowed",
                f"connection to port {port} of {address} is not allowed",
                address=address,
                port=port,
            )
        return socket.socket(family=family, type=type_, proto=proto)


@dataclass
class _Exchange:
    status: int
    headers: dict[str, str]
    body: bytes
    location: str | None


@dataclass(frozen=True)
class _BodyLimits:
    max_body_bytes: int
    max_decoded_bytes: int


class _Budget:
    """Network time left for one fetch, spent across all of its requests."""

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self.remaining = seconds

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self.remaining <= 0:
            raise self._timeout()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.remaining):
                yield
        except TimeoutError:
            raise self._timeout() from None
        finally:
            self.remaining -= time.monotonic() - started

    def _timeout(self) -> SourceError:
        return SourceError(
            "timeout",
            f"fetch did not finish within the {self.total:g} s deadline",
            deadline=self.total,
        )


class _GuardedResolver(AbstractResolver):
    """Resolve with the system resolver and reject any disallowed address.

    aiohttp connects only to the addresses returned here, so the addresses
    checked are the addresses used.
    """

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, family=family
            )
        except (OSError, UnicodeError) as exc:
            # Fail closed, with no fallback resolver and no cached result.
            raise SourceError(
                "host_not_found",
                f"host {host!r} could not be resolved: {exc}",
                host=host,
            ) from None
        addresses = [str(info[4][0]) for info in infos]
        check_resolved_addresses(host, port, addresses, self._policy)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=info[0],
                proto=info[2],
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for info, address in zip(infos, addresses, strict=True)
        ]

    async def close(self) -> None:
        return None


def _result(
    url: URL, exchange: _Exchange, redirects: list[tuple[int, str]]
) -> FetchResult:
    headers = exchange.headers
    content_type, charset = parse_content_type(headers.get("content-type"))
    permanent = None
    if redirects and all(status in PERMANENT_REDIRECTS for status, _ in redirects):
        permanent = str(url)
    return FetchResult(
        url=str(url),
        status=exchange.status,
        headers=headers,
        body=exchange.body,
        content_type=content_type,
        charset=charset,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        permanent_redirect=permanent,
        redirects=list(redirects),
    )


def _redirect_target(current: URL, location: str, policy: FetchPolicy) -> URL:
    """Return the checked URL a redirect points to, or raise redirect_blocked."""
    target = _join_location(current, location)
    try:
        next_url = check_url(target, policy)
    except SourceError as exc:
        raise _redirect_blocked(target, exc) from exc
    if (
        not policy.allow_https_downgrade
        and current.scheme == "https"
        and next_url.scheme == "http"
    ):
        raise _redirect_blocked(
            target,
            SourceError("https_downgrade", "redirect from https to plain http"),
        )
    return next_url


def _redirect_blocked(location: str, cause: SourceError) -> SourceError:
    # A location with credentials stays out of the message. Others are
    # shortened, because a hostile server chooses their length.
    if cause.code == "credentials_in_url":
        location_text = ""
    else:
        location_text = f" {location[:200]}"
    return SourceError(
        "redirect_blocked",
        f"redirect target not allowed:{location_text} ({cause.detail or cause.code})",
        cause=cause.code,
        **cause.params,
    )


def _join_location(current: URL, location: str) -> str:
    try:
        return str(current.join(URL(location)))
    except ValueError:
        # check_url reports why the raw value is invalid.
        return location


def _lower_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


def _header_value(name: str, value: str) -> str:
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValueError(f"{name} contains control characters")
    return value


def _is_usable_last_modified(value: str) -> bool:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when <= datetime.now(UTC)


def _translate_client_error(exc: aiohttp.ClientError, url: URL) -> SourceError:
    host = url.host or ""
    # aiohttp messages may quote kilobytes of the response.
    message = str(exc)[:300]
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        reason = getattr(error, "verify_message", None) or str(error)
        verify_code = getattr(error, "verify_code", None)
        # 20: unable to get local issuer certificate, 21: unable to verify
        # the first certificate. Both mean the server left out an
        # intermediate certificate, or the root is not trusted.
        if verify_code in (20, 21):
            detail = "incomplete certificate chain"
        else:
            detail = f"certificate verification failed: {reason}"
        return SourceError("tls_error", detail, host=host, reason=reason)
    if isinstance(exc, aiohttp.ClientSSLError):
        return SourceError("tls_error", f"TLS handshake failed: {message}", host=host)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return SourceError("host_not_found", f"host {host!r} not found", host=host)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return SourceError("timeout", f"{host} timed out: {message}", host=host)
    if isinstance(exc, aiohttp.ClientConnectionError):
        return SourceError(
            "connect_failed", f"connection to {host} failed: {message}", host=host
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return SourceError("invalid_url", f"URL rejected by the client: {message}")
    return SourceError(
        "protocol_error", f"invalid HTTP response from {host}: {message}", host=host
    )


# -- body reading and decompression ---------------------------------------------


def _brotli_limit_keyword() -> str | None:
    """Return the keyword that bounds brotli output, or None without brotli.

    brotli 1.2.1 calls it ``output_buffer_limit``; a later source tree calls
    it ``max_output_length``. Older releases have no bound, and br stays off
    with them because one small input could inflate without limit.
    """
    try:
        import brotli
    except ImportError:
        return None
    probe = brotli.Decompressor()
    for keyword in ("output_buffer_limit", "max_output_length"):
        try:
            probe.process(b"", **{keyword: 1})
        except TypeError:
            continue
        return keyword
    return None


_BROTLI_LIMIT = _brotli_limit_keyword()
_ACCEPT_ENCODING = "gzip, deflate" + (", br" if _BROTLI_LIMIT else "")
_GZIP_MEDIA_TYPES = frozenset({"application/gzip", "application/x-gzip"})
_GZIP_MAGIC = b"\x1f\x8b"


class _ZlibStage:
    """Streaming gzip or deflate decoder with bounded output per step."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._decoder: Any = None
        self._head = b""
        self._fed = False
        if kind == "gzip":
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        if self._decoder is None:
            # "deflate" should be a zlib stream, but many servers send raw
            # deflate; the first two bytes tell them apart.
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._decoder = zlib.decompressobj(
                zlib.MAX_WBITS if _is_zlib_header(data) else -zlib.MAX_WBITS
            )
        pending = data
        while True:
            if self._decoder.eof:
                pending = self._decoder.unused_data + pending
                if not pending.strip(b"\x00"):
                    return
                if self._kind != "gzip":
                    raise SourceError(
                        "protocol_error", "data after the end of the deflate stream"
                    )
                # A gzip body may hold several members back to back.
                self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                piece = self._decoder.decompress(pending, PIECE_BYTES)
            except zlib.error as exc:
                raise SourceError(
                    "protocol_error", f"{self._kind} body is corrupt: {exc}"
                ) from None
            pending = self._decoder.unconsumed_tail
            if piece:
                yield piece
            if self._decoder.eof:
                continue
            if not pending and len(piece) < PIECE_BYTES:
                return

    def finish(self) -> bytes:
        """Check that the stream ended and return any output still held back."""
        if not self._fed:
            # Some servers label an empty body as compressed.
            return b""
        if self._head or self._decoder is None or not self._decoder.eof:
            raise SourceError(
                "protocol_error", f"{self._kind} body ends before its stream ends"
            )
        return b""


class _BrotliStage:
    def __init__(self) -> None:
        import brotli

        self._brotli = brotli
        self._decoder = brotli.Decompressor()
        self._limit = {_BROTLI_LIMIT: PIECE_BYTES} if _BROTLI_LIMIT else {}

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._decoder.process(data, **self._limit)
            if piece:
                yield piece
            while not self._decoder.can_accept_more_data() or len(piece) >= PIECE_BYTES:
                piece = self._decoder.process(b"", **self._limit)
                if not piece:
                    break
                yield piece
        except self._brotli.error as exc:
            raise SourceError("protocol_error", f"br body is corrupt: {exc}") from None

    def finish(self) -> bytes:
        if not self._decoder.is_finished():
            raise SourceError("protocol_error", "br body ends before its stream ends")
        return b""


class _GzipSniffStage:
    """Gunzip a body served as application/gzip when it starts with gzip magic.

    Such a file without Content-Encoding would otherwise reach the feed
    parser compressed, or be gunzipped by it without any size limit.
    """

    def __init__(self) -> None:
        self._head = b""
        self._inner: _ZlibStage | None = None
        self._passthrough = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inner is None and not self._passthrough:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            if data.startswith(_GZIP_MAGIC):
                self._inner = _ZlibStage("gzip")
            else:
                self._passthrough = True
        if self._inner is not None:
            yield from self._inner.feed(data)
        elif data:
            yield data

    def finish(self) -> bytes:
        if self._inner is not None:
            return self._inner.finish()
        # A body shorter than the two magic bytes is passed on unchanged.
        head, self._head = self._head, b""
        return head


_Stage = _ZlibStage | _BrotliStage | _GzipSniffStage


def _decoding_stages(headers: dict[str, str]) -> list[_Stage]:
    """Return decoders for the body, in the order to apply them."""
    codings = [
        coding.strip().lower()
        for coding in headers.get("content-encoding", "").split(",")
        if coding.strip()
    ]
    stages: list[_Stage] = []
    # Codings are listed in the order they were applied, so undo them from
    # the last one.
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            stages.append(_ZlibStage("gzip"))
        elif coding == "deflate":
            stages.append(_ZlibStage("deflate"))
        elif coding == "br" and _BROTLI_LIMIT:
            stages.append(_BrotliStage())
        elif coding != "identity":
            raise SourceError(
                "protocol_error",
                f"unsupported Content-Encoding {coding!r}",
                content_encoding=coding,
            )
    media_type, _ = parse_content_type(headers.get("content-type"))
    if not codings and media_type in _GZIP_MEDIA_TYPES:
        stages.append(_GzipSniffStage())
    return stages


def _run_stages(
    stages: list[_Stage], data: bytes, counts: list[int], limit: int
) -> Iterator[bytes]:
    """Push ``data`` through every stage, checking each stage's output size."""
    if not stages:
        yield data
        return
    for piece in stages[0].feed(data):
        counts[0] += len(piece)
        if counts[0] > limit:
            raise _too_large_decompressed(limit)
        yield from _run_stages(stages[1:], piece, counts[1:], limit)


async def _read_body(
    response: aiohttp.ClientResponse, headers: dict[str, str], limits: _BodyLimits
) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limits.max_body_bytes:
        raise _too_large(limits.max_body_bytes, declared=declared)
    stages = _decoding_stages(headers)
    counts = [0] * len(stages)
    wire_bytes = 0
    body = bytearray()
    limit = limits.max_decoded_bytes

    def append(pieces: Iterator[bytes]) -> None:
        for piece in pieces:
            body.extend(piece)
            if len(body) > limit:
                raise _too_large_decompressed(limit)

    async for chunk in response.content.iter_chunked(PIECE_BYTES):
        wire_bytes += len(chunk)
        if wire_bytes > limits.max_body_bytes:
            raise _too_large(limits.max_body_bytes)
        append(_run_stages(stages, chunk, counts, limit))
    for index, stage in enumerate(stages):
        tail = stage.finish()
        if tail:
            later = index + 1
            append(_run_stages(stages[later:], tail, counts[later:], limit))
    return bytes(body)


def _too_large(limit: int, declared: int | None = None) -> SourceError:
    return SourceError(
        "too_large",
        f"response body exceeds {limit} bytes",
        limit=limit,
        declared=declared,
    )


def _too_large_decompressed(limit: int) -> SourceError:
    return SourceError(
        "too_large_decompressed",
        f"decompressed body exceeds {limit} bytes",
        limit=limit,
    )


def _is_zlib_header(data: bytes) -> bool:
    first, second = data[0], data[1]
    return first & 0x0F == 8 and first >> 4 <= 7 and (first << 8 | second) % 31 == 0


def _protocol_error(url: URL, exc: HttpProcessingError) -> SourceError:
    return SourceError(
        "protocol_error",
        f"invalid HTTP response from {url.host}: {str(exc)[:300]}",
        url=str(url),
    )


def _next_stream_hop(
    current: URL, location: str, policy: FetchPolicy, seen: set[str]
) -> URL:
    next_url = _redirect_target(current, location, policy)
    if str(next_url) in seen:
        raise SourceError(
            "redirect_loop", f"redirect loop: {next_url} was already requested"
        )
    seen.add(str(next_url))
    return next_url
