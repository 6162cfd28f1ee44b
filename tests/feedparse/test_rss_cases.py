"""The parsing cases of tests/cases/rss/INDEX.md, each with its expected result.

Expected datetimes are written at +08:00 as in INDEX.md. The parser has no
clock, so cases about "now" (11, 17) check that the result does not depend
on the time of the fetch.
"""

import re
import time
from datetime import UTC, datetime

import pytest
import time_machine
from lxml import etree

from govportal.lib.errors import SourceError
from govportal.lib.feedparse import parse_feed
from govportal.lib.sanitize import MAX_SUMMARY_TEXT
from govportal.lib.urlnorm import story_key
from tests.feedparse.helpers import (
    FEED_URL,
    case_bytes,
    http_response,
    item_link,
    taipei,
)

# The reference clock of INDEX.md.
REFERENCE_NOW = datetime(2024, 5, 3, 4, 0, tzinfo=UTC)


def parse_case(name: str):
    if name.endswith(".http.txt"):
        response = http_response(name)
        return parse_feed(
            response.body,
            content_type=response.content_type,
            charset=response.charset,
            url=FEED_URL,
        )
    return parse_feed(case_bytes(name), url=FEED_URL)


def by_title(feed):
    return {entry.title: entry for entry in feed.entries}


def test_case_00_baseline():
    feed = parse_case("00-baseline.xml")

    assert feed.kind == "rss2"
    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == "範例縣政府 新聞稿：本週施政重點"
    assert entry.published == taipei(2024, 5, 2, 9, 0)
    assert entry.link == item_link(9001)
    assert entry.guid == "egov-9001"
    assert feed.flags == []


def assert_case_01_items(feed):
    entries = by_title(feed)
    assert len(feed.entries) == 2
    assert entries["範例縣政府發布颱風停班停課資訊"].published == taipei(
        2024, 5, 1, 9, 0
    )
    assert entries["本府113年度預算說明會"].published == taipei(2024, 5, 2, 10, 30)
    assert feed.encoding == "cp950"
    assert feed.flags == []


def test_case_01_big5_declared_in_prolog():
    feed = parse_case("01-big5-declared.xml")

    assert_case_01_items(feed)
    assert feed.title == "範例縣政府 最新消息"
    assert entries_text_has_no_replacement(feed)


def test_case_03_big5_only_in_http_header():
    response = http_response("03-big5-http-header-only.http.txt")
    feed = parse_case("03-big5-http-header-only.http.txt")

    assert len(feed.entries) == 1
    assert feed.entries[0].title == "衛生局提醒民眾注意登革熱防治"
    assert feed.entries[0].published == taipei(2024, 5, 2, 15, 0)
    assert feed.encoding == "cp950"
    assert response.charset == "Big5"


def test_case_05_utf8_bom():
    feed = parse_case("05-utf8-bom.xml")

    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == "環境部公告空氣品質監測結果"
    assert entry.published == taipei(2024, 5, 2, 8, 0)
    texts = [feed.title, entry.title, entry.summary_html, entry.link or ""]
    assert all("\ufeff" not in text for text in texts)


def test_case_06_header_big5_contradicts_utf8_body():
    response = http_response("06-header-big5-body-utf8.http.txt")
    feed = parse_case("06-header-big5-body-utf8.http.txt")

    assert len(feed.entries) == 1
    assert feed.entries[0].title == "環境部公告空氣品質監測結果"
    assert feed.entries[0].published == taipei(2024, 5, 2, 8, 30)
    assert "charset mismatch" in feed.flags
    assert feed.encoding == "utf-8"
    assert response.charset == "big5"
    assert entries_text_has_no_replacement(feed)


def test_case_07_big5_header_and_prolog_decoded_once():
    response = http_response("07-decode-twice-trap.http.txt")
    feed = parse_case("07-decode-twice-trap.http.txt")

    assert_case_01_items(feed)
    assert response.charset == "big5"
    assert response.body == case_bytes("01-big5-declared.xml")


def test_case_09_invalid_bytes_in_utf8():
    feed = parse_case("09-utf8-invalid-bytes.xml")

    titles = [entry.title for entry in feed.entries]
    assert sorted(titles) == sorted(
        ["衛生局公告\ufffd\ufffd疫苗接種站異動", "本府公告五月份資源回收日程"]
    )
    assert "invalid bytes replaced" in feed.flags
    intact = by_title(feed)["本府公告五月份資源回收日程"]
    assert intact.summary_html == "請依排定日期分類回收。"
    for entry in feed.entries:
        entry.title.encode("utf-8")
        entry.summary_html.encode("utf-8")


def test_case_11_missing_pubdate_is_stable():
    with time_machine.travel(REFERENCE_NOW, tick=False):
        first = parse_case("11-missing-pubdate.xml")
    with time_machine.travel(datetime(2024, 5, 10, tzinfo=UTC), tick=False):
        later = parse_case("11-missing-pubdate.xml")

    assert len(first.entries) == 2
    assert [e.published for e in first.entries] == [None, None]
    # Without a date the caller uses first-seen time, so the parser must give
    # the same identity on every fetch and never invent a date.
    assert first.entries == later.entries
    assert [e.guid for e in first.entries] == ["egov-1101", "egov-1102"]


def test_case_12_slash_date_without_zone():
    entries = by_title(parse_case("12-slash-date-no-zone.xml"))

    assert entries["地政處公告地價調整"].published == taipei(2024, 5, 2, 14, 30)
    assert entries["工務處道路施工通知"].published == taipei(2024, 4, 29, 0, 0)


def test_case_13_minguo_dates():
    entries = by_title(parse_case("13-roc-date-slash.xml"))

    assert entries["民政處受理113年度補助申請"].published == taipei(2024, 5, 2, 9, 15)
    assert entries["警察局交通安全宣導"].published == taipei(2024, 4, 30, 0, 0)


def test_case_15_atom_local_time_without_zone():
    feed = parse_case("15-local-time-no-zone-atom.xml")

    assert feed.kind == "atom"
    entry = feed.entries[0]
    assert entry.title == "水利處發布豪雨特報應變措施"
    assert entry.published == taipei(2024, 5, 2, 9, 0)
    assert entry.published == datetime(2024, 5, 2, 1, 0, tzinfo=UTC)
    assert entry.published_says_gmt is False


def test_case_15b_rss_local_time_without_zone():
    entry = parse_case("15b-local-time-no-zone-rss.xml").entries[0]

    assert entry.title == "觀光處端午連假交通疏導"
    assert entry.published == taipei(2024, 5, 2, 9, 0)


def test_case_17_future_dates_kept_as_given():
    with time_machine.travel(REFERENCE_NOW, tick=False):
        feed = parse_case("17-future-date.xml")

    entries = by_title(feed)
    assert len(entries) == 3
    # Clamping to first-seen time is the caller's job, because it needs the
    # clock. The parser keeps the original date for the "future date" flag.
    assert entries["主計處公告物價指數"].published == taipei(2099, 1, 1, 0, 0)
    assert entries["本府預告下週活動"].published == taipei(2024, 5, 13, 9, 0)
    assert entries["本府今日記者會"].published == taipei(2024, 5, 3, 10, 0)


def test_case_19_unescaped_ampersand_repaired():
    feed = parse_case("19-unescaped-ampersand.xml")

    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == "研商「產業&就業」座談會"
    assert entry.link == item_link(1901, sms=False)
    assert "repaired markup" in feed.flags
    assert entry.summary_html == "歡迎勞資雙方&amp;各界代表出席。"


def test_case_21_control_characters_removed():
    feed = parse_case("21-control-characters.xml")

    entry = feed.entries[0]
    assert entry.title == "衛生局防疫物資發放"
    assert entry.summary_html == "防疫物資發放時間調整為上午9時至下午5時。"
    assert "control characters removed" in feed.flags


def test_case_22_truncated_document_rejected():
    with pytest.raises(SourceError) as raised:
        parse_case("22-truncated.xml")

    assert raised.value.code == "truncated"
    assert raised.value.params["line"] > 0


def test_case_24_blank_lines_before_big5_prolog():
    feed = parse_case("24-blank-lines-before-prolog-big5.xml")

    assert feed.encoding == "cp950"
    entry = feed.entries[0]
    assert entry.title == "範例縣政府發布颱風停班停課資訊"
    assert entry.published == taipei(2024, 5, 1, 9, 0)


def test_case_26_escaped_cdata_description():
    entry = parse_case("26-escaped-cdata-description.xml").entries[0]

    assert entry.summary_html == "本次調查共回收1,068份有效問卷。"
    assert "CDATA" not in entry.summary_html


def test_case_28_missing_guid_keyed_by_link():
    first = parse_case("28-missing-guid.xml")
    again = parse_case("28-missing-guid.xml")

    assert len(first.entries) == 2
    assert [e.guid for e in first.entries] == [None, None]
    assert {e.link for e in first.entries} == {item_link(2801), item_link(2802)}
    assert first.entries == again.entries


def test_case_29_duplicate_guid_cleared():
    feed = parse_case("29-duplicate-guid.xml")

    assert len(feed.entries) == 3
    assert [e.guid for e in feed.entries] == [None, None, None]
    assert len({e.link for e in feed.entries}) == 3
    assert "duplicate guid" in feed.flags


def test_case_31_tracking_parameters_removed():
    feed = parse_case("31-tracking-params.xml")

    loans = [e for e in feed.entries if e.title == "經發處中小企業貸款說明"]
    assert [e.link for e in loans] == [item_link(3101), item_link(3101)]
    assert len({story_key(e.link) for e in loans}) == 1
    district = by_title(feed)["經發處商圈輔導計畫"]
    assert district.link == item_link(3102)
    assert all("utm_" not in e.link and "fbclid" not in e.link for e in feed.entries)


def test_case_33_same_item_in_two_feeds():
    feed_a = parse_case("33a-same-item-feed-a.xml")
    feed_b = parse_case("33b-same-item-feed-b.xml")

    assert len(feed_a.entries) == 2
    assert len(feed_b.entries) == 1
    shared_a = by_title(feed_a)["行政院核定前瞻基礎建設計畫"]
    shared_b = feed_b.entries[0]
    assert shared_a.link == "https://www.example.gov.tw/News_Content.aspx?n=1&s=3300"
    assert story_key(shared_a.link) == story_key(shared_b.link)
    assert shared_a.guid == shared_b.guid == "egov-3300"
    assert shared_a.published == taipei(2024, 5, 2, 17, 0)
    assert "計畫處公告施政計畫" in by_title(feed_a)


def test_case_34_markup_in_title_description_author_link():
    feed = parse_case("34-xss-title-description.xml")

    entry = feed.entries[0]
    assert entry.title == "資訊處系統維護公告"
    assert "維護時間：晚上10點" in entry.summary_html
    assert "詳情" in entry.summary_html
    summary = entry.summary_html.lower()
    for forbidden in ("<script", "onerror", "<iframe", "javascript:", "<img", "alert"):
        assert forbidden not in summary
    assert entry.link is None
    assert "link rejected" in entry.flags
    assert entry.author == "webmaster@example.gov.tw (資訊處)"
    assert feed.link == "https://www.example.gov.tw/"


def test_case_36_huge_description_truncated():
    started = time.perf_counter()
    feed = parse_case("36-huge-description.xml")
    elapsed = time.perf_counter() - started

    entries = by_title(feed)
    assert len(entries) == 2
    huge = entries["法制處公告自治條例修正草案全文"]
    assert "description truncated" in huge.flags
    assert len(huge.summary_html) <= MAX_SUMMARY_TEXT + 10
    assert huge.summary_html.endswith("…")
    huge.summary_html.encode("utf-8")
    # The result parses as a balanced fragment: no broken tag.
    etree.fromstring(f"<div>{huge.summary_html}</div>")
    assert entries["法制處公告法規諮詢時段"].summary_html == "每週三下午提供諮詢。"
    assert entries["法制處公告法規諮詢時段"].flags == []
    assert elapsed < 1.0


def test_case_47_billion_laughs_rejected_fast():
    started = time.perf_counter()
    with pytest.raises(SourceError) as raised:
        parse_case("47-entity-expansion-bomb.xml")
    elapsed = time.perf_counter() - started

    assert raised.value.code == "dtd_rejected"
    assert "DOCTYPE 'rss'" in raised.value.detail
    assert "references another entity" in raised.value.detail
    assert elapsed < 1.0


def test_case_48_external_entity_rejected():
    with pytest.raises(SourceError) as raised:
        parse_case("48-xxe-local-file.xml")

    assert raised.value.code == "dtd_rejected"
    assert "external entity 'leak'" in raised.value.detail
    assert "root:" not in str(raised.value)


def test_case_50_benign_internal_entity_expanded():
    feed = parse_case("50-benign-internal-entity.xml")

    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == "文化局\u00a0音樂會售票資訊"
    assert "300元" in entry.summary_html
    assert "internal DTD entities expanded" in feed.flags


def entries_text_has_no_replacement(feed) -> bool:
    texts = [feed.title] + [e.title + e.summary_html for e in feed.entries]
    return not any("\ufffd" in text or re.search("[\x80-\x9f]", text) for text in texts)
