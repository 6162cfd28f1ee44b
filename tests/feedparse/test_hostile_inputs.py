"""Feed body cases FB-xx of tests/cases/security/HOSTILE-INPUTS.md section 3.3."""

import codecs
import contextlib
import http.server
import json
import socket
import threading
import time
import tracemalloc

import pytest
from lxml import etree

from govportal.lib.errors import SourceError
from govportal.lib.feedparse import parse_feed, xmlfeed
from govportal.lib.urlnorm import clean_link
from tests.feedparse.helpers import FEED_URL, rss, rss_item

FORBIDDEN_MARKUP = (
    "<script",
    "onerror",
    "onload",
    "onclick",
    "<iframe",
    "srcdoc",
    "<form",
    "formaction",
    "<button",
    "<svg",
    "<img",
    "<style",
    "style=",
    "javascript",
    "vbscript",
    "data:",
    "alert",
)


def assert_no_active_content(html: str) -> None:
    lowered = html.lower()
    for forbidden in FORBIDDEN_MARKUP:
        assert forbidden not in lowered, f"{forbidden!r} survived in {html!r}"


@pytest.fixture
def no_python_connections(monkeypatch):
    """Fail the test if Python code opens any socket connection."""
    attempts = []

    def reject_connection(self, address):
        attempts.append(address)
        raise AssertionError(f"the parser tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", reject_connection)
    monkeypatch.setattr(socket.socket, "connect_ex", reject_connection)
    return attempts


@pytest.fixture
def loopback_server():
    """Serve a DTD on 127.0.0.1 and count the requests that reach it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b'<!ENTITY x "fetched">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_fb01_xxe_file_entity_rejected():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b"<rss><channel><title>t</title><item><title>&x;</title></item></channel></rss>"
    )

    with pytest.raises(SourceError) as raised:
        parse_feed(body)

    assert raised.value.code == "dtd_rejected"
    assert "external entity 'x'" in raised.value.detail


def test_fb02_external_dtd_never_fetched(loopback_server, no_python_connections):
    # The hit counter counts requests from any HTTP client, including libxml2
    # where it is built with HTTP support. The socket patch catches Python code.
    base, hits = loopback_server
    external = f'<!DOCTYPE r SYSTEM "{base}/evil.dtd">'
    parameter = f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{base}/evil.dtd"> %p;]>'
    public = f'<!DOCTYPE rss PUBLIC "-//Evil//DTD//EN" "{base}/evil.dtd">'

    for doctype in (external, parameter, public):
        body = rss(rss_item(title="&x;"), doctype=doctype)
        with pytest.raises(SourceError) as raised:
            parse_feed(body)
        assert raised.value.code == "dtd_rejected"
        assert "DTD" in raised.value.detail

    assert hits == []
    assert no_python_connections == []


def test_fb02_lxml_parser_has_no_network(loopback_server):
    base, hits = loopback_server
    # Bypass the DOCTYPE policy: the parser options alone must stop the fetch.
    document = (
        f'<!DOCTYPE r SYSTEM "{base}/evil.dtd"><rss><channel><title>&x;</title>'
        "</channel></rss>"
    ).encode()

    for recover in (False, True):
        # Only the hit count matters, not whether lxml accepts the document.
        with contextlib.suppress(etree.Error):
            xmlfeed._build(document, 10, recover=recover)

    assert hits == []


def test_fb03_billion_laughs_rejected_fast_and_flat():
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)
    ]
    doctype = "<!DOCTYPE rss [" + "".join(entities) + "]>"
    body = rss(rss_item(title="&l9;", description="&l9;"), doctype=doctype)
    assert len(body) < 2048

    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(SourceError) as raised:
            parse_feed(body)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert raised.value.code == "dtd_rejected"
    assert elapsed < 1.0
    assert peak < 5 * 1024 * 1024


def test_fb03_many_plain_entity_references_capped():
    doctype = '<!DOCTYPE rss [<!ENTITY big "' + "x" * 1000 + '">]>'
    body = rss(rss_item(description="&big;" * 2000), doctype=doctype)

    with pytest.raises(SourceError) as raised:
        parse_feed(body)

    assert raised.value.code == "dtd_rejected"
    assert "entity expansion exceeds" in raised.value.detail


def test_fb05_script_handlers_frames_forms_removed():
    payloads = [
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;",
        '&lt;iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"&gt;&lt;/iframe&gt;',
        "&lt;form action=https://evil.example/&gt;&lt;button "
        'formaction="javascript:alert(1)"&gt;送出&lt;/button&gt;&lt;/form&gt;',
    ]
    items = "".join(
        rss_item(
            title="&lt;script&gt;alert(1)&lt;/script&gt;公告",
            link=f"https://www.example.gov.tw/n/{number}",
            description=f"&lt;p&gt;內文&lt;/p&gt;{payload}",
        )
        for number, payload in enumerate(payloads)
    )

    feed = parse_feed(rss(items))

    assert len(feed.entries) == len(payloads)
    for entry in feed.entries:
        assert entry.title == "公告"
        assert "<p>內文</p>" in entry.summary_html
        assert_no_active_content(entry.summary_html)


def test_fb05_html_title_becomes_text():
    body = rss(
        rss_item(title="&lt;b&gt;x&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
    )

    entry = parse_feed(body).entries[0]

    assert entry.title == "x"


SCHEME_TRICKS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "jav&amp;#x09;ascript:alert(1)",
    "jav&amp;#x61;script:alert(1)",
    "javascript&amp;colon;alert(1)",
    "java\u200bscript:alert(1)",
    "  javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
]


@pytest.mark.parametrize("href", SCHEME_TRICKS)
def test_fb06_scheme_tricks_removed_from_description(href):
    description = (
        f'&lt;a href="{href}"&gt;壞&lt;/a&gt;'
        '&lt;a href="https://www.example.gov.tw/ok"&gt;好&lt;/a&gt;'
        '&lt;a href="mailto:service@example.gov.tw"&gt;信&lt;/a&gt;'
    )

    entry = parse_feed(rss(rss_item(description=description))).entries[0]

    assert_no_active_content(entry.summary_html)
    assert 'href="https://www.example.gov.tw/ok"' in entry.summary_html
    assert 'href="mailto:service@example.gov.tw"' in entry.summary_html
    assert entry.summary_html.count("href=") == 2
    assert "壞" in entry.summary_html


@pytest.mark.parametrize("href", SCHEME_TRICKS)
def test_fb06_scheme_tricks_removed_from_item_link(href):
    entry = parse_feed(rss(rss_item(link=href))).entries[0]

    assert entry.link is None
    assert "link rejected" in entry.flags


def test_fb06_clean_link_rejects_decoded_tricks():
    for link in ("jav&#x09;ascript:x", "jav&#x61;script:x", "javascript&colon;x"):
        assert clean_link(link) is None


def test_fb08_style_attributes_and_blocks_removed():
    description = (
        '&lt;p style="position:fixed;top:0;left:0;width:100%;height:100%"&gt;覆蓋&lt;/p&gt;'
        '&lt;div style="background:url(javascript:alert(1))"&gt;背景&lt;/div&gt;'
        "&lt;style&gt;body{display:none}&lt;/style&gt;"
    )

    entry = parse_feed(rss(rss_item(description=description))).entries[0]

    assert entry.summary_html == "<p>覆蓋</p>背景"
    assert_no_active_content(entry.summary_html)


def test_fb09_item_links_only_absolute_http():
    items = "".join(
        [
            rss_item(title="腳本", link="javascript:alert(1)"),
            rss_item(title="本機", link="http://127.0.0.1/"),
            rss_item(title="相對", link="../../x"),
        ]
    )

    with_url = {e.title: e for e in parse_feed(rss(items), url=FEED_URL).entries}
    without_url = {e.title: e for e in parse_feed(rss(items)).entries}

    assert with_url["腳本"].link is None
    # A reader following it would reach their own machine, so it is dropped.
    assert with_url["本機"].link is None
    assert with_url["相對"].link == "https://www.example.gov.tw/x"
    assert without_url["相對"].link is None


def test_fb09_description_links_get_rel_noopener():
    description = '&lt;a href="../files/a.pdf"&gt;附件&lt;/a&gt;'

    entry = parse_feed(rss(rss_item(description=description)), url=FEED_URL).entries[0]

    assert entry.summary_html == (
        '<a href="https://www.example.gov.tw/files/a.pdf" '
        'rel="noopener noreferrer">附件</a>'
    )


def test_fb10_enclosures_never_fetched_or_kept(no_python_connections):
    extra = (
        '<enclosure url="http://169.254.169.254/latest/meta-data/" type="image/png"/>'
        '<media:content xmlns:media="http://search.yahoo.com/mrss/" '
        'url="file:///etc/passwd"/>'
        '<media:thumbnail xmlns:media="http://search.yahoo.com/mrss/" '
        'url="data:image/png;base64,AAAA"/>'
    )
    description = '&lt;img src="http://169.254.169.254/x.png"&gt;圖說'

    entry = parse_feed(rss(rss_item(description=description, extra=extra))).entries[0]

    assert no_python_connections == []
    fields = [entry.summary_html, entry.link or "", entry.title]
    assert all("169.254" not in value and "file:" not in value for value in fields)
    assert entry.summary_html == "圖說"


def test_fb11_million_items_capped_fast():
    item = "<item><title>t{0}</title><link>https://a.gov.tw/{0}</link></item>"
    items = "".join(item.format(number) for number in range(1_000_000))
    body = rss(items)

    started = time.perf_counter()
    feed = parse_feed(body, max_entries=200)
    elapsed = time.perf_counter() - started

    assert len(feed.entries) == 200
    assert feed.entries[0].title == "t0"
    assert "entries capped" in feed.flags
    assert elapsed < 10.0


def test_fb11_fifty_megabyte_title_capped():
    huge_title = "長" * (50 * 1024 * 1024 // 3)
    body = rss(rss_item(title=huge_title) + rss_item(title="正常"))

    started = time.perf_counter()
    feed = parse_feed(body)
    elapsed = time.perf_counter() - started

    assert feed.entries
    assert all(len(entry.title) <= 500 for entry in feed.entries)
    assert "title truncated" in feed.entries[0].flags
    assert elapsed < 10.0


def test_fb11_ten_thousand_categories_capped():
    categories = "".join(f"<category>分類{n}</category>" for n in range(10_000))

    entry = parse_feed(rss(rss_item(extra=categories))).entries[0]

    assert entry.categories == [f"分類{n}" for n in range(20)]


def test_fb12_big5_bytes_declared_utf8():
    body = rss(rss_item(title="颱風停班停課")).decode().encode("cp950")

    feed = parse_feed(body, charset="utf-8")

    assert feed.encoding == "cp950"
    assert feed.entries[0].title == "颱風停班停課"
    assert "charset mismatch" in feed.flags
    assert "encoding guessed" in feed.flags


def test_fb12_invalid_utf8_replaced():
    body = rss(rss_item(title="公告XX異動")).replace(b"XX", b"\xff\xfe")

    feed = parse_feed(body)

    assert feed.entries[0].title == "公告\ufffd\ufffd異動"
    assert "invalid bytes replaced" in feed.flags


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_fb12_utf16_with_bom(bom, codec):
    text = rss(
        rss_item(title="雙位元組"), prolog='<?xml version="1.0" encoding="utf-16"?>'
    )
    body = bom + text.decode().encode(codec)

    feed = parse_feed(body)

    assert feed.encoding == codec
    assert feed.entries[0].title == "雙位元組"


def test_fb12_embedded_nul_removed():
    body = rss(rss_item(title="空\x00字元", description="內\x00容"))

    feed = parse_feed(body)

    entry = feed.entries[0]
    assert entry.title == "空字元"
    assert entry.summary_html == "內容"
    assert "control characters removed" in feed.flags


def test_fb12_json_nul_and_surrogates_removed():
    body = json.dumps(
        [
            {
                "title": "空\u0000字元\ud800",
                "url": "https://a.gov.tw/1",
                "內容": "a\u0000b",
            }
        ]
    ).encode()

    entry = parse_feed(body).entries[0]

    assert entry.title == "空字元"
    assert entry.summary_html == "ab"
    entry.title.encode("utf-8")


@pytest.mark.parametrize(
    "pub_date",
    [
        "Sat, 01 Jan 0001 00:00:00 +0000",
        "Sun, 30 Feb 2024 09:00:00 +0800",
        "",
        "not a date at all",
        "Thu, 02 May 2024 09:00:00 +2500",
    ],
)
def test_fb13_invalid_dates_become_none(pub_date):
    entry = parse_feed(rss(rss_item(pub_date=pub_date))).entries[0]

    assert entry.published is None
    assert "unparseable date" in entry.flags


def test_fb13_year_9999_returned_as_is():
    entry = parse_feed(
        rss(rss_item(pub_date="Fri, 31 Dec 9999 23:59:59 +0800"))
    ).entries[0]

    assert entry.published is not None
    assert entry.published.year == 9999
    assert entry.flags == []


def test_fb15_json_feed_goes_through_same_sanitizer():
    payloads = [
        "<img src=x onerror=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        '<form action="https://evil.example/"><button formaction="javascript:alert(1)">'
        "b</button></form>",
        '<a href="jav&#x09;ascript:alert(1)">壞</a>',
        '<a href="java\u200bscript:alert(1)">壞</a>',
        '<p style="position:fixed">覆蓋</p><style>p{}</style>',
    ]
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON Feed",
        "items": [
            {
                "id": str(number),
                "url": f"https://www.example.gov.tw/j/{number}",
                "title": "<script>alert(1)</script>JSON 公告",
                "content_html": f"<p>內文</p>{payload}",
                "date_published": "2024-05-02T09:00:00+08:00",
            }
            for number, payload in enumerate(payloads)
        ],
    }

    feed = parse_feed(
        json.dumps(document).encode(), content_type="application/feed+json"
    )

    assert feed.kind == "json"
    assert len(feed.entries) == len(payloads)
    for entry in feed.entries:
        assert entry.title == "JSON 公告"
        assert "<p>內文</p>" in entry.summary_html
        assert_no_active_content(entry.summary_html)
