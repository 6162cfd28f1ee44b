"""Unit tests for govportal.lib.urlnorm."""

import pytest

from govportal.lib.urlnorm import clean_href, clean_link, story_key


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "https://www.example.gov.tw/News_Content.aspx?n=12&sms=34&s=3101"
            "&utm_source=rss&utm_medium=feed&utm_campaign=news&fbclid=IwAR0abc",
            "https://www.example.gov.tw/News_Content.aspx?n=12&sms=34&s=3101",
        ),
        (
            "https://a.gov.tw/x?gclid=1&n=2&yclid=3&mc_cid=4&mc_eid=5&_ga=6&igshid=7&s=8",
            "https://a.gov.tw/x?n=2&s=8",
        ),
        ("https://a.gov.tw/x?UTM_SOURCE=1&n=2", "https://a.gov.tw/x?n=2"),
        ("https://a.gov.tw/x?%75tm_source=1&n=2", "https://a.gov.tw/x?n=2"),
        (
            "HTTPS://WWW.Example.GOV.tw:443/Path?A=1",
            "https://www.example.gov.tw/Path?A=1",
        ),
        ("http://a.gov.tw:80/", "http://a.gov.tw/"),
        ("http://a.gov.tw:8080/x", "http://a.gov.tw:8080/x"),
        ("https://a.gov.tw", "https://a.gov.tw/"),
        ("https://a.gov.tw/x#section", "https://a.gov.tw/x#section"),
        ("https://a.gov.tw/?a=1&amp;amp;b=2", "https://a.gov.tw/?a=1&b=2"),
        ("https://a.gov.tw/?a=1&#38;b=2", "https://a.gov.tw/?a=1&b=2"),
        ("  https://a.gov.tw/\u200bx  ", "https://a.gov.tw/x"),
        ("https://a.gov.tw/新聞 1", "https://a.gov.tw/%E6%96%B0%E8%81%9E%201"),
        ("https://例子.tw/", "https://xn--fsqu00a.tw/"),
        ("http://61.57.41.133/", "http://61.57.41.133/"),
    ],
)
def test_clean_link_valid(link, expected):
    assert clean_link(link) == expected


@pytest.mark.parametrize(
    "link",
    [
        None,
        "",
        "   ",
        "javascript:alert(1)",
        "mailto:a@b.tw",
        "data:text/html,x",
        "file:///etc/passwd",
        "ftp://a.gov.tw/x",
        "https://user:pass@a.gov.tw/",
        "https://www.gov.tw@evil.example/",
        "https://a.gov.tw:99999/",
        "https:///nohost",
        "relative/path",
        "//a.gov.tw/protocol-relative",
        "https://a.gov.tw/" + "x" * 2000,
    ],
)
def test_clean_link_rejected(link):
    assert clean_link(link) is None


def test_clean_link_resolves_relative():
    base = "https://www.example.gov.tw/rss/news.xml"

    assert clean_link("../../x", base) == "https://www.example.gov.tw/x"
    assert clean_link("//cdn.gov.tw/a", base) == "https://cdn.gov.tw/a"
    assert clean_link("?n=1", base) == "https://www.example.gov.tw/rss/news.xml?n=1"


def test_story_key_ignores_fragment_case_and_tracking():
    keys = {
        story_key("https://WWW.example.gov.tw:443/a?n=1&utm_source=x#top"),
        story_key("https://www.example.gov.tw/a?n=1"),
        story_key("https://www.example.gov.tw/a?n=1&fbclid=abc"),
    }

    assert keys == {"https://www.example.gov.tw/a?n=1"}


def test_story_key_keeps_agency_parameters_in_order():
    key = story_key("https://a.gov.tw/News.aspx?n=12&sms=34&s=5&utm_medium=rss")

    assert key == "https://a.gov.tw/News.aspx?n=12&sms=34&s=5"
    assert story_key("https://a.gov.tw/?s=5&n=12") != key


def test_story_key_normalizes_percent_escapes():
    assert story_key("https://a.gov.tw/%e6%96%b0") == story_key("https://a.gov.tw/新")


def test_story_key_of_unusable_link_is_the_stripped_text():
    assert story_key(" javascript:x ") == "javascript:x"


def test_clean_href_keeps_mailto_and_tracking():
    assert clean_href("mailto:a@b.tw", None, frozenset({"mailto"})) == "mailto:a@b.tw"
    assert (
        clean_href("https://a.tw/?utm_source=x", None) == "https://a.tw/?utm_source=x"
    )
    assert clean_href("/x", "https://a.tw/y/z") == "https://a.tw/x"
    assert clean_href("/x", None) is None


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/news",
        "http://[::1]/x",
        "http://localhost/x",
        "https://intranet.localhost/x",
    ],
)
def test_link_to_local_host_rejected(link):
    assert clean_link(link) is None


def test_link_to_public_address_kept():
    link = "http://61.57.41.133/info.aspx?tid=1"
    assert clean_link(link) == link
