"""Plain-text helpers for feed fields: invisible characters, markup, whitespace.

Everything here is pure and fast enough to run on every field of every item.
"""

import html
import re

import nh3

# Zero-width characters and BOM, word joiner and invisible operators, bidi
# embeddings/overrides and isolates. They can hide or reorder text (a title that
# reads differently from what it contains) and break string comparisons.
INVISIBLE_CHARACTERS = (
    [chr(c) for c in range(0x200B, 0x2010)]
    + ["\ufeff"]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)
_INVISIBLE_RE = re.compile("[" + "".join(INVISIBLE_CHARACTERS) + "]")

# C0 controls except tab, newline and carriage return, DEL, C1 controls,
# surrogates (JSON "\ud800" escapes produce them, and they cannot be encoded as
# UTF-8) and the noncharacters U+FFFE/U+FFFF. PostgreSQL rejects NUL in text.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
)
_UNWANTED_RE = re.compile(
    _CONTROL_RE.pattern[:-1] + "".join(INVISIBLE_CHARACTERS) + "]"
)
_ASCII_SPACE_RE = re.compile(r"[ \t\n\r\f\v]+")
_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_CDATA_OPEN = "<![CDATA["

# Elements whose content is code or a fallback, never visible text.
_HIDDEN_CONTENT_TAGS = {"script", "style"}


def strip_invisible(text: str) -> str:
    """Remove zero-width, BOM, word-joiner and bidi control characters."""
    if text.isascii() or _INVISIBLE_RE.search(text) is None:
        return text
    return _INVISIBLE_RE.sub("", text)


def strip_control(text: str) -> str:
    """Remove control characters (NUL included), surrogates and noncharacters.

    Tab, newline and carriage return are kept.
    """
    if _CONTROL_RE.search(text) is None:
        return text
    return _CONTROL_RE.sub("", text)


def remove_unwanted(text: str) -> str:
    """Remove control and invisible characters, as the two functions above do."""
    if _UNWANTED_RE.search(text) is None:
        return text
    return _UNWANTED_RE.sub("", text)


def collapse_whitespace(text: str) -> str:
    """Collapse runs of ASCII whitespace to one space and strip both ends.

    No-break and ideographic spaces inside the text are kept because agencies
    use them on purpose (``文化局\\u00a0音樂會``).
    """
    return _ASCII_SPACE_RE.sub(" ", text).strip()


def truncate(text: str, max_length: int) -> str:
    """Cut ``text`` to at most ``max_length`` characters, ending with an ellipsis."""
    if len(text) <= max_length:
        return text
    return text[: max_length - 1].rstrip() + "…"


def clean_text(text: str | None, max_length: int | None = None) -> str:
    """Return ``text`` as one clean line: no controls, no invisibles, no runs of space.

    Markup and entities are left alone: use ``html_to_text`` for HTML.
    """
    if not text:
        return ""
    text = collapse_whitespace(remove_unwanted(text))
    if max_length is not None:
        text = truncate(text, max_length)
    return text


def unwrap_cdata(text: str) -> str:
    """Replace CDATA markers that survived as text with the section's content.

    A feed that escapes a CDATA section (``&lt;![CDATA[x]]&gt;``) leaves the
    markers in the text. An HTML parser would treat ``<![CDATA[`` as a bogus
    comment and drop the content, which empties the description. An opener
    without ``]]>`` is removed.
    """
    if _CDATA_OPEN not in text:
        return text
    text = _CDATA_RE.sub(r"\1", text)
    return text.replace(_CDATA_OPEN, "")


def html_to_text(markup: str | None, max_length: int | None = None) -> str:
    """Convert an HTML fragment to one line of plain text.

    Tags are removed but their text is kept, except the content of script and
    style elements, which is dropped. Entities are decoded once.
    """
    if not markup:
        return ""
    markup = unwrap_cdata(markup)
    if "<" in markup:
        markup = nh3.clean(markup, tags=set(), clean_content_tags=_HIDDEN_CONTENT_TAGS)
    if "&" in markup:
        markup = html.unescape(markup)
    return clean_text(markup, max_length)
