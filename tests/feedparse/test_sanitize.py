"""Unit tests for govportal.lib.sanitize."""

from lxml import etree

from govportal.lib.sanitize import cut_html, sanitize_html

BASE = "https://www.example.gov.tw/News_Content.aspx?n=1"


def test_allowlist_keeps_structure():
    html = (
        "<h3>標題</h3><p>段落<br><strong>粗</strong><em>斜</em></p>"
        "<ul><li>一</li></ul><ol><li>二</li></ol><blockquote>引</blockquote>"
        '<table><tr><td colspan="2">格</td></tr></table>'
    )

    cleaned, truncated = sanitize_html(html)

    assert truncated is False
    for kept in ("<h3>", "<p>", "<br>", "<strong>", "<em>", "<ul>", "<ol>", "<li>"):
        assert kept in cleaned
    assert "<blockquote>" in cleaned
    assert '<td colspan="2">' in cleaned


def test_unknown_tags_unwrapped_and_attributes_dropped():
    cleaned, _ = sanitize_html(
        '<div class="x" id="y"><span lang="en" style="color:red">文字</span></div>'
        '<h1 onclick="x()">大標</h1>'
    )

    assert cleaned == "文字大標"


def test_images_and_active_content_removed():
    cleaned, _ = sanitize_html(
        '<p>前<img src="https://a.gov.tw/x.png" alt="圖">後</p>'
        "<script>alert(1)</script><noscript>ns</noscript><template>t</template>"
        '<object data="x"></object><embed src="x"><textarea>ta</textarea>'
        '<svg onload="alert(1)"><circle/></svg><math><mi>x</mi></math>'
    )

    assert cleaned.startswith("<p>前後</p>")
    lowered = cleaned.lower()
    for gone in ("<img", "<script", "alert", "<svg", "<math", "<object", "<embed"):
        assert gone not in lowered


def test_links_absolute_and_rel_added():
    cleaned, _ = sanitize_html(
        '<a href="../a.pdf">相對</a> <a href="https://x.gov.tw/">絕對</a>', BASE
    )

    assert cleaned == (
        '<a href="https://www.example.gov.tw/a.pdf" rel="noopener noreferrer">相對</a> '
        '<a href="https://x.gov.tw/" rel="noopener noreferrer">絕對</a>'
    )


def test_unresolvable_relative_link_unwrapped():
    cleaned, _ = sanitize_html('<a href="../a.pdf">相對</a>', None)

    assert cleaned == "相對"


def test_escaped_and_padded_cdata_unwrapped():
    assert sanitize_html("  <![CDATA[ <p>內容</p> ]]>  ")[0] == "<p>內容</p>"
    assert sanitize_html("<![CDATA[內容")[0] == "內容"


def test_empty_markup_becomes_empty():
    assert sanitize_html("<p>&nbsp;</p><br>")[0] == ""
    assert sanitize_html("  ")[0] == ""
    assert sanitize_html(None)[0] == ""


def test_plain_text_escaped():
    assert sanitize_html("a > b")[0] == "a &gt; b"


def test_long_description_cut_between_tags():
    html = (
        "<p>"
        + "字" * 30
        + "</p>"
        + '<p><a href="https://a.tw/">'
        + "長" * 50
        + "</a></p>"
    )

    cleaned, truncated = sanitize_html(html, max_text_chars=40)

    assert truncated is True
    assert cleaned.endswith("…</a></p>")
    etree.fromstring(f"<div>{cleaned}</div>")
    assert cleaned.count("長") == 10


def test_cut_never_splits_entity_or_tag():
    markup = "a" * 9 + "&amp;" + "b" * 20

    cut, truncated = cut_html(markup, 11)

    assert truncated is True
    assert cut == "a" * 9 + "…"


def test_cut_bounded_for_tag_flood():
    markup = "<b></b>" * 1_000_000

    cut, truncated = cut_html(markup, 20_000)

    assert truncated is True
    assert len(cut) <= 200_001


def test_empty_elements_only_become_empty():
    assert sanitize_html("<p><b> </b>&nbsp;</p>" * 100)[0] == ""
    assert sanitize_html("<p>&nbsp;&amp;</p>")[0] == "<p>&nbsp;&amp;</p>"
