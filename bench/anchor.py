"""The anchor of targets T7 and T8: httpx and feedparser, 50 requests at a time."""

import asyncio
import time

import feedparser
import httpx


async def _fetch_all(
    urls: list[str], etags: dict[str, str] | None, concurrency: int = 50
) -> tuple[dict[str, str], int]:
    limit = asyncio.Semaphore(concurrency)
    found: dict[str, str] = {}
    entries = 0
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(url: str) -> None:
            nonlocal entries
            headers = {}
            if etags and url in etags:
                headers["If-None-Match"] = etags[url]
            async with limit:
                response = await client.get(url, headers=headers)
            if response.status_code == 200:
                entries += len(feedparser.parse(response.content).entries)
            if "etag" in response.headers:
                found[url] = response.headers["etag"]

        await asyncio.gather(*(one(url) for url in urls))
    return found, entries


def run_anchor(urls: list[str]) -> dict[str, float]:
    """Time a first fetch and a conditional refresh of every URL."""
    started = time.perf_counter()
    etags, entries = asyncio.run(_fetch_all(urls, None))
    first = time.perf_counter() - started

    started = time.perf_counter()
    asyncio.run(_fetch_all(urls, etags))
    refresh = time.perf_counter() - started
    return {"first": first, "refresh": refresh, "entries": entries}
