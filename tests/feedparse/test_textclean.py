"""Unit tests for govportal.lib.textclean."""

from govportal.lib.textclean import clean_text, html_to_text, strip_invisible


def test_strip_invisible_removes_zero_width_and_bidi():
    text = "a\u200bb\u200fc\ufeffd\u2060e\u202ef\u2066g\u2069h"

    assert strip_invisible(text) == "abcdefgh"


def test_clean_text_removes_controls_and_collapses_space():
    assert clean_text("  a\x00\x08b\x7f\x85 \t\n c  ") == "ab c"


def test_clean_text_keeps_nbsp_and_ideographic_space():
    assert clean_text("文化局\u00a0音樂會\u3000公告") == "文化局\u00a0音樂會\u3000公告"


def test_clean_text_caps_length():
    capped = clean_text("字" * 600, max_length=500)

    assert len(capped) == 500
    assert capped.endswith("…")


def test_html_to_text_drops_script_content():
    assert html_to_text("<b>x</b><script>alert(1)</script>") == "x"


def test_html_to_text_decodes_entities_once():
    assert html_to_text("A &amp; B &lt;tag&gt; &amp;amp;") == "A & B <tag> &amp;"


def test_html_to_text_removes_decoded_invisibles():
    assert html_to_text("java&#x200b;script &#x202e;x") == "javascript x"
