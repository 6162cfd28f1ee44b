"""Time parse_feed on 20-item feeds, with feedparser as a reference.

Run from the repository root:

    .venv/bin/python -m tests.feedparse.bench_parse

Not a test: timings depend on the machine and its load. Each number is the
best of several rounds, in milliseconds per parse.
"""

import re
import timeit

import feedparser

from govportal.lib.feedparse import parse_feed
from tests.feedparse.helpers import case_bytes, real_feed_bytes

ROUNDS = 7
PARSES_PER_ROUND = 50
FEEDPARSER_PARSES_PER_ROUND = 5


def first_items(body: bytes, count: int) -> bytes:
    """Return an RSS body cut after its first ``count`` items."""
    ends = [match.end() for match in re.finditer(rb"</item>", body)]
    return body[: ends[count - 1]] + b"</channel></rss>"


def repeated_baseline(count: int) -> bytes:
    """Return the baseline case with its one item repeated ``count`` times."""
    body = case_bytes("00-baseline.xml")
    head, rest = body.split(b"<item>", 1)
    item, tail = rest.split(b"</item>", 1)
    items = b"".join(
        b"<item>" + item.replace(b"9001", str(9000 + n).encode()) + b"</item>"
        for n in range(count)
    )
    return head + items + tail


def best_ms(function, number: int) -> float:
    rounds = timeit.repeat(function, number=number, repeat=ROUNDS)
    return min(rounds) / number * 1000


def main() -> None:
    samples = {
        "baseline item x20": repeated_baseline(20),
        "行政院 first 20 items": first_items(
            real_feed_bytes("ey-ministry-news-2026-07-20.xml"), 20
        ),
        "衛生福利部 20 items": real_feed_bytes("mohw-focus-news-2021-05-26.xml"),
    }
    print(f"{'feed':24} {'bytes':>7} {'parse_feed':>11} {'feedparser':>11}")
    for name, body in samples.items():
        assert len(parse_feed(body).entries) == 20
        ours = best_ms(lambda body=body: parse_feed(body), PARSES_PER_ROUND)
        reference = best_ms(
            lambda body=body: feedparser.parse(body), FEEDPARSER_PARSES_PER_ROUND
        )
        print(f"{name:24} {len(body):7d} {ours:9.3f}ms {reference:9.2f}ms")


if __name__ == "__main__":
    main()
