"""The four real agency feeds under src/govportal/demo/data/feeds/."""

import re
from datetime import UTC, datetime

import feedparser

from govportal.lib.feedparse import parse_feed
from tests.feedparse.helpers import real_feed_bytes, taipei

EY = "ey-ministry-news-2026-07-20.xml"
MOHW = "mohw-focus-news-2021-05-26.xml"
CDC = "cdc-news-2016-10.xml"
PRESIDENT = "president-news-api-2026-07-18.json"

OID = re.compile(r"\d+(\.\d+)+")
ASCII_SPACES = re.compile(r"[ \t\r\n]+")


def test_executive_yuan_feed():
    feed = parse_feed(real_feed_bytes(EY), url="https://www.ey.gov.tw/RSS_Content.aspx")

    assert feed.kind == "rss2"
    assert feed.title == "行政院全球資訊網-部會新聞"
    assert len(feed.entries) == 100
    with_oid = [e for e in feed.entries if e.author_oid]
    assert len(with_oid) == 91
    assert all(OID.fullmatch(e.author_oid) for e in with_oid)
    first = feed.entries[0]
    assert first.title == "外送專法7/21正式上路，打造更安全、透明、公平的外送產業環境"
    assert first.author_oid == "2.16.886.101.20003.20063"
    assert first.published == datetime(2026, 7, 20, 17, 10, 24, tzinfo=UTC)
    assert first.published_says_gmt is True
    assert all(e.link and e.link.startswith("http") for e in feed.entries)
    assert all("&amp;" not in e.link for e in feed.entries)
    assert all(e.summary_html == "" for e in feed.entries)
    assert feed.flags == []


def test_executive_yuan_double_escaped_links_decoded():
    feed = parse_feed(real_feed_bytes(EY))

    links = [e.link for e in feed.entries if "dataserno=202607200001" in e.link]
    assert len(links) == 1
    assert "&parentpath=0,2&mcustomize=news_view.jsp&dataserno=202607200001" in links[0]


def test_health_welfare_feed():
    feed = parse_feed(real_feed_bytes(MOHW))

    assert feed.kind == "rss2"
    assert feed.title == "焦點新聞 - 衛生福利部"
    assert len(feed.entries) == 20
    first = feed.entries[0]
    assert first.title.startswith("食品藥物管理署完成 COVAX 輸入第二批")
    assert first.author == "食品藥物管理署"
    assert first.published == datetime(2021, 5, 26, 10, 39, tzinfo=UTC)
    assert sum(e.summary_html.startswith("<p>") for e in feed.entries) == 19
    for entry in feed.entries:
        assert entry.summary_html
        assert "CDATA" not in entry.summary_html
        assert entry.link.startswith("https://www.mohw.gov.tw/cp-16-")


def test_cdc_feed_dates_from_a10_updated():
    feed = parse_feed(real_feed_bytes(CDC))

    assert feed.kind == "rss2"
    assert [e.title for e in feed.entries] == [
        "一週國內外疫情摘要及預測",
        "疾管署公布第2例境外移入萊姆病確定病例，民眾至流行地區請加強防護，返家儘速更衣沐浴",
    ]
    assert [e.published for e in feed.entries] == [
        datetime(2016, 10, 4, 13, 29, 50, tzinfo=UTC),
        datetime(2016, 10, 4, 12, 6, 41, tzinfo=UTC),
    ]
    assert [e.guid for e in feed.entries] == ["49378", "49376"]
    for entry in feed.entries:
        # The entity-escaped HTML became markup, and spans without attributes
        # were unwrapped by the sanitizer.
        assert entry.summary_html.startswith("<p>")
        assert "&lt;" not in entry.summary_html
        assert "<span" not in entry.summary_html


def test_president_json_export():
    feed = parse_feed(
        real_feed_bytes(PRESIDENT),
        content_type="application/json",
        url="https://www.president.gov.tw/Handler/GetNews.ashx",
    )

    assert feed.kind == "json"
    assert len(feed.entries) == 5
    first = feed.entries[0]
    assert first.title == (
        "副總統參訪竹北福德圖書館\u3000肯定運用有限資源\u3000為市民打造舒適美好生活環境"
    )
    assert first.link == "https://www.president.gov.tw/NEWS/40200"
    assert first.published == taipei(2026, 7, 17, 16, 48)
    assert first.summary_html.startswith("蕭美琴副總統今（17）日下午")
    assert [e.published for e in feed.entries] == [
        taipei(2026, 7, 17, 16, 48),
        taipei(2026, 7, 17, 14, 29),
        taipei(2026, 7, 17, 14, 24),
        taipei(2026, 7, 17, 13, 28),
        taipei(2026, 7, 16, 15, 36),
    ]


def test_real_feeds_match_feedparser_titles_and_links():
    for name in (EY, MOHW, CDC):
        body = real_feed_bytes(name)
        reference = feedparser.parse(body)

        feed = parse_feed(body)

        expected_titles = {
            ASCII_SPACES.sub(" ", e.title).strip() for e in reference.entries
        }
        assert {e.title for e in feed.entries} == expected_titles
        expected_links = {e.link for e in reference.entries}
        assert {e.link for e in feed.entries} == expected_links
