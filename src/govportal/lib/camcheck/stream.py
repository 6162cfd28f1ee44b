"""Streaming GET through a Fetcher's guarded connections.

``Fetcher.get`` always reads the whole body, which never ends for an MJPEG
stream, and a check needs only the start of it. ``open_stream`` sends the
request through the Fetcher's own aiohttp session instead. That session's
resolver checks every address DNS returns and its socket factory checks
the address right before connecting, so a stream read here reaches only
what ``Fetcher.get`` may reach. The URL of every hop passes ``check_url``
first, as in ``Fetcher.get``.

NOTE: this uses private parts of ``govportal.lib.httpfetch`` (the
session, the concurrency slots and its error translation) because the
Fetcher has no public streaming call. robots.txt is not consulted here.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from govportal.lib.errors import SourceError
from govportal.lib.httpfetch import (
    PIECE_BYTES,
    REDIRECT_STATUSES,
    Fetcher,
    FetchPolicy,
    _join_location,
    _translate_client_error,
    parse_content_type,
)
from govportal.lib.netguard import check_url


@dataclass
class Stream:
    """An open response whose body has not been read yet."""

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


@contextlib.asynccontextmanager
async def open_stream(
    fetcher: Fetcher, url: str, *, accept: str
) -> AsyncIterator[Stream]:
    """Send a GET and yield the 2xx response unread, following redirects.

    The connection is closed on exit, whether or not the body was read.
    Raises SourceError with the Fetcher's codes (see httpfetch), including
    ``http_status`` for a final status outside 2xx.
    """
    session = fetcher._session
    global_slots = fetcher._global_slots
    if session is None or global_slots is None:
        raise RuntimeError("use Fetcher inside 'async with'")
    policy = fetcher.policy
    current = check_url(url, policy)
    seen = {str(current)}
    headers = {"Accept": accept, "Accept-Encoding": "identity"}
    async with global_slots, fetcher._host_slot(current.raw_host or ""):
        for _ in range(policy.max_redirects + 1):
            response = await _send(session, current, headers)
            try:
                location = response.headers.get("Location")
                if response.status in REDIRECT_STATUSES and location:
                    current = _next_hop(current, location, policy, seen)
                    continue
                if not 200 <= response.status < 300:
                    raise SourceError(
                        "http_status",
                        f"server returned HTTP {response.status}",
                        status=response.status,
                        url=str(current),
                    )
                media_type, _ = parse_content_type(response.headers.get("Content-Type"))
                stream = Stream(
                    url=str(current),
                    status=response.status,
                    media_type=media_type,
                    content_type_header=response.headers.get("Content-Type", ""),
                    content_length=response.content_length,
                    response=response,
                )
                try:
                    yield stream
                except aiohttp.ClientError as exc:
                    raise _translate_client_error(exc, current) from exc
                except HttpProcessingError as exc:
                    raise SourceError(
                        "protocol_error",
                        f"invalid HTTP response from {current.host}: {str(exc)[:300]}",
                    ) from exc
                return
            finally:
                # close(), not release(): the rest of the body is never read.
                response.close()
    raise SourceError(
        "too_many_redirects",
        f"more than {policy.max_redirects} redirects",
        url=url,
    )


async def _send(
    session: aiohttp.ClientSession, url: URL, headers: dict[str, str]
) -> aiohttp.ClientResponse:
    try:
        return await session.get(url, headers=headers, allow_redirects=False)
    except aiohttp.ClientError as exc:
        raise _translate_client_error(exc, url) from exc
    except HttpProcessingError as exc:
        raise SourceError(
            "protocol_error",
            f"invalid HTTP response from {url.host}: {str(exc)[:300]}",
        ) from exc


def _next_hop(current: URL, location: str, policy: FetchPolicy, seen: set[str]) -> URL:
    target = _join_location(current, location)
    try:
        next_url = check_url(target, policy)
    except SourceError as exc:
        raise SourceError(
            "redirect_blocked",
            f"redirect target not allowed: {target[:200]} ({exc.detail or exc.code})",
            cause=exc.code,
        ) from exc
    if str(next_url) in seen:
        raise SourceError(
            "redirect_loop", f"redirect loop: {next_url} was already requested"
        )
    seen.add(str(next_url))
    return next_url
