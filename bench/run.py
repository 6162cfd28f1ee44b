"""Run the benchmark suite and write docs/benchmarks.md.

Each target runs its anchor and our code back to back in one run, on the
same corpus and the same loopback server, and reports the ratio; absolute
times drift between machines and runs, ratios much less.
"""

import argparse
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.anchor import run_anchor
from bench.corpus import make_corpus
from bench.feedserver import FeedServer
from bench.ingest import configure_django, run_ingest

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=2000)
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
    lines += feed_ingest(args.feeds)
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
