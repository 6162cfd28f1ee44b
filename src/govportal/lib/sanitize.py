"""Sanitize agency HTML (feed descriptions) for display on the public site.

The allowlist is small: paragraphs, line breaks, lists, emphasis, quotes, minor
headings, simple tables and links. Scripts, styles, event handlers, forms,
frames, SVG, MathML and images are removed, images because the portal does not
hot-link agency servers. Links must be http, https or mailto after entity
decoding and removal of invisible characters. Relative links are resolved
against a base URL, and every link gets ``rel="noopener noreferrer"``.
"""

import html
import re
from contextvars import ContextVar

import nh3

from govportal.lib.textclean import remove_unwanted, unwrap_cdata
from govportal.lib.urlnorm import clean_href

# Cap on the visible text of a description, in characters. Longer bodies are
# cut before sanitizing, and the sanitizer closes the elements left open.
MAX_SUMMARY_TEXT = 20_000
# Cap on the HTML source scanned while counting text, so that a body made of
# millions of empty tags still costs bounded time.
MAX_SUMMARY_SOURCE = 10 * MAX_SUMMARY_TEXT

ALLOWED_TAGS = frozenset(
    {
        "a",
        "p",
        "br",
        "ul",
        "ol",
        "li",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "sub",
        "sup",
        "blockquote",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Removed together with their content, which is code or fallback markup.
_HIDDEN_CONTENT_TAGS = {
    "script",
    "style",
    "template",
    "noscript",
    "iframe",
    "noembed",
    "noframes",
    "object",
    "textarea",
    "select",
    "title",
}
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_EXTRA_HREF_SCHEMES = frozenset({"mailto"})
_MAX_SPAN = 100

_base_url: ContextVar[str | None] = ContextVar("sanitize_base_url", default=None)

_TAG_RE = re.compile(r"<[^<>]*>?")
# nh3 serializes attributes in a fixed form, so an anchor left without href
# always looks like this.
_HREFLESS_ANCHOR = '<a rel="noopener noreferrer">'
_HREFLESS_ANCHOR_RE = re.compile(_HREFLESS_ANCHOR + "(.*?)</a>", re.DOTALL)
# A visible character: at the start or after a tag, past any spaces and
# no-break spaces. The search stops at the first text, so it is cheap unless
# the fragment has none.
_VISIBLE_TEXT_RE = re.compile(r"(?:^|>)(?:\s|&nbsp;)*(?:[^<\s&]|&(?!nbsp;))")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return clean_href(value, _base_url.get(), _EXTRA_HREF_SCHEMES)
    if attribute in ("colspan", "rowspan"):
        value = value.strip()
        if value.isdigit() and 0 < int(value) <= _MAX_SPAN:
            return value
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=_HIDDEN_CONTENT_TAGS,
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer",
    url_schemes=set(_LINK_SCHEMES),
)


def sanitize_html(
    markup: str | None,
    base_url: str | None = None,
    max_text_chars: int = MAX_SUMMARY_TEXT,
) -> tuple[str, bool]:
    """Return ``(safe_html, truncated)`` for an untrusted HTML fragment.

    ``base_url`` resolves relative links. A link that does not resolve to an
    absolute http(s) or mailto URL loses its ``href`` and becomes plain text.
    ``truncated`` is True when the fragment was cut to ``max_text_chars``
    characters of text. An escaped CDATA section counts as its content, and a
    fragment with no visible content becomes "".
    """
    if not markup:
        return "", False
    markup, source_cut = _cut_source(markup)
    markup = unwrap_cdata(remove_unwanted(markup))
    markup, truncated = cut_html(markup, max_text_chars)
    truncated = truncated or source_cut
    if "<" not in markup and "&" not in markup:
        # Plain text needs no parser, only escaping.
        text = markup.strip()
        return html.escape(text, quote=False), truncated
    token = _base_url.set(base_url)
    try:
        cleaned = _CLEANER.clean(markup)
    finally:
        _base_url.reset(token)
    if _HREFLESS_ANCHOR in cleaned:
        # An anchor whose href was removed would render as a dead link.
        cleaned = _HREFLESS_ANCHOR_RE.sub(r"\1", cleaned)
    cleaned = cleaned.strip()
    if _VISIBLE_TEXT_RE.search(cleaned) is None:
        return "", truncated
    return cleaned, truncated


def cut_html(markup: str, max_text_chars: int) -> tuple[str, bool]:
    """Cut ``markup`` after ``max_text_chars`` characters of text, between tags.

    Returns ``(markup, truncated)``. The cut never falls inside a tag or an
    entity, and an ellipsis marks it. Elements left open are for the sanitizer
    to close. Entities count as their source length, so the cap is
    approximate for entity-heavy text.
    """
    if len(markup) <= max_text_chars:
        return markup, False
    source_limit = min(len(markup), MAX_SUMMARY_SOURCE)
    text_count = 0
    position = 0
    for match in _TAG_RE.finditer(markup, 0, source_limit):
        text_length = match.start() - position
        if text_count + text_length > max_text_chars:
            return _cut_text(markup, position, max_text_chars - text_count), True
        if not match[0].endswith(">"):
            # A tag cut by the source limit, or a stray "<" in text.
            if match.end() >= source_limit:
                return markup[: match.start()] + "…", True
        text_count += text_length
        position = match.end()
    remaining = source_limit - position
    if text_count + remaining > max_text_chars:
        return _cut_text(markup, position, max_text_chars - text_count), True
    if source_limit < len(markup):
        return markup[:source_limit] + "…", True
    return markup, False


def _cut_source(markup: str) -> tuple[str, bool]:
    """Cut ``markup`` to ``MAX_SUMMARY_SOURCE`` characters, before any tag it splits."""
    if len(markup) <= MAX_SUMMARY_SOURCE:
        return markup, False
    markup = markup[:MAX_SUMMARY_SOURCE]
    last_open = markup.rfind("<")
    if last_open > markup.rfind(">"):
        markup = markup[:last_open]
    return markup + "…", True


def _cut_text(markup: str, start: int, length: int) -> str:
    end = start + max(length, 0)
    # The longest HTML entity name, "&CounterClockwiseContourIntegral;", has 33
    # characters.
    ampersand = markup.rfind("&", max(start, end - 40), end)
    if ampersand != -1 and ";" not in markup[ampersand:end]:
        end = ampersand
    return markup[:end] + "…"
