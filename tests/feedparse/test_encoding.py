"""Unit tests for the body decoder."""

import codecs

import pytest

from govportal.lib.feedparse import parse_feed
from govportal.lib.feedparse.encoding import decode_body, normalize_charset

BIG5_TEXT = "恒春鎮公所公告"


def prolog(encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?><rss/>'


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("big5", "cp950"),
        ("BIG5", "cp950"),
        ("big5-hkscs", "big5hkscs"),
        ("x-x-big5", "cp950"),
        ('"utf-8"', "utf-8"),
        ("UTF8", "utf-8"),
        ("iso-8859-1", "cp1252"),
        ("gb2312", "gb18030"),
        ("utf-7", None),
        ("base64", None),
        ("no-such-charset", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_charset(label, codec):
    assert normalize_charset(label) == codec


def test_big5_label_decodes_as_cp950():
    body = (prolog("big5") + BIG5_TEXT).encode("cp950")
    with pytest.raises(UnicodeDecodeError):
        body.decode("big5")

    decoded = decode_body(body)

    assert decoded.encoding == "cp950"
    assert BIG5_TEXT in decoded.text
    assert decoded.flags == []


def test_header_wins_over_prolog_when_it_decodes():
    body = (prolog("utf-8") + "公告").encode("cp950")

    decoded = decode_body(body, "big5")

    assert decoded.encoding == "cp950"
    assert "公告" in decoded.text
    assert decoded.flags == []


def test_prolog_used_when_header_fails():
    body = (prolog("big5") + BIG5_TEXT).encode("cp950")

    decoded = decode_body(body, "utf-8")

    assert decoded.encoding == "cp950"
    assert decoded.flags == ["charset mismatch"]


def test_undeclared_utf8_is_not_a_guess():
    decoded = decode_body("<rss>公告</rss>".encode())

    assert decoded.encoding == "utf-8"
    assert decoded.flags == []


def test_undeclared_cp950_is_guessed():
    decoded = decode_body(("<rss>" + BIG5_TEXT + "</rss>").encode("cp950"))

    assert decoded.encoding == "cp950"
    assert decoded.flags == ["encoding guessed"]


def test_bom_wins_over_header():
    decoded = decode_body(codecs.BOM_UTF8 + "<rss>公告</rss>".encode(), "big5")

    assert decoded.encoding == "utf-8"
    assert decoded.text == "<rss>公告</rss>"


def test_utf16_without_bom_sniffed():
    decoded = decode_body('<?xml version="1.0"?><rss>公告</rss>'.encode("utf-16-le"))

    assert decoded.encoding == "utf-16-le"
    assert "公告" in decoded.text


def test_utf16_label_on_ascii_body_ignored():
    decoded = decode_body(prolog("utf-16").encode("ascii"))

    assert decoded.encoding == "utf-8"
    assert "charset mismatch" in decoded.flags


def test_unknown_label_flagged():
    decoded = decode_body(b"<rss/>", "klingon")

    assert decoded.encoding == "utf-8"
    assert decoded.flags == ["unknown charset"]


def test_big5_hkscs_keeps_hong_kong_characters():
    title = "香港字 𨋢 測試"
    body = (
        '<?xml version="1.0" encoding="big5-hkscs"?><rss version="2.0"><channel>'
        f"<title>t</title><item><title>{title}</title>"
        "<link>https://a.gov.tw/1</link></item></channel></rss>"
    ).encode("big5hkscs")
    assert parse_feed(body).entries[0].title == title
