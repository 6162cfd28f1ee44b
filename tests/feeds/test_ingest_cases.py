"""The feed cases end to end: served on loopback, fetched, parsed and stored.

Each expected value is the one the case index gives for a fetch at
2024-05-03T12:00+08:00.
"""

import gzip
import zlib
from datetime import datetime, timedelta

import pytest

from govportal.feeds.ingest import fetch_feeds
from govportal.feeds.models import Feed, FetchLog
from govportal.news.models import NewsItem
from tests.feeds.conftest import CASE_CLOCK, TAIPEI, case_bytes
from tests.support.fixture_server import Response

pytestmark = pytest.mark.usefixtures("loopback_allowed", "case_clock")

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def at(*args):
    return datetime(*args, tzinfo=TAIPEI)


def fetch(feed):
    fetch_feeds([feed])
    feed.refresh_from_db()
    return feed


def stored():
    return {item.title: item for item in NewsItem.objects.all()}


SIMPLE_CASES = [
    ("00-baseline.xml", None, {"範例縣政府 新聞稿：本週施政重點": at(2024, 5, 2, 9)}),
    (
        "01-big5-declared.xml",
        None,
        {
            "範例縣政府發布颱風停班停課資訊": at(2024, 5, 1, 9),
            "本府113年度預算說明會": at(2024, 5, 2, 10, 30),
        },
    ),
    (
        "03-big5-http-header-only.body.xml",
        "application/rss+xml; charset=Big5",
        {"衛生局提醒民眾注意登革熱防治": at(2024, 5, 2, 15)},
    ),
    ("05-utf8-bom.xml", None, {"環境部公告空氣品質監測結果": at(2024, 5, 2, 8)}),
    (
        "06-header-big5-body-utf8.body.xml",
        "text/xml; charset=big5",
        {"環境部公告空氣品質監測結果": at(2024, 5, 2, 8, 30)},
    ),
    (
        "01-big5-declared.xml",
        "application/rss+xml; charset=big5",
        {
            "範例縣政府發布颱風停班停課資訊": at(2024, 5, 1, 9),
            "本府113年度預算說明會": at(2024, 5, 2, 10, 30),
        },
    ),
    (
        "12-slash-date-no-zone.xml",
        None,
        {
            "地政處公告地價調整": at(2024, 5, 2, 14, 30),
            "工務處道路施工通知": at(2024, 4, 29),
        },
    ),
    (
        "13-roc-date-slash.xml",
        None,
        {
            "民政處受理113年度補助申請": at(2024, 5, 2, 9, 15),
            "警察局交通安全宣導": at(2024, 4, 30),
        },
    ),
    (
        "15-local-time-no-zone-atom.xml",
        None,
        {"水利處發布豪雨特報應變措施": at(2024, 5, 2, 9)},
    ),
    (
        "15b-local-time-no-zone-rss.xml",
        None,
        {"觀光處端午連假交通疏導": at(2024, 5, 2, 9)},
    ),
    (
        "24-blank-lines-before-prolog-big5.xml",
        None,
        {"範例縣政府發布颱風停班停課資訊": at(2024, 5, 1, 9)},
    ),
    (
        "50-benign-internal-entity.xml",
        None,
        {"文化局\u00a0音樂會售票資訊": at(2024, 5, 2, 19)},
    ),
]


@pytest.mark.parametrize(
    ("case", "content_type", "expected"),
    SIMPLE_CASES,
    ids=[f"{c[0]}|{c[1] or 'no charset'}" for c in SIMPLE_CASES],
)
def test_case_stores_expected_items(server, make_feed, case, content_type, expected):
    headers = {"Content-Type": content_type or "application/rss+xml"}
    server.route("/rss/news.xml", Response(200, headers, case_bytes(case)))
    feed = fetch(make_feed("/rss/news.xml"))

    assert feed.state == Feed.State.ACTIVE
    assert feed.last_error_code == ""
    items = stored()
    assert set(items) == set(expected)
    for title, published in expected.items():
        assert items[title].published_at == published, title


def test_case06_records_charset_mismatch(server, make_feed):
    body = case_bytes("06-header-big5-body-utf8.body.xml")
    server.route(
        "/rss/news.xml", Response(200, {"Content-Type": "text/xml; charset=big5"}, body)
    )
    feed = fetch(make_feed("/rss/news.xml"))
    assert "charset mismatch" in feed.last_flags


def test_case09_invalid_bytes_keep_the_rest(server, make_feed):
    server.route(
        "/rss/news.xml", Response(200, RSS, case_bytes("09-utf8-invalid-bytes.xml"))
    )
    fetch(make_feed("/rss/news.xml"))
    titles = set(stored())
    assert "本府公告五月份資源回收日程" in titles
    assert len(titles) == 2
    damaged = next(t for t in titles if t.startswith("衛生局公告"))
    assert damaged.endswith("疫苗接種站異動")


def test_case11_missing_date_is_first_seen_and_stable(server, make_feed, case_clock):
    server.route(
        "/rss/news.xml", Response(200, RSS, case_bytes("11-missing-pubdate.xml"))
    )
    feed = make_feed("/rss/news.xml")
    fetch(feed)
    first = {t: i.published_at for t, i in stored().items()}
    assert len(first) == 2
    for published in first.values():
        assert abs(published - CASE_CLOCK) < timedelta(minutes=1)

    case_clock.shift(timedelta(hours=3))
    fetch(feed)
    assert {t: i.published_at for t, i in stored().items()} == first
    assert FetchLog.objects.order_by("-id").first().items_new == 0


def test_case17_future_dates_never_lead(server, make_feed):
    server.route("/rss/news.xml", Response(200, RSS, case_bytes("17-future-date.xml")))
    fetch(make_feed("/rss/news.xml"))
    items = stored()
    assert items["本府今日記者會"].published_at == at(2024, 5, 3, 10)
    for title in ("主計處公告物價指數", "本府預告下週活動"):
        assert "future date" in items[title].flags
        assert items[title].published_at <= CASE_CLOCK + timedelta(minutes=1)
    assert items["主計處公告物價指數"].source_published_at == at(2099, 1, 1)
    newest = NewsItem.objects.order_by("-published_at").first()
    assert newest.published_at <= CASE_CLOCK + timedelta(minutes=1)


def test_case19_unescaped_ampersand_recovered(server, make_feed):
    server.route(
        "/rss/news.xml", Response(200, RSS, case_bytes("19-unescaped-ampersand.xml"))
    )
    fetch(make_feed("/rss/news.xml"))
    item = NewsItem.objects.get()
    assert item.title == "研商「產業&就業」座談會"
    assert "n=12&s=1901" in item.link


def test_case21_control_characters_removed(server, make_feed):
    server.route(
        "/rss/news.xml", Response(200, RSS, case_bytes("21-control-characters.xml"))
    )
    fetch(make_feed("/rss/news.xml"))
    item = NewsItem.objects.get()
    assert item.title == "衛生局防疫物資發放"
    for char in "\x08\x1e\x0c":
        assert char not in item.summary_html


def test_case22_truncated_fails_and_keeps_old_items(server, make_feed):
    server.route(
        "/rss/news.xml",
        [
            Response(200, RSS, case_bytes("00-baseline.xml")),
            Response(200, RSS, case_bytes("22-truncated.xml")),
        ],
    )
    feed = make_feed("/rss/news.xml")
    fetch(feed)
    assert NewsItem.objects.count() == 1
    fetch(feed)
    assert feed.state == Feed.State.FAILING
    assert feed.last_error_code == "truncated"
    assert NewsItem.objects.count() == 1


def test_case23_html_and_503_keep_items(server, make_feed):
    challenge = (
        b'<!DOCTYPE html>\n<html lang="zh-Hant"><head><meta charset="utf-8">'
        b"<title>\xe8\xab\x8b\xe7\xa8\x8d\xe5\x80\x99</title></head><body>"
        b"<script>/* browser check */</script></body></html>"
    )
    maintenance = "<html><body><h1>系統維護中</h1></body></html>".encode("cp950")
    server.route(
        "/rss/news.xml",
        [
            Response(200, RSS, case_bytes("00-baseline.xml")),
            Response(200, {"Content-Type": "text/html; charset=utf-8"}, challenge),
            Response(
                503,
                {"Content-Type": "text/html; charset=big5", "Retry-After": "3600"},
                maintenance,
            ),
        ],
    )
    feed = make_feed("/rss/news.xml")
    fetch(feed)

    fetch(feed)
    assert feed.last_error_code == "not_a_feed_html"
    assert feed.state == Feed.State.FAILING
    assert NewsItem.objects.count() == 1

    fetch(feed)
    assert feed.last_error_code == "http_status"
    assert feed.last_error_params["status"] == 503
    assert feed.next_fetch_at >= feed.last_fetch_at + timedelta(seconds=3590)
    assert NewsItem.objects.count() == 1


def test_case26_escaped_cdata_description(server, make_feed):
    server.route(
        "/rss/news.xml",
        Response(200, RSS, case_bytes("26-escaped-cdata-description.xml")),
    )
    fetch(make_feed("/rss/news.xml"))
    summary = NewsItem.objects.get().summary_html
    assert "本次調查共回收1,068份有效問卷。" in summary
    assert "CDATA" not in summary


@pytest.mark.parametrize("case", ["28-missing-guid.xml", "29-duplicate-guid.xml"])
def test_case_identity_refetch_adds_nothing(server, make_feed, case):
    server.route("/rss/news.xml", Response(200, RSS, case_bytes(case)))
    feed = make_feed("/rss/news.xml")
    fetch(feed)
    count = NewsItem.objects.count()
    assert count == (2 if case.startswith("28") else 3)
    fetch(feed)
    assert NewsItem.objects.count() == count


def test_case31_tracking_parameters_removed(server, make_feed):
    server.route(
        "/rss/news.xml", Response(200, RSS, case_bytes("31-tracking-params.xml"))
    )
    fetch(make_feed("/rss/news.xml"))
    items = stored()
    assert len(items) == 2
    link = items["經發處中小企業貸款說明"].link
    assert link == "https://www.example.gov.tw/News_Content.aspx?n=12&sms=34&s=3101"
    assert items["經發處商圈輔導計畫"].link.endswith("s=3102")


def test_case33_same_item_in_two_feeds(server, make_feed):
    server.route("/a.xml", Response(200, RSS, case_bytes("33a-same-item-feed-a.xml")))
    server.route("/b.xml", Response(200, RSS, case_bytes("33b-same-item-feed-b.xml")))
    feed_a = make_feed("/a.xml")
    feed_b = make_feed("/b.xml")
    fetch_feeds([feed_a])
    fetch_feeds([feed_b])
    items = stored()
    assert set(items) == {"行政院核定前瞻基礎建設計畫", "計畫處公告施政計畫"}
    shared = items["行政院核定前瞻基礎建設計畫"]
    assert shared.published_at == at(2024, 5, 2, 17)
    assert shared.link.endswith("n=1&s=3300")
    assert set(shared.feeds.values_list("id", flat=True)) == {feed_a.id, feed_b.id}


def test_case34_markup_never_stored_executable(server, make_feed):
    server.route(
        "/rss/news.xml", Response(200, RSS, case_bytes("34-xss-title-description.xml"))
    )
    fetch(make_feed("/rss/news.xml"))
    for item in NewsItem.objects.all():
        assert "<" not in item.title
        lowered = item.summary_html.lower()
        for bad in ("<script", "onerror", "onclick", "<iframe", "javascript:"):
            assert bad not in lowered
        assert not item.link.lower().startswith("javascript")


def test_case36_huge_description_truncated(server, make_feed):
    server.route(
        "/rss/news.xml", Response(200, RSS, case_bytes("36-huge-description.xml"))
    )
    fetch(make_feed("/rss/news.xml"))
    items = list(NewsItem.objects.order_by("published_at"))
    assert len(items) == 2
    assert max(len(i.summary_html) for i in items) < 100_000


def test_case39_unrequested_gzip_and_deflate(server, make_feed):
    body = case_bytes("00-baseline.xml")
    server.route(
        "/gz.xml",
        Response(200, {**RSS, "Content-Encoding": "gzip"}, gzip.compress(body)),
    )
    server.route(
        "/df.xml",
        Response(200, {**RSS, "Content-Encoding": "deflate"}, zlib.compress(body)),
    )
    fetch_feeds([make_feed("/gz.xml"), make_feed("/df.xml")])
    assert NewsItem.objects.count() == 1
    assert all(f.state == Feed.State.ACTIVE for f in Feed.objects.all())


def test_case41_conditional_get_and_304(server, make_feed):
    server.route(
        "/rss/news.xml",
        [
            Response(
                200,
                {
                    **RSS,
                    "ETag": '"v1"',
                    "Last-Modified": "Thu, 02 May 2024 01:00:00 GMT",
                },
                case_bytes("00-baseline.xml"),
            ),
            Response(
                304, {"ETag": '"v2"', "Last-Modified": "Thu, 02 May 2024 01:00:00 GMT"}
            ),
            Response(304, {}),
        ],
    )
    feed = make_feed("/rss/news.xml")
    for _ in range(3):
        fetch(feed)
        assert feed.state == Feed.State.ACTIVE
        assert feed.consecutive_failures == 0
    requests = server.requests_for("/rss/news.xml")
    assert requests[1].headers.get("if-none-match") == '"v1"'
    assert (
        requests[1].headers.get("if-modified-since") == "Thu, 02 May 2024 01:00:00 GMT"
    )
    assert requests[2].headers.get("if-none-match") == '"v2"'
    assert feed.etag == '"v2"'
    assert NewsItem.objects.count() == 1


def test_case41_future_validators_ignored_and_daily_plain_get(
    server, make_feed, case_clock
):
    bogus = "Sat, 16 Nov 2041 19:11:00 GMT"
    server.route(
        "/rss/news.xml",
        [
            Response(
                200,
                {**RSS, "ETag": f'"{bogus}"', "Last-Modified": bogus},
                case_bytes("00-baseline.xml"),
            ),
            Response(304, {"ETag": f'"{bogus}"', "Last-Modified": bogus}),
        ],
    )
    feed = make_feed("/rss/news.xml")
    fetch(feed)
    assert feed.etag == ""
    assert feed.last_modified == ""
    fetch(feed)
    second = server.requests_for("/rss/news.xml")[1]
    assert "if-none-match" not in second.headers
    assert "if-modified-since" not in second.headers


def test_daily_unconditional_get_defeats_endless_304(server, make_feed, case_clock):
    server.route(
        "/rss/news.xml",
        [
            Response(200, {**RSS, "ETag": '"v1"'}, case_bytes("00-baseline.xml")),
            Response(304, {"ETag": '"v1"'}),
        ],
    )
    feed = make_feed("/rss/news.xml")
    fetch(feed)
    case_clock.shift(timedelta(hours=2))
    fetch(feed)
    case_clock.shift(timedelta(hours=23))
    fetch(feed)
    requests = server.requests_for("/rss/news.xml")
    assert requests[1].headers.get("if-none-match") == '"v1"'
    assert "if-none-match" not in requests[2].headers


def test_case37_redirect_loop_keeps_url(server, make_feed):
    server.route("/rss/news.xml", Response(301, {"Location": "/rss/news.xml/"}))
    server.route(
        "/rss/news.xml/", Response(302, {"Location": server.url("/rss/news.xml")})
    )
    feed = make_feed("/rss/news.xml")
    url = feed.url
    fetch(feed)
    assert feed.last_error_code in {"redirect_loop", "too_many_redirects"}
    assert feed.url == url
    assert NewsItem.objects.count() == 0


def test_case38_permanent_redirect_waits_for_confirmation(server, make_feed):
    server.route("/rss/news.xml", Response(308, {"Location": "/rss/v2/news.xml"}))
    server.route("/rss/v2/news.xml", Response(200, RSS, case_bytes("00-baseline.xml")))
    feed = make_feed("/rss/news.xml")
    url = feed.url
    fetch(feed)
    assert NewsItem.objects.count() == 1
    assert feed.url == url
    assert feed.moved_to_url == server.url("/rss/v2/news.xml")


def test_temporary_redirect_never_proposes_a_move(server, make_feed):
    server.route("/rss/news.xml", Response(302, {"Location": "/rss/v2/news.xml"}))
    server.route("/rss/v2/news.xml", Response(200, RSS, case_bytes("00-baseline.xml")))
    feed = fetch(make_feed("/rss/news.xml"))
    assert feed.moved_to_url == ""


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("47-entity-expansion-bomb.xml", "dtd_rejected"),
        ("48-xxe-local-file.xml", "dtd_rejected"),
    ],
)
def test_hostile_dtd_rejected_and_nothing_stored(server, make_feed, case, code):
    server.route("/rss/news.xml", Response(200, RSS, case_bytes(case)))
    feed = fetch(make_feed("/rss/news.xml"))
    assert feed.last_error_code == code
    assert NewsItem.objects.count() == 0


def test_failing_feed_backs_off_and_recovers(server, make_feed):
    server.route(
        "/rss/news.xml",
        [
            Response(500, {}),
            Response(500, {}),
            Response(500, {}),
            Response(200, RSS, case_bytes("00-baseline.xml")),
        ],
    )
    feed = make_feed("/rss/news.xml")
    delays = []
    for _ in range(3):
        fetch(feed)
        assert feed.state == Feed.State.FAILING
        delays.append(feed.next_fetch_at - feed.last_fetch_at)
    assert delays[0] < delays[1] < delays[2]
    assert feed.consecutive_failures == 3

    fetch(feed)
    assert feed.state == Feed.State.ACTIVE
    assert feed.consecutive_failures == 0
    assert feed.last_error_code == ""
    assert feed.last_success_at is not None


def test_one_feeds_failure_leaves_others_alone(server, make_feed):
    server.route("/bad.xml", Response(200, RSS, case_bytes("22-truncated.xml")))
    server.route("/good.xml", Response(200, RSS, case_bytes("00-baseline.xml")))
    bad, good = make_feed("/bad.xml"), make_feed("/good.xml")
    fetch_feeds([bad, good])
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.state == Feed.State.FAILING
    assert good.state == Feed.State.ACTIVE
    assert NewsItem.objects.count() == 1


def test_validator_dropped_when_server_stops_sending_it(server, make_feed):
    server.route(
        "/rss/news.xml",
        [
            Response(200, {**RSS, "ETag": '"v1"'}, case_bytes("00-baseline.xml")),
            Response(200, RSS, case_bytes("00-baseline.xml")),
        ],
    )
    feed = make_feed("/rss/news.xml")
    fetch(feed)
    assert feed.etag == '"v1"'
    fetch(feed)
    assert feed.etag == ""
