"""Text-level preparation of an XML feed before lxml parses it.

lxml only ever receives UTF-8 bytes without an XML declaration and without a
DOCTYPE, so it never decodes a legacy encoding, never loads a DTD and never
expands an entity. The DOCTYPE policy lives here:

* A DOCTYPE with an external identifier (SYSTEM or PUBLIC), a parameter
  entity, an external entity, an entity whose value references another entity
  or contains markup, or any declaration this module cannot read is rejected
  with ``SourceError("dtd_rejected")``. Billion-laughs documents fail on the
  first nested reference, before anything is expanded.
* Otherwise the internal subset only declares plain entities, such as
  ``<!ENTITY nbsp "&#160;">``. Their references are replaced in the text, with
  at most ``MAX_ENTITY_REFERENCES`` references and ``MAX_EXPANSION_CHARS`` added
  characters, and the DOCTYPE is removed.
"""

import html.entities
import re
from dataclasses import dataclass, field

from govportal.lib.errors import SourceError

CONTROL_CHARACTERS_REMOVED = "control characters removed"
REPAIRED_MARKUP = "repaired markup"
ENTITIES_EXPANDED = "internal DTD entities expanded"

MAX_ENTITY_REFERENCES = 10_000
MAX_EXPANSION_CHARS = 1_000_000
MAX_INTERNAL_SUBSET_CHARS = 64 * 1024
MAX_ENTITY_DECLARATIONS = 500
# Number of leading characters searched for an XML declaration after junk.
PROLOG_SEARCH_CHARS = 4096

_PREDEFINED_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_HTML_ROOTS = frozenset({"html", "head", "body"})

# Characters that XML 1.0 forbids anywhere, even as character references.
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DECLARATION_RE = re.compile(r"<\?xml\s[^>]*?\?>|<\?xml\?>", re.IGNORECASE)
_WHITESPACE_RE = re.compile(r"\s*")
_FEED_ROOT_RE = re.compile(r"<(?:\w+:)?(?:rss|RDF|feed)\b")
_ROOT_TAG_RE = re.compile(r"<([^\s/>!?<]+)")
_DOCTYPE_HEAD_RE = re.compile(r"<!DOCTYPE\s+([^\s\[>]+)\s*", re.IGNORECASE)
_EXTERNAL_ID_RE = re.compile(r"""(SYSTEM|PUBLIC)\s*("[^"]*"|'[^']*')?""", re.IGNORECASE)
_NETSCAPE_RSS_091_RE = re.compile(
    r"""PUBLIC\s+(["'])-//Netscape Communications//DTD RSS 0\.91//EN\1"""
    r"""(?:\s+(["'])[^"'<>]*\2)?\s*""",
)
_ENTITY_DECL_RE = re.compile(
    r"""<!ENTITY\s+(?P<percent>%\s+)?(?P<name>[^\s%;&"'<>]+)\s+"""
    r"""(?:(?P<external>SYSTEM|PUBLIC)\b(?:\s*(?:"[^"]*"|'[^']*'))*"""
    r"""|(?P<value>"[^"]*"|'[^']*'))"""
    r"""(?:\s*NDATA\s+\S+)?\s*>""",
    re.IGNORECASE,
)
_OTHER_DECL_RE = re.compile(
    r"""<!(?:ELEMENT|ATTLIST|NOTATION)\b(?:[^"'>]|"[^"]*"|'[^']*')*>""", re.IGNORECASE
)
_ENTITY_VALUE_RE = re.compile(r"(?:[^&%<]|&#[0-9]{1,7};|&#x[0-9A-Fa-f]{1,6};)*")
# CDATA sections and comments are copied untouched. An unterminated one runs
# to the end, so each one is scanned once and the whole pass stays linear.
_PROTECTED = r"<!\[CDATA\[(?:.*?\]\]>|.*)|<!--(?:.*?-->|.*)"
_ENTITY_REF_RE = re.compile(_PROTECTED + r"|&((?:[^\W\d]|:)[\w.:-]*);", re.DOTALL)
_AMPERSAND_RE = re.compile(
    _PROTECTED + r"|&(?:(?P<name>[A-Za-z][A-Za-z0-9]{0,31});|#(?P<dec>[0-9]{1,8});"
    r"|#[xX](?P<hex>[0-9A-Fa-f]{1,8});)?",
    re.DOTALL,
)


@dataclass
class Doctype:
    """A DOCTYPE found before the root element."""

    name: str
    start: int
    end: int
    entities: dict[str, str] = field(default_factory=dict)


@dataclass
class Prologue:
    """The start of a document: root element name and position, and the DOCTYPE."""

    root_name: str
    root_start: int
    doctype: Doctype | None


def strip_declaration(text: str) -> tuple[str, list[str]]:
    """Remove leading whitespace, junk before the XML declaration, and the declaration.

    The declaration goes because the text is handed to lxml as UTF-8 and a
    stale ``encoding="big5"`` would make it decode the bytes a second time.
    """
    flags: list[str] = []
    text = text.lstrip(" \t\r\n\ufeff")
    if not text.startswith("<?xml"):
        start = text.find("<?xml", 0, PROLOG_SEARCH_CHARS)
        if start > 0 and _FEED_ROOT_RE.search(text, 0, start) is None:
            # Typically a PHP warning printed before the feed.
            text = text[start:]
            flags.append(REPAIRED_MARKUP)
    if text.startswith("<?xml"):
        match = _DECLARATION_RE.match(text)
        if match:
            text = text[match.end() :].lstrip(" \t\r\n")
    return text, flags


def remove_illegal_characters(text: str) -> tuple[str, bool]:
    """Remove characters that XML 1.0 forbids. Returns (text, removed_any)."""
    if _XML_ILLEGAL_RE.search(text) is None:
        return text, False
    return _XML_ILLEGAL_RE.sub("", text), True


def scan_prologue(text: str) -> Prologue:
    """Find the root element and any DOCTYPE, skipping comments and PIs.

    Raises SourceError "not_a_feed_html" for an HTML document, "not_a_feed"
    when no element starts the document, and "dtd_rejected" for a DOCTYPE that
    the module policy rejects.
    """
    position = 0
    doctype: Doctype | None = None
    while True:
        position = _skip_whitespace(text, position)
        if text.startswith("<!--", position):
            end = text.find("-->", position + 4)
            if end == -1:
                raise SourceError(
                    "not_a_feed", "An unterminated comment starts the document."
                )
            position = end + 3
        elif text.startswith("<?", position):
            end = text.find("?>", position + 2)
            if end == -1:
                raise SourceError(
                    "not_a_feed",
                    "An unterminated processing instruction starts the document.",
                )
            position = end + 2
        elif text[position : position + 9].upper() == "<!DOCTYPE":
            if doctype is not None:
                raise _dtd_error(None, "the document has two DOCTYPE declarations")
            doctype = _parse_doctype(text, position)
            position = doctype.end
        else:
            break
    match = _ROOT_TAG_RE.match(text, position)
    if match is None:
        raise SourceError("not_a_feed", "The document does not start with an element.")
    root_name = match[1]
    if root_name.rpartition(":")[2].lower() in _HTML_ROOTS:
        raise SourceError(
            "not_a_feed_html", "The document is an HTML page, not a feed."
        )
    return Prologue(root_name, position, doctype)


def apply_doctype(text: str, prologue: Prologue) -> tuple[str, list[str]]:
    """Expand the DOCTYPE's plain entities in the text and remove the DOCTYPE."""
    doctype = prologue.doctype
    if doctype is None:
        return text, []
    body = text[doctype.end :]
    flags: list[str] = []
    if doctype.entities:
        body = _expand_entities(body, doctype)
        flags.append(ENTITIES_EXPANDED)
    return text[: doctype.start] + body, flags


def repair_markup(text: str) -> tuple[str, bool]:
    """Escape stray ampersands and fix entity references that XML cannot read.

    HTML named entities (``&nbsp;``) become numeric references, references to
    characters XML forbids are removed, and an ``&`` that starts no valid
    reference becomes ``&amp;``. CDATA sections and comments are not touched.
    Returns (text, changed_any).
    """
    changed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal changed
        whole = match[0]
        if whole[0] == "<":
            return whole
        name = match["name"]
        if name is not None:
            if name in _PREDEFINED_ENTITIES:
                return whole
            changed = True
            characters = html.entities.html5.get(name + ";")
            if characters is None:
                return "&amp;" + whole[1:]
            return "".join(f"&#{ord(c)};" for c in characters)
        number = match["dec"] or match["hex"]
        if number is not None:
            code_point = int(number, 10 if match["dec"] else 16)
            if _is_xml_character(code_point):
                return whole
            changed = True
            return ""
        changed = True
        return "&amp;"

    repaired = _AMPERSAND_RE.sub(replace, text)
    return repaired, changed


def looks_truncated(text: str, root_name: str) -> bool:
    """Return True when the document does not end with the root's end tag.

    Trailing whitespace, comments and processing instructions are ignored.
    """
    tail = text[-4096:].rstrip()
    while tail.endswith(("-->", "?>")):
        opener = "<!--" if tail.endswith("-->") else "<?"
        start = tail.rfind(opener)
        if start == -1:
            break
        tail = tail[:start].rstrip()
    if tail.endswith("/>") and tail.count("<") == 1:
        return False  # the whole document is one empty root element
    return re.search(r"</\s*" + re.escape(root_name) + r"\s*>\Z", tail) is None


def _skip_whitespace(text: str, position: int) -> int:
    match = _WHITESPACE_RE.match(text, position)
    return match.end() if match else position


def _is_xml_character(code_point: int) -> bool:
    if code_point in (0x9, 0xA, 0xD):
        return True
    return (
        0x20 <= code_point <= 0xD7FF
        or 0xE000 <= code_point <= 0xFFFD
        or 0x10000 <= code_point <= 0x10FFFF
    )


def _dtd_error(name: str | None, reason: str) -> SourceError:
    doctype = "The DOCTYPE" if name is None else f"The DOCTYPE {name!r}"
    return SourceError(
        "dtd_rejected",
        f"{doctype} was rejected because {reason}. Remove the DTD from the feed.",
        doctype=name,
        reason=reason,
    )


def _parse_doctype(text: str, start: int) -> Doctype:
    match = _DOCTYPE_HEAD_RE.match(text, start)
    if match is None:
        raise _dtd_error(None, "the DOCTYPE declaration is malformed")
    name = match[1]
    if name.lower() == "html":
        raise SourceError(
            "not_a_feed_html", "The document is an HTML page, not a feed."
        )
    position = match.end()
    netscape = _NETSCAPE_RSS_091_RE.match(text, position)
    if netscape:
        # Old RSS 0.91 feeds name Netscape's DTD by its public identifier. It is
        # never loaded (the parser has no DTD loading and no network) and the
        # DOCTYPE is removed, so naming it is harmless. Every other external
        # DTD is rejected.
        position = netscape.end()
    elif external := _EXTERNAL_ID_RE.match(text, position):
        identifier = external[2] or ""
        raise _dtd_error(
            name, f"it names an external DTD ({external[1].upper()} {identifier})"
        )
    doctype = Doctype(name, start, position)
    if text.startswith("[", position):
        position = _parse_internal_subset(text, position + 1, doctype)
    position = _skip_whitespace(text, position)
    if not text.startswith(">", position):
        raise _dtd_error(name, "the DOCTYPE declaration is malformed")
    doctype.end = position + 1
    return doctype


def _parse_internal_subset(text: str, position: int, doctype: Doctype) -> int:
    """Read declarations up to the closing "]" and return the position after it."""
    subset_start = position
    name = doctype.name
    while True:
        position = _skip_whitespace(text, position)
        if position - subset_start > MAX_INTERNAL_SUBSET_CHARS:
            raise _dtd_error(name, "the internal subset is too large")
        if text.startswith("]", position):
            return position + 1
        if position >= len(text):
            raise _dtd_error(name, "the internal subset is not closed")
        if text.startswith("%", position):
            raise _dtd_error(name, "it references a parameter entity")
        if text.startswith("<!--", position):
            end = text.find("-->", position + 4)
            if end == -1:
                raise _dtd_error(name, "a comment in the internal subset is not closed")
            position = end + 3
            continue
        if text.startswith("<?", position):
            end = text.find("?>", position + 2)
            if end == -1:
                raise _dtd_error(name, "a processing instruction is not closed")
            position = end + 2
            continue
        entity = _ENTITY_DECL_RE.match(text, position)
        if entity:
            _add_entity(entity, doctype)
            position = entity.end()
            continue
        other = _OTHER_DECL_RE.match(text, position)
        if other:
            # Element and attribute declarations only matter to validation, and
            # they disappear with the DOCTYPE.
            position = other.end()
            continue
        raise _dtd_error(name, "it contains a declaration that is not allowed")


def _add_entity(match: re.Match[str], doctype: Doctype) -> None:
    name = doctype.name
    entity = match["name"]
    if match["percent"]:
        raise _dtd_error(name, f"it declares the parameter entity {entity!r}")
    if match["external"]:
        raise _dtd_error(name, f"it declares the external entity {entity!r}")
    value = match["value"][1:-1]
    if _ENTITY_VALUE_RE.fullmatch(value) is None:
        if "&" in value or "%" in value:
            reason = f"the entity {entity!r} references another entity"
        else:
            reason = f"the entity {entity!r} contains markup"
        raise _dtd_error(name, reason)
    if len(doctype.entities) >= MAX_ENTITY_DECLARATIONS:
        raise _dtd_error(name, "it declares too many entities")
    if entity in _PREDEFINED_ENTITIES or entity in doctype.entities:
        return  # XML keeps the first declaration and fixes the predefined five
    # Quotes become references so that the value is safe inside attributes.
    doctype.entities[entity] = value.replace('"', "&#34;").replace("'", "&#39;")


def _expand_entities(body: str, doctype: Doctype) -> str:
    entities = doctype.entities
    references = 0
    added = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal references, added
        entity = match[1]
        if entity is None or entity not in entities:
            return match[0]
        value = entities[entity]
        references += 1
        added += len(value)
        if references > MAX_ENTITY_REFERENCES or added > MAX_EXPANSION_CHARS:
            raise _dtd_error(
                doctype.name,
                f"entity expansion exceeds {MAX_ENTITY_REFERENCES} references or "
                f"{MAX_EXPANSION_CHARS} characters",
            )
        return value

    return _ENTITY_REF_RE.sub(replace, body)
