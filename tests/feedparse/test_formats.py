"""Format coverage of parse_feed: RSS flavours, Atom, JSON, errors and ordering."""

import json

import pytest

from govportal.lib.errors import SourceError
from govportal.lib.feedparse import parse_feed
from govportal.lib.sanitize import MAX_SUMMARY_SOURCE
from tests.feedparse.helpers import FEED_URL, rss, rss_item, taipei

RSS1 = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://a.gov.tw/"><title>RDF 頻道</title>
<link>https://a.gov.tw/</link><description>d</description></channel>
<item rdf:about="https://a.gov.tw/1"><title>RDF 項目</title><link>https://a.gov.tw/1</link>
<description>說明</description><dc:date>2024-05-02T09:00:00+08:00</dc:date>
<dc:creator>2.16.886.101.20003</dc:creator></item></rdf:RDF>"""

RSS090 = """<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>舊</title>
<link>https://a.gov.tw/</link></channel>
<item><title>零點九零</title><link>https://a.gov.tw/2</link></item></rdf:RDF>"""

RSS091 = """<rss version="0.91"><channel><title>t</title><link>https://a.gov.tw/</link>
<item><title>零點九一</title><link>/news/3</link><description>x &amp; y</description>
</item></channel></rss>"""

ATOM = """<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://b.gov.tw/base/">
<title type="html">&lt;b&gt;Atom&lt;/b&gt; 頻道</title><link href="/"/>
<entry><title type="html">&lt;b&gt;粗體&lt;/b&gt;標題</title>
<link rel="alternate" type="text/html" href="item/5"/><id>tag:b.gov.tw,2024:5</id>
<updated>2024-05-03T01:00:00Z</updated><published>2024-05-02T01:00:00Z</published>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>內容
<a href="rel/x">連結</a></p></div></content>
<author><name>新聞處</name></author><category term="公告"/></entry>
<entry><title>a &lt; b 純文字</title><link href="https://b.gov.tw/6"/><id>urn:6</id>
<updated>2024-05-01T01:00:00Z</updated><summary>1 &lt; 2</summary></entry>
</feed>"""


def test_rss1_rdf():
    feed = parse_feed(RSS1.encode())

    assert feed.kind == "rss1"
    assert feed.title == "RDF 頻道"
    entry = feed.entries[0]
    assert entry.title == "RDF 項目"
    assert entry.published == taipei(2024, 5, 2, 9, 0)
    assert entry.author_oid == "2.16.886.101.20003"


def test_rss090_rdf():
    feed = parse_feed(RSS090.encode())

    assert feed.kind == "rss09"
    assert [e.title for e in feed.entries] == ["零點九零"]


def test_rss091_relative_link_resolved():
    feed = parse_feed(RSS091.encode(), url="https://a.gov.tw/rss.xml")

    assert feed.kind == "rss09"
    entry = feed.entries[0]
    assert entry.link == "https://a.gov.tw/news/3"
    assert entry.summary_html == "x &amp; y"


def test_atom_types_and_xml_base():
    feed = parse_feed(ATOM.encode())

    assert feed.kind == "atom"
    assert feed.title == "Atom 頻道"
    assert feed.link == "https://b.gov.tw/"
    first, second = feed.entries
    assert first.title == "粗體標題"
    assert first.link == "https://b.gov.tw/base/item/5"
    assert first.published == taipei(2024, 5, 2, 9, 0)
    assert first.author == "新聞處"
    assert first.categories == ["公告"]
    assert first.guid == "tag:b.gov.tw,2024:5"
    assert 'href="https://b.gov.tw/base/rel/x"' in first.summary_html
    # type="text" is plain text by RFC 4287, so "<" is kept literally.
    assert second.title == "a < b 純文字"
    assert second.summary_html == "1 &lt; 2"


def test_rss_date_fallbacks():
    items = "".join(
        [
            rss_item(title="dc", pub_date="", extra="").replace(
                "<pubDate></pubDate>",
                '<dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">'
                "2024-05-01T10:00:00+08:00</dc:date>",
            ),
            rss_item(title="a10", pub_date="").replace(
                "<pubDate></pubDate>",
                '<a10:updated xmlns:a10="http://www.w3.org/2005/Atom">'
                "2024-04-30T10:00:00+08:00</a10:updated>",
            ),
        ]
    )

    entries = {e.title: e for e in parse_feed(rss(items)).entries}

    assert entries["dc"].published == taipei(2024, 5, 1, 10, 0)
    assert entries["a10"].published == taipei(2024, 4, 30, 10, 0)
    assert entries["dc"].flags == []


def test_unparseable_pubdate_falls_back_to_dc_date():
    extra = (
        '<dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "2024-05-01T10:00:00+08:00</dc:date>"
    )

    entry = parse_feed(rss(rss_item(pub_date="someday", extra=extra))).entries[0]

    assert entry.published == taipei(2024, 5, 1, 10, 0)
    assert entry.flags == ["unparseable date"]


def test_content_encoded_used_when_description_empty():
    extra = (
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<![CDATA[<p>全文</p>]]></content:encoded>"
    )

    entry = parse_feed(rss(rss_item(description="", extra=extra))).entries[0]

    assert entry.summary_html == "<p>全文</p>"


def test_title_derived_from_description_when_missing():
    entry = parse_feed(rss(rss_item(title="", description="只有說明的項目"))).entries[0]

    assert entry.title == "只有說明的項目"
    assert "title derived from description" in entry.flags


def test_item_without_title_or_description_skipped():
    items = rss_item(title="", description="") + rss_item(title="有標題")

    feed = parse_feed(rss(items))

    assert [e.title for e in feed.entries] == ["有標題"]
    assert "entries without title skipped" in feed.flags


def test_guid_permalink_used_as_link():
    item = (
        "<item><title>只有 guid</title>"
        "<guid>https://www.example.gov.tw/p/9</guid></item>"
    )

    entry = parse_feed(rss(item)).entries[0]

    assert entry.link == "https://www.example.gov.tw/p/9"
    assert entry.guid == "https://www.example.gov.tw/p/9"


def test_entries_sorted_newest_first_undated_last():
    items = "".join(
        [
            rss_item(title="無日期一", pub_date=""),
            rss_item(title="舊", pub_date="2024-04-01 09:00"),
            rss_item(title="新", pub_date="2024-05-01 09:00"),
            rss_item(title="無日期二", pub_date=""),
        ]
    )

    feed = parse_feed(rss(items))

    assert [e.title for e in feed.entries] == ["新", "舊", "無日期一", "無日期二"]


def test_max_entries_keeps_newest():
    items = "".join(
        rss_item(title=f"第{day}天", pub_date=f"2024-05-{day:02d} 09:00")
        for day in range(1, 11)
    )

    feed = parse_feed(rss(items), max_entries=3)

    assert [e.title for e in feed.entries] == ["第10天", "第9天", "第8天"]
    assert "entries capped" in feed.flags


def test_max_entries_must_be_positive():
    with pytest.raises(ValueError, match="max_entries"):
        parse_feed(rss(rss_item()), max_entries=0)


def test_author_oid_from_dc_publisher():
    extra = (
        '<dc:publisher xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "2.16.886.101.20003.20005</dc:publisher>"
        "<author>教育部</author>"
    )

    entry = parse_feed(rss(rss_item(extra=extra))).entries[0]

    assert entry.author == "教育部"
    assert entry.author_oid == "2.16.886.101.20003.20005"


def test_undefined_html_entity_repaired():
    entry = parse_feed(rss(rss_item(title="文化局&nbsp;音樂會&hellip;"))).entries[0]

    assert entry.title == "文化局\u00a0音樂會…"


def test_recovered_malformed_xml_flagged():
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>\xe5\xa5\xbd</title><link>https://a.gov.tw/1</link></item>"
        b"<item><title>x</title></itemx></channel></rss>"
    )

    feed = parse_feed(body)

    assert "recovered malformed XML" in feed.flags
    assert feed.entries[0].title == "好"


def test_malformed_without_items_reports_line():
    body = b'<rss version="2.0">\n<channel>\n<title>t</title>\n</chanel>\n</rss>'

    with pytest.raises(SourceError) as raised:
        parse_feed(body)

    assert raised.value.code == "malformed"
    assert raised.value.params["line"] == 4


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>",
        b"\n\n<html><head><title>Error</title></head></html>",
        b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" '
        b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html/>',
    ],
)
def test_html_page_rejected(body):
    with pytest.raises(SourceError) as raised:
        parse_feed(body, content_type="text/html")

    assert raised.value.code == "not_a_feed_html"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"Service Unavailable",
        b'<?xml version="1.0"?><error><code>500</code></error>',
        b'{"status": "ok"}',
        b'<feed xmlns="urn:other"><entry/></feed>',
    ],
)
def test_not_a_feed_rejected(body):
    with pytest.raises(SourceError) as raised:
        parse_feed(body)

    assert raised.value.code == "not_a_feed"


def test_invalid_json_is_malformed():
    with pytest.raises(SourceError) as raised:
        parse_feed(b'[{"title": "x",\n "url": }]')

    assert raised.value.code == "malformed"
    assert raised.value.params["line"] == 2


def test_deeply_nested_json_is_malformed():
    with pytest.raises(SourceError) as raised:
        parse_feed(b"[" * 100_000 + b"]" * 100_000)

    assert raised.value.code in ("malformed", "not_a_feed")


def test_json_export_chinese_keys_in_wrapper():
    document = {
        "success": True,
        "result": {
            "records": [
                {
                    "標題": "中文鍵",
                    "連結": "/n/1",
                    "發布日期": "113/05/02 09:15",
                    "內容": "<p>內容</p>",
                    "分類": "公告",
                    "發布單位": "民政處",
                }
            ]
        },
    }

    feed = parse_feed(json.dumps(document).encode(), url="https://a.gov.tw/api/news")

    assert feed.kind == "json"
    entry = feed.entries[0]
    assert entry.title == "中文鍵"
    assert entry.link == "https://a.gov.tw/n/1"
    assert entry.published == taipei(2024, 5, 2, 9, 15)
    assert entry.summary_html == "<p>內容</p>"
    assert entry.categories == ["公告"]
    assert entry.author == "民政處"


def test_json_export_mixed_keys():
    document = [
        {
            "title": "混合鍵",
            "內容": "內文",
            "日期時間": "2024-05-02 10:00",
            "分類": ["a", "b"],
            "發布單位": "財政部",
            "url": "https://c.gov.tw/9",
        },
        {
            "標題": "另一種",
            "連結": "https://c.gov.tw/10",
            "發布日期": "2024/5/1",
            "內容": "x",
        },
        {"Title": "大寫鍵", "URL": "https://c.gov.tw/11", "PublishDate": 1714611600},
    ]

    entries = {e.title: e for e in parse_feed(json.dumps(document).encode()).entries}

    assert entries["混合鍵"].published == taipei(2024, 5, 2, 10, 0)
    assert entries["混合鍵"].categories == ["a", "b"]
    assert entries["混合鍵"].author == "財政部"
    assert entries["另一種"].link == "https://c.gov.tw/10"
    assert entries["另一種"].published == taipei(2024, 5, 1, 0, 0)
    assert entries["大寫鍵"].published == taipei(2024, 5, 2, 9, 0)


def test_json_feed_fields():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JF",
        "home_page_url": "https://d.gov.tw/",
        "items": [
            {
                "id": 1,
                "url": "https://d.gov.tw/1",
                "title": "JSON 標題",
                "content_text": "純文字 <b>不是標籤</b>",
                "date_published": "2024-05-02T09:00:00+08:00",
                "authors": [{"name": "作者"}],
                "tags": ["t1", "t2"],
            }
        ],
    }

    feed = parse_feed(json.dumps(document).encode(), url="https://d.gov.tw/feed.json")

    assert feed.kind == "json"
    assert feed.title == "JF"
    assert feed.link == "https://d.gov.tw/"
    entry = feed.entries[0]
    assert entry.guid == "1"
    assert entry.author == "作者"
    assert entry.categories == ["t1", "t2"]
    assert entry.summary_html == "純文字 &lt;b&gt;不是標籤&lt;/b&gt;"


def test_json_with_xml_content_type_still_parsed():
    body = json.dumps([{"title": "標籤錯誤", "url": "https://e.gov.tw/1"}]).encode()

    feed = parse_feed(body, content_type="text/xml")

    assert feed.kind == "json"


def test_xml_with_json_content_type_still_parsed():
    feed = parse_feed(rss(rss_item()), content_type="application/json")

    assert feed.kind == "rss2"


def test_junk_before_xml_declaration_removed():
    body = b"<br />\n<b>Warning</b>: something\n" + rss(rss_item(title="PHP 警告之後"))

    feed = parse_feed(body)

    assert feed.entries[0].title == "PHP 警告之後"
    assert "repaired markup" in feed.flags


def test_feed_url_resolves_description_links():
    description = '&lt;a href="/files/1.pdf"&gt;附件&lt;/a&gt;'

    entry = parse_feed(
        rss(rss_item(link="", description=description)), url=FEED_URL
    ).entries[0]

    assert 'href="https://www.example.gov.tw/files/1.pdf"' in entry.summary_html


def test_oversized_fields_dropped_or_capped():
    extra = "<guid>" + "g" * 600 + "</guid>"
    item = rss_item(
        title="超長欄位",
        link="https://a.gov.tw/" + "x" * 9000,
        pub_date="Thu, 02 May 2024 09:00:00 +0800" + " " * 300,
        extra=extra,
    )

    entry = parse_feed(rss(item)).entries[0]

    assert entry.guid is None
    assert entry.link is None
    assert entry.published is None
    assert "guid too long" in entry.flags
    assert "link rejected" in entry.flags
    assert "unparseable date" in entry.flags


def test_huge_markup_description_bounded():
    description = "&lt;b&gt;&lt;/b&gt;" * 200_000 + "尾"

    entry = parse_feed(rss(rss_item(description=description))).entries[0]

    assert len(entry.summary_html) <= MAX_SUMMARY_SOURCE + 10
    assert "尾" not in entry.summary_html
    assert "description truncated" in entry.flags


def test_rss091_netscape_doctype_accepted_without_loading():
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>t</title><link>https://a.gov.tw/</link>'
        b"<item><title>\xe8\x88\x8a\xe5\xbc\x8f\xe6\x96\xb0\xe8\x81\x9e</title>"
        b"<link>https://a.gov.tw/1</link></item></channel></rss>"
    )
    parsed = parse_feed(body)
    assert [e.title for e in parsed.entries] == ["舊式新聞"]


def test_other_public_doctype_still_rejected():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Evil//DTD//EN" '
        b'"http://127.0.0.1:1/evil.dtd"><rss version="0.91"><channel/></rss>'
    )
    with pytest.raises(SourceError) as raised:
        parse_feed(body)
    assert raised.value.code == "dtd_rejected"
