"""Storing parsed entries: identity, windows, dates and ownership of a story."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from govportal.agencies.models import Agency
from govportal.feeds.models import Feed
from govportal.lib.feedparse.types import ParsedEntry, ParsedFeed
from govportal.news.models import FeedEntry, NewsItem
from govportal.news.store import (
    measure_gmt_means_local,
    purge_expired,
    store_parsed_feed,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2024, 5, 3, 12, 0, tzinfo=TAIPEI)
LINK = "https://www.example.gov.tw/News_Content.aspx?n=12&sms=34&s={}"


def entry(title, s=None, published=None, guid=None, **extra):
    return ParsedEntry(
        title=title,
        link=LINK.format(s) if s else None,
        guid=guid,
        summary_html=extra.pop("summary_html", ""),
        published=published,
        **extra,
    )


def feed_of(*entries):
    return ParsedFeed(
        kind="rss2", title="t", link=None, entries=list(entries), encoding="utf-8"
    )


@pytest.fixture
def county(db):
    return Agency.objects.create(code="376420000A", name_zh="宜蘭縣政府")


@pytest.fixture
def feed_a(county):
    return Feed.objects.create(
        agency=county, url="https://www.example.gov.tw/a.xml", state="active"
    )


@pytest.fixture
def feed_b(county):
    return Feed.objects.create(
        agency=county, url="https://www.example.gov.tw/b.xml", state="active"
    )


def test_same_story_in_two_feeds_shown_once(feed_a, feed_b):
    shared_a = entry(
        "行政院核定前瞻基礎建設計畫",
        3300,
        datetime(2024, 5, 2, 17, tzinfo=TAIPEI),
        guid="egov-3300",
    )
    only_a = entry(
        "計畫處公告施政計畫",
        3301,
        datetime(2024, 5, 1, 17, tzinfo=TAIPEI),
        guid="egov-3301",
    )
    shared_b = entry(
        "行政院核定前瞻基礎建設計畫",
        3300,
        datetime(2024, 5, 3, 8, tzinfo=TAIPEI),
        guid="egov-3300",
    )

    store_parsed_feed(feed_a, feed_of(shared_a, only_a), NOW)
    result = store_parsed_feed(feed_b, feed_of(shared_b), NOW)

    assert result.new == 0
    assert NewsItem.objects.count() == 2
    item = NewsItem.objects.get(title="行政院核定前瞻基礎建設計畫")
    assert set(item.feeds.values_list("id", flat=True)) == {feed_a.id, feed_b.id}
    # The feed that first carried the story owns its date and text.
    assert item.published_at == datetime(2024, 5, 2, 17, tzinfo=TAIPEI)


def test_second_feed_cannot_overwrite_first_feeds_story(feed_a, feed_b):
    store_parsed_feed(
        feed_a, feed_of(entry("原標題", 1, NOW - timedelta(hours=1))), NOW
    )
    store_parsed_feed(
        feed_b, feed_of(entry("竄改的標題", 1, NOW - timedelta(hours=1))), NOW
    )
    assert NewsItem.objects.get().title == "原標題"


def test_refetch_adds_nothing_and_updates_changes(feed_a):
    first = entry("原標題", 1, NOW - timedelta(hours=2), guid="g1")
    store_parsed_feed(feed_a, feed_of(first), NOW)
    again = store_parsed_feed(feed_a, feed_of(first), NOW + timedelta(hours=1))
    assert again.new == 0
    assert again.updated == 0

    fixed = entry("更正後標題", 1, NOW - timedelta(hours=2), guid="g1")
    result = store_parsed_feed(feed_a, feed_of(fixed), NOW + timedelta(hours=2))
    assert result.updated == 1
    assert NewsItem.objects.get().title == "更正後標題"


def test_items_without_guid_keyed_by_link(feed_a):
    items = feed_of(
        entry("甲", 2801, NOW - timedelta(hours=1)),
        entry("乙", 2802, NOW - timedelta(hours=2)),
    )
    assert store_parsed_feed(feed_a, items, NOW).new == 2
    assert store_parsed_feed(feed_a, items, NOW + timedelta(hours=1)).new == 0


def test_bare_items_keyed_by_title_and_date(feed_a):
    items = feed_of(entry("沒有連結的公告", None, NOW - timedelta(hours=1)))
    assert store_parsed_feed(feed_a, items, NOW).new == 1
    assert store_parsed_feed(feed_a, items, NOW + timedelta(hours=1)).new == 0


def test_tracking_parameters_do_not_split_a_story(feed_a):
    plain = entry("經發處中小企業貸款說明", 3101, NOW - timedelta(hours=1))
    tracked = ParsedEntry(
        title="經發處中小企業貸款說明",
        link=LINK.format(3101) + "&utm_source=fb&fbclid=abc",
        guid=None,
        summary_html="",
        published=NOW - timedelta(hours=1),
    )
    store_parsed_feed(feed_a, feed_of(plain, tracked), NOW)
    assert NewsItem.objects.count() == 1


def test_only_last_seven_days_are_stored(feed_a):
    result = store_parsed_feed(
        feed_a,
        feed_of(
            entry("新", 1, NOW - timedelta(days=6, hours=23)),
            entry("舊", 2, NOW - timedelta(days=7, hours=1)),
        ),
        NOW,
    )
    assert result.new == 1
    assert result.skipped_old == 1
    assert NewsItem.objects.get().title == "新"


def test_missing_date_is_first_seen_and_stays(feed_a):
    undated = entry("沒有日期的公告", 1101)
    store_parsed_feed(feed_a, feed_of(undated), NOW)
    store_parsed_feed(feed_a, feed_of(undated), NOW + timedelta(days=2))
    item = NewsItem.objects.get()
    assert item.published_at == NOW
    assert "missing date" in item.flags


def test_future_date_sorts_by_first_seen(feed_a):
    store_parsed_feed(
        feed_a,
        feed_of(
            entry("主計處公告物價指數", 1701, datetime(2099, 1, 1, tzinfo=TAIPEI)),
            entry("本府預告下週活動", 1702, datetime(2024, 5, 13, 9, tzinfo=TAIPEI)),
            entry("本府今日記者會", 1703, datetime(2024, 5, 3, 10, tzinfo=TAIPEI)),
        ),
        NOW,
    )
    future = NewsItem.objects.get(title="主計處公告物價指數")
    assert future.published_at == NOW
    assert future.source_published_at == datetime(2099, 1, 1, tzinfo=TAIPEI)
    assert "future date" in future.flags
    today = NewsItem.objects.get(title="本府今日記者會")
    assert today.published_at == datetime(2024, 5, 3, 10, tzinfo=TAIPEI)
    assert NewsItem.objects.order_by("-published_at").first().published_at <= NOW


@pytest.fixture
def cabinet(db):
    return Agency.objects.create(
        code="A00000000A", oid="2.16.886.101.20003", name_zh="行政院"
    )


@pytest.fixture
def labour(db):
    return Agency.objects.create(
        code="A17000000J", oid="2.16.886.101.20003.20063", name_zh="勞動部"
    )


def test_item_credited_to_agency_of_its_oid(cabinet, labour):
    feed = Feed.objects.create(
        agency=cabinet, url="https://www.ey.gov.tw/rss", state="active"
    )
    store_parsed_feed(
        feed,
        feed_of(
            entry("外送專法上路", 1, NOW - timedelta(hours=1), author_oid=labour.oid),
            entry("沒有作者", 2, NOW - timedelta(hours=1)),
        ),
        NOW,
        {labour.oid: labour.id},
    )
    assert NewsItem.objects.get(title="外送專法上路").agency == labour
    assert NewsItem.objects.get(title="沒有作者").agency == cabinet


def test_oid_outside_feeds_agency_ignored(cabinet, labour):
    president = Agency.objects.create(
        code="200000000A", oid="2.16.886.101.20002", name_zh="總統府"
    )
    city = Agency.objects.create(
        code="379000000A", oid="2.16.886.101.90001", name_zh="臺北市政府"
    )
    feed = Feed.objects.create(
        agency=city, url="https://www.gov.taipei/rss", state="active"
    )
    store_parsed_feed(
        feed,
        feed_of(
            entry("冒名公告", 1, NOW - timedelta(hours=1), author_oid=president.oid)
        ),
        NOW,
        {president.oid: president.id},
    )
    item = NewsItem.objects.get()
    assert item.agency == city
    assert "agency OID outside the feed's agency" in item.flags


def test_unrelated_agency_cannot_claim_a_link(cabinet, labour):
    city = Agency.objects.create(
        code="379000000A", oid="2.16.886.101.90001", name_zh="臺北市政府"
    )
    city_feed = Feed.objects.create(
        agency=city, url="https://www.gov.taipei/rss", state="active"
    )
    labour_feed = Feed.objects.create(
        agency=labour, url="https://www.mol.gov.tw/rss", state="active"
    )
    published = NOW - timedelta(hours=1)
    store_parsed_feed(city_feed, feed_of(entry("假標題", 77, published)), NOW)
    store_parsed_feed(
        labour_feed, feed_of(entry("勞動部真正的新聞", 77, published)), NOW
    )

    titles = dict(NewsItem.objects.values_list("agency__code", "title"))
    assert titles == {"379000000A": "假標題", "A17000000J": "勞動部真正的新聞"}


def test_parent_and_child_feeds_share_a_story(cabinet, labour):
    cabinet_feed = Feed.objects.create(
        agency=cabinet, url="https://www.ey.gov.tw/rss", state="active"
    )
    labour_feed = Feed.objects.create(
        agency=labour, url="https://www.mol.gov.tw/rss", state="active"
    )
    published = NOW - timedelta(hours=1)
    store_parsed_feed(
        cabinet_feed,
        feed_of(entry("外送專法上路", 5, published, author_oid=labour.oid)),
        NOW,
        {labour.oid: labour.id},
    )
    store_parsed_feed(labour_feed, feed_of(entry("外送專法上路", 5, published)), NOW)

    item = NewsItem.objects.get()
    assert item.agency == labour
    assert set(item.feeds.values_list("id", flat=True)) == {
        cabinet_feed.id,
        labour_feed.id,
    }


def test_guid_scoped_to_its_feed(feed_a, feed_b):
    store_parsed_feed(
        feed_a,
        feed_of(entry("甲機關新聞", 1, NOW - timedelta(hours=1), guid="same")),
        NOW,
    )
    store_parsed_feed(
        feed_b,
        feed_of(entry("乙機關新聞", 2, NOW - timedelta(hours=1), guid="same")),
        NOW,
    )
    assert NewsItem.objects.count() == 2
    assert FeedEntry.objects.filter(guid="same").count() == 2
    assert NewsItem.objects.get(title="甲機關新聞").link.endswith("s=1")


def test_empty_fetch_deletes_nothing(feed_a):
    store_parsed_feed(feed_a, feed_of(entry("保留", 1, NOW - timedelta(hours=1))), NOW)
    store_parsed_feed(feed_a, feed_of(), NOW + timedelta(hours=1))
    assert NewsItem.objects.count() == 1


def test_purge_removes_only_expired_news(feed_a, settings):
    settings.NEWS_RETENTION_DAYS = 30
    later = NOW + timedelta(days=29, hours=12)
    store_parsed_feed(feed_a, feed_of(entry("舊聞", 1, NOW - timedelta(days=1))), NOW)
    store_parsed_feed(
        feed_a, feed_of(entry("新聞", 2, later - timedelta(hours=1))), later
    )
    assert purge_expired(later) == 1
    assert list(NewsItem.objects.values_list("title", flat=True)) == ["新聞"]


def test_gmt_label_measured_as_local_time():
    ahead = [entry("a", 1, NOW + timedelta(hours=7), published_says_gmt=True)]
    assert measure_gmt_means_local(ahead, NOW)
    far = [*ahead, entry("b", 2, NOW + timedelta(days=3), published_says_gmt=True)]
    assert not measure_gmt_means_local(far, NOW)
    past = [entry("c", 3, NOW - timedelta(hours=1), published_says_gmt=True)]
    assert not measure_gmt_means_local(past, NOW)
