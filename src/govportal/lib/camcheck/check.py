"""Check one camera stream the way a viewer would read it.

Every request goes through ``govportal.lib.httpfetch`` (``Fetcher.get``,
or ``Fetcher.stream`` for bodies that are read only in part), so the
address and scheme checks of feeds apply to cameras too.
"""

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from yarl import URL

from govportal.lib.camcheck.frames import JPEG_SOI, FirstFrameFinder, image_fingerprint
from govportal.lib.camcheck.hls import Playlist, parse_playlist
from govportal.lib.camcheck.result import KINDS, CheckLimits, CheckResult
from govportal.lib.camcheck.status import fingerprint_distance, frozen
from govportal.lib.errors import SourceError
from govportal.lib.httpfetch import Fetcher, FetchPolicy
from govportal.lib.netguard import check_resolved_addresses, check_url

SNAPSHOT_ACCEPT = "image/jpeg, image/*;q=0.9"
MJPEG_ACCEPT = "multipart/x-mixed-replace, image/jpeg;q=0.9, image/*;q=0.8"
PLAYLIST_ACCEPT = (
    "application/vnd.apple.mpegurl, application/x-mpegurl, audio/mpegurl;q=0.9, "
    "*/*;q=0.5"
)
SEGMENT_ACCEPT = "video/mp2t, video/*, */*;q=0.5"
EMBED_ACCEPT = "text/html, */*;q=0.5"
MJPEG_MEDIA_TYPE = "multipart/x-mixed-replace"
# Distinct host names a playlist may point at. Each costs a DNS lookup.
MAX_PLAYLIST_HOSTS = 8
# Fetcher codes that mean a playlist URI names a target the guard rejects.
_OUTSIDE_CODES = frozenset(
    {"scheme_not_allowed", "port_not_allowed", "credentials_in_url", "blocked_target"}
)


@dataclass
class _Observation:
    fingerprint: str | None = None
    media_sequence: int | None = None
    segment_count: int | None = None
    unchanged_since: datetime | None = None
    detail: str = ""
    # A failure found after the stream was read, such as a stale playlist.
    problem: SourceError | None = None


@dataclass(frozen=True)
class _Context:
    fetcher: Fetcher
    limits: CheckLimits
    previous: CheckResult | None
    allowed_hosts: frozenset[str] | None
    checked_at: datetime


async def check_stream(
    kind: str,
    url: str,
    *,
    fetcher_or_policy: Fetcher | FetchPolicy,
    previous: CheckResult | None = None,
    limits: CheckLimits | None = None,
    allowed_hosts: Collection[str] | None = None,
) -> CheckResult:
    """Check one camera stream and return the result, failures included.

    ``kind`` is one of KINDS. Pass an open Fetcher to share its connection
    limits across many checks, or a FetchPolicy to open one for this check.
    ``previous`` is this camera's last result, used to find frozen frames
    and stale HLS playlists. ``allowed_hosts``, when given, lists the host
    names besides the playlist's own that HLS playlists may point at.
    Raises ValueError for an unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown stream kind {kind!r}; use one of {sorted(KINDS)}")
    hosts = (
        None
        if allowed_hosts is None
        else frozenset(host.lower().rstrip(".") for host in allowed_hosts)
    )
    limits = limits or CheckLimits()
    if isinstance(fetcher_or_policy, Fetcher):
        return await _run_check(kind, url, fetcher_or_policy, previous, limits, hosts)
    async with Fetcher(fetcher_or_policy) as fetcher:
        return await _run_check(kind, url, fetcher, previous, limits, hosts)


async def _run_check(
    kind: str,
    url: str,
    fetcher: Fetcher,
    previous: CheckResult | None,
    limits: CheckLimits,
    allowed_hosts: frozenset[str] | None,
) -> CheckResult:
    context = _Context(fetcher, limits, previous, allowed_hosts, datetime.now(UTC))
    started = time.monotonic()
    observation = _Observation()
    problem: SourceError | None
    try:
        async with asyncio.timeout(limits.deadline):
            observation = await _CHECKS[kind](url, context)
        problem = observation.problem
    except TimeoutError:
        problem = SourceError(
            "timeout", f"check did not finish within {limits.deadline:g} s"
        )
    except SourceError as exc:
        problem = exc
    except ssl.SSLError as exc:
        problem = SourceError("tls_error", f"TLS failed: {exc}"[:300])
    except OSError as exc:
        problem = SourceError("connect_failed", f"connection failed: {exc}"[:300])
    return CheckResult(
        ok=problem is None,
        problem_code=problem.code if problem else "",
        detail=(problem.detail or problem.code) if problem else observation.detail,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        fingerprint=observation.fingerprint,
        media_sequence=observation.media_sequence,
        checked_at=context.checked_at,
        segment_count=observation.segment_count,
        unchanged_since=observation.unchanged_since,
    )


# -- still images -------------------------------------------------------------


async def _check_snapshot(url: str, context: _Context) -> _Observation:
    limits = context.limits
    result = await context.fetcher.get(url, accept=SNAPSHOT_ACCEPT)
    _require_image_type(result.content_type)
    if len(result.body) > limits.max_image_bytes:
        raise SourceError(
            "too_large",
            f"image is {len(result.body)} bytes, the maximum is "
            f"{limits.max_image_bytes}",
        )
    if result.content_type == "image/jpeg" and not result.body.startswith(JPEG_SOI):
        raise SourceError("not_an_image", "body served as image/jpeg is not a JPEG")
    fingerprint = image_fingerprint(result.body, max_pixels=limits.max_image_pixels)
    return _frame_observation(fingerprint, context, f"{len(result.body)} bytes")


async def _check_mjpeg(url: str, context: _Context) -> _Observation:
    limits = context.limits
    async with context.fetcher.stream(url, accept=MJPEG_ACCEPT) as stream:
        media_type = stream.media_type or ""
        image_cap = limits.max_image_bytes
        if media_type.startswith("image/"):
            # Some cameras serve one JPEG on their MJPEG URL, which a
            # browser shows as a still image.
            cap = image_cap
        elif media_type == MJPEG_MEDIA_TYPE:
            cap = limits.max_mjpeg_bytes
        else:
            raise SourceError(
                "not_an_image",
                f"content type {media_type or 'missing'!r} is neither "
                f"{MJPEG_MEDIA_TYPE} nor an image",
            )
        if stream.content_length is not None and stream.content_length > cap:
            raise SourceError(
                "too_large",
                f"response declares {stream.content_length} bytes, "
                f"the maximum is {cap}",
            )
        finder = FirstFrameFinder(max_pixels=limits.max_image_pixels)
        received = 0
        try:
            async with asyncio.timeout(limits.frame_timeout):
                async for piece in stream.pieces():
                    received += len(piece)
                    found = finder.feed(piece)
                    if found is not None:
                        _, fingerprint = found
                        return _frame_observation(
                            fingerprint, context, f"frame after {received} bytes"
                        )
                    if received > cap:
                        raise SourceError(
                            "no_frame",
                            f"no complete JPEG frame in the first {cap} bytes",
                            received=received,
                        )
        except TimeoutError:
            raise SourceError(
                "timeout",
                f"no complete JPEG frame within {limits.frame_timeout:g} s "
                f"({received} bytes received)",
                received=received,
            ) from None
    raise SourceError(
        "no_frame",
        f"stream ended after {received} bytes without a complete JPEG frame",
        received=received,
    )


def _require_image_type(media_type: str | None) -> None:
    if not media_type or not media_type.startswith("image/"):
        raise SourceError(
            "not_an_image",
            f"content type {media_type or 'missing'!r} is not an image type",
        )


def _frame_observation(
    fingerprint: str, context: _Context, detail: str
) -> _Observation:
    """Carry the unchanged-since time over and apply the frozen check."""
    limits = context.limits
    previous = context.previous
    now = context.checked_at
    since = now
    if previous is not None and previous.fingerprint is not None:
        try:
            distance = fingerprint_distance(previous.fingerprint, fingerprint)
        except ValueError:
            distance = None
        if distance is not None and distance <= limits.frozen_max_distance:
            since = previous.unchanged_since or previous.checked_at
    observation = _Observation(
        fingerprint=fingerprint, unchanged_since=since, detail=detail
    )
    if limits.frozen_after is not None and since < now:
        history = [(since, fingerprint), (now, fingerprint)]
        if frozen(history, now, limits.frozen_after):
            observation.problem = SourceError(
                "frozen_frame",
                f"the same frame has been served since {since.isoformat()}",
            )
    return observation


# -- HLS ------------------------------------------------------------------------


async def _check_hls(url: str, context: _Context) -> _Observation:
    limits = context.limits
    playlist_url, playlist = await _fetch_playlist(url, context)
    # URLs that are playlists: a variant or segment URI naming one of them
    # would make a player loop.
    playlist_urls = {str(check_url(url, context.fetcher.policy)), playlist_url}
    own_hosts = {_host_of(url), _host_of(playlist_url)}
    if playlist.is_master:
        targets = await _check_targets(
            playlist_url, playlist.all_uris(), own_hosts, context
        )
        variant_url = targets[0]
        if variant_url in playlist_urls:
            raise SourceError(
                "playlist_invalid", "master playlist lists itself as a variant"
            )
        playlist_url, playlist = await _fetch_playlist(variant_url, context)
        if playlist.is_master:
            raise SourceError(
                "playlist_invalid",
                "variant playlist is a master playlist; only one level is followed",
            )
        playlist_urls.add(playlist_url)
        own_hosts.add(_host_of(playlist_url))
    targets = await _check_targets(
        playlist_url, playlist.all_uris(), own_hosts, context
    )
    # Live players start near the end of the playlist, so probe the newest.
    segment_url = targets[len(playlist.segments) - 1]
    if segment_url in playlist_urls:
        raise SourceError("playlist_invalid", "segment URI names the playlist itself")
    received = await _probe_segment(segment_url, limits, context.fetcher)

    observation = _Observation(
        media_sequence=playlist.media_sequence,
        segment_count=len(playlist.segments),
        unchanged_since=context.checked_at,
        detail=(
            f"media sequence {playlist.media_sequence}, "
            f"{len(playlist.segments)} segments, {received} segment bytes read"
        ),
    )
    _apply_staleness(observation, context)
    return observation


def _apply_staleness(observation: _Observation, context: _Context) -> None:
    previous = context.previous
    if previous is None or previous.media_sequence is None:
        return
    assert observation.media_sequence is not None
    assert observation.segment_count is not None
    # Compare the sequence number of the newest segment, because an EVENT
    # playlist appends segments and keeps its media sequence.
    newest = observation.media_sequence + observation.segment_count
    previous_newest = previous.media_sequence + (previous.segment_count or 0)
    if newest != previous_newest:
        return
    since = previous.unchanged_since or previous.checked_at
    observation.unchanged_since = since
    waited = (context.checked_at - since).total_seconds()
    if waited >= context.limits.stale_after:
        observation.problem = SourceError(
            "stale_playlist",
            f"media sequence {observation.media_sequence} has not advanced "
            f"for {waited:.0f} s",
            since=since.isoformat(),
        )


async def _fetch_playlist(url: str, context: _Context) -> tuple[str, Playlist]:
    cap = context.limits.max_playlist_bytes
    result = await context.fetcher.get(url, accept=PLAYLIST_ACCEPT)
    if len(result.body) > cap:
        raise SourceError(
            "too_large", f"playlist is {len(result.body)} bytes, the maximum is {cap}"
        )
    try:
        text = result.body.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError("playlist_invalid", "playlist is not UTF-8") from None
    return result.url, parse_playlist(text)


async def _check_targets(
    base_url: str, uris: list[str], own_hosts: set[str], context: _Context
) -> list[str]:
    """Resolve ``uris`` against the playlist URL and check every target.

    Every target passes the URL checks of the Fetcher, the host allowlist,
    and the address check for every address its host name resolves to,
    before any of them is fetched. Returns the absolute URLs in order.
    Raises SourceError ``playlist_points_outside`` or ``playlist_invalid``.
    """
    policy = context.fetcher.policy
    base = URL(base_url)
    targets: list[str] = []
    names: set[tuple[str, int]] = set()
    for uri in uris:
        try:
            joined = str(base.join(URL(uri)))
        except ValueError:
            raise SourceError(
                "playlist_invalid", f"playlist URI {uri[:100]!r} cannot be parsed"
            ) from None
        try:
            target = check_url(joined, policy)
        except SourceError as exc:
            if exc.code not in _OUTSIDE_CODES:
                raise SourceError(
                    "playlist_invalid",
                    f"playlist URI {uri[:100]!r} is invalid: {exc.detail}",
                ) from None
            raise _outside(uri, exc.detail or exc.code, exc.code) from None
        host = _host_of(str(target))
        allowed = context.allowed_hosts
        if allowed is not None and host not in allowed and host not in own_hosts:
            raise _outside(uri, f"host {host!r} is not on the allowed list", "host")
        if not _is_address_literal(host) and host not in own_hosts:
            names.add((host, target.port or 0))
        targets.append(str(target))
    if len(names) > MAX_PLAYLIST_HOSTS:
        raise SourceError(
            "playlist_points_outside",
            f"playlist points at {len(names)} hosts, the maximum is "
            f"{MAX_PLAYLIST_HOSTS}",
        )
    for host, port in sorted(names):
        await _check_name(host, port, policy)
    return targets


async def _check_name(host: str, port: int, policy: FetchPolicy) -> None:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise SourceError(
            "host_not_found",
            f"playlist host {host!r} could not be resolved: {exc}",
            host=host,
        ) from None
    addresses = [str(info[4][0]) for info in infos]
    try:
        check_resolved_addresses(host, port, addresses, policy)
    except SourceError as exc:
        if exc.code not in _OUTSIDE_CODES:
            raise
        raise _outside(host, exc.detail, exc.code) from None


async def _probe_segment(url: str, limits: CheckLimits, fetcher: Fetcher) -> int:
    """Read the start of a segment and return the number of bytes read."""
    async with fetcher.stream(url, accept=SEGMENT_ACCEPT) as stream:
        declared = stream.content_length
        if declared is not None and declared > limits.max_segment_bytes:
            raise SourceError(
                "too_large",
                f"segment declares {declared} bytes, the maximum is "
                f"{limits.max_segment_bytes}",
                declared=declared,
            )
        if (stream.media_type or "").startswith("text/"):
            raise SourceError(
                "no_frame", f"segment is served as {stream.media_type}, not as media"
            )
        received = 0
        async for piece in stream.pieces():
            received += len(piece)
            if received >= limits.segment_probe_bytes:
                break
    if received == 0:
        raise SourceError("no_frame", "segment is empty")
    return received


def _outside(uri: str, reason: str, cause: str) -> SourceError:
    return SourceError(
        "playlist_points_outside",
        f"playlist points at a target that is not allowed: {uri[:200]} ({reason})",
        cause=cause,
    )


def _host_of(url: str) -> str:
    return (URL(url).raw_host or "").lower().rstrip(".")


def _is_address_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# -- embedded players -------------------------------------------------------------


async def _check_embed(url: str, context: _Context) -> _Observation:
    result = await context.fetcher.get(url, accept=EMBED_ACCEPT)
    return _Observation(detail=f"HTTP {result.status}, {len(result.body)} bytes")


_CHECKS: dict[str, Callable[[str, _Context], Awaitable[_Observation]]] = {
    "jpeg_snapshot": _check_snapshot,
    "mjpeg": _check_mjpeg,
    "hls": _check_hls,
    "embed_page": _check_embed,
}
