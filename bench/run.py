"""Run the benchmark suite and write docs/benchmarks.md.

Each target runs its anchor and our code back to back in one run, on the
same corpus and the same loopback server, and reports the ratio. Absolute
times drift between machines and runs, and ratios much less.
"""

import argparse
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.anchor import run_anchor
from bench.api import WORKERS, LoadResult, run_api_bench
from bench.corpus import make_corpus
from bench.feedserver import FeedServer
from bench.ingest import configure_django, run_ingest

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTIONS = ("feeds", "api")


def feed_ingest(count: int) -> list[str]:
    corpus = make_corpus(count)
    server = FeedServer(corpus)
    urls = [server.base_url + feed.path for feed in corpus]
    try:
        anchor = run_anchor(urls)
        ours = run_ingest(urls)
    finally:
        server.stop()
    first_ratio = anchor["first"] / ours["first"]
    refresh_ratio = anchor["refresh"] / ours["refresh"]
    return [
        "## Feed ingest (T7, T8)",
        "",
        f"{count:,} generated RSS feeds of 20 items (Traditional Chinese, 1–3 KB "
        "bodies), served from one loopback server process with ETag. The anchor "
        "is httpx with feedparser, 50 requests at a time, fetching and parsing "
        "only; ours is the real ingest (guarded fetch, parse, sanitise, "
        "de-duplicate, store in SQLite), also 50 at a time.",
        "",
        "| Run | Anchor (s) | govportal (s) | Ratio (anchor / ours) | Target |",
        "|---|---|---|---|---|",
        f"| T7 first fetch | {anchor['first']:.2f} | {ours['first']:.2f} | "
        f"{first_ratio:.2f}x | ≥ 5x |",
        f"| T8 conditional refresh | {anchor['refresh']:.2f} | "
        f"{ours['refresh']:.2f} | {refresh_ratio:.2f}x | ≥ 10x |",
        "",
        f"Entries parsed by the anchor: {anchor['entries']:,}. Items stored by "
        f"govportal: {ours['stored']:,}; failed feeds: {ours['failed']}; "
        f"304 answers on refresh: {ours['not_modified']:,} of {count:,}.",
        "",
    ]


def _api_row(label: str, result: LoadResult, target: str) -> str:
    return (
        f"| {label} | {result.requests_per_second:,.0f} | {result.p50_ms:.1f} | "
        f"{result.p99_ms:.1f} | {result.requests:,} | {result.failed:,} | "
        f"{target} |"
    )


def integration_api(services: int, connections: int, duration: float) -> list[str]:
    results = run_api_bench(services, connections, duration)
    stored = results["anchor_stored"]
    rendered = results["anchor_rendered"]
    read = results["read"]
    ratio = read.requests_per_second / rendered.requests_per_second
    met = ratio >= 0.5 and read.p99_ms <= 70
    client = results["read"].client
    if client == "wrk":
        client_text = "wrk 4 (one thread)"
    else:
        shares = ", ".join(
            f"{name} {result.client_cpu_share:.0%}"
            for name, result in results.items()
            if result.client_cpu_share is not None
        )
        client_text = (
            "a single-process asyncio client, which used this share of one "
            f"core: {shares}; with 2 cores it competes with the workers and "
            "caps the anchor, so wrk gives truer numbers"
        )
    return [
        "## Integration API (T6)",
        "",
        f"gunicorn with {WORKERS} sync workers on loopback, one server for the anchor "
        "and one for `govportal.wsgi:application` on a scratch SQLite database "
        f"with one agency, one production key and {services} services created "
        f"through the API. Load: {client_text}, {connections} connections, "
        f"{duration:.0f} s per row after a 1 s warm-up. The sync workers close "
        "each connection, so every request opens a new one. The anchor "
        "(`bench/anchor_app.py`) is bare Django without middleware: stored "
        "bytes are a real service response of our API, and the render is a "
        "small template per request. Reads are `GET /api/v2/services/{id}` "
        "for random ids of the agency. Writes are validated `PUT`s of the "
        "same body (idempotent) and of a body whose `name_en` changes on "
        "every request, to random ids.",
        "",
        "| Run | req/s | p50 (ms) | p99 (ms) | Requests | Failed | Target |",
        "|---|---|---|---|---|---|---|",
        _api_row("Anchor: stored bytes", stored, "—"),
        _api_row("Anchor: render per request", rendered, "—"),
        _api_row("T6 read", read, "≥ 0.5x render anchor, p99 ≤ 70 ms"),
        _api_row("Validated PUT, same body", results["put_same"], "reported"),
        _api_row("Validated PUT, changed field", results["put_changed"], "reported"),
        "",
        f"Reads / render anchor: {ratio:.2f}x (target ≥ 0.5x); read p99 "
        f"{read.p99_ms:.1f} ms (target ≤ 70 ms): "
        f"{'met' if met else 'not met'}. Failed counts non-2xx answers and "
        "socket errors.",
        "",
    ]


def _merge_sections(old: str, fresh: list[list[str]], run_line: str) -> list[str]:
    """Replace the sections that ran in an existing report and keep the rest.

    The kept header dates the kept sections, so each fresh section gets its
    own run line under its heading.
    """
    header, *chunks = old.split("\n## ")
    sections = {}
    for chunk in chunks:
        heading = chunk.split("\n", 1)[0]
        sections[heading] = "## " + chunk.rstrip("\n")
    for section in fresh:
        heading = section[0].removeprefix("## ")
        with_run = [section[0], "", run_line, *section[1:]]
        sections[heading] = "\n".join(with_run).rstrip("\n")
    text = header.rstrip("\n") + "\n\n" + "\n\n".join(sections.values()) + "\n"
    return text.split("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        help="run one section and keep the report's other sections as they are",
    )
    parser.add_argument(
        "--services",
        type=int,
        default=200,
        help="services created for the API benchmark",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=50,
        help="concurrent connections of the API load generator",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=8.0,
        help="seconds of load per API benchmark row",
    )
    args = parser.parse_args()

    configure_django()
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.run`); do not edit by hand.",
        "",
        f"Run at {datetime.now(UTC).isoformat(timespec='seconds')} on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()}.",
        "",
    ]
    fresh: list[list[str]] = []
    if args.only in (None, "feeds"):
        fresh.append(feed_ingest(args.feeds))
    if args.only in (None, "api"):
        fresh.append(integration_api(args.services, args.connections, args.duration))
    if args.only is not None and REPORT.exists():
        lines = _merge_sections(REPORT.read_text(encoding="utf-8"), fresh, lines[4])
    else:
        for section in fresh:
            lines += section
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
