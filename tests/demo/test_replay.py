from datetime import UTC, datetime, timedelta

import pytest

from govportal.demo.replay import (
    DEMO_FEEDS,
    FEEDS_DIR,
    FORMATS,
    newest_date,
    shift_dates,
)

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("feed", DEMO_FEEDS, ids=lambda f: f.file)
def test_replay_makes_newest_item_an_hour_old(feed):
    original = (FEEDS_DIR / feed.file).read_text(encoding="utf-8")
    replayed = shift_dates(original, NOW)
    newest = newest_date(replayed)
    assert newest is not None
    assert abs(newest - (NOW - timedelta(hours=1))) < timedelta(seconds=1)


@pytest.mark.parametrize("feed", DEMO_FEEDS, ids=lambda f: f.file)
def test_replay_changes_nothing_but_dates(feed):
    original = (FEEDS_DIR / feed.file).read_text(encoding="utf-8")
    replayed = shift_dates(original, NOW)

    def blank_dates(text: str) -> str:
        for pattern, _, _ in FORMATS:
            text = pattern.sub("DATE", text)
        return text

    assert replayed != original
    assert blank_dates(replayed) == blank_dates(original)


def test_replay_keeps_chinese_am_pm_format():
    text = '{"PublishDate": "2026/7/17 下午 04:48:00"}'
    replayed = shift_dates(text, datetime(2026, 12, 4, 2, 0, tzinfo=UTC))
    # 02:00 UTC is 10:00 in Taipei; an hour earlier is 上午 09:00.
    assert replayed == '{"PublishDate": "2026/12/4 上午 09:00:00"}'


def test_replay_keeps_gmt_label_and_spacing():
    text = (
        "<pubDate>Mon, 20 Jul 2026 17:10:24 GMT</pubDate>"
        "<pubDate>Mon, 20 Jul 2026 11:10:24 GMT</pubDate>"
    )
    replayed = shift_dates(text, NOW)
    assert replayed == (
        "<pubDate>Fri, 04 Dec 2026 07:00:00 GMT</pubDate>"
        "<pubDate>Fri, 04 Dec 2026 01:00:00 GMT</pubDate>"
    )
