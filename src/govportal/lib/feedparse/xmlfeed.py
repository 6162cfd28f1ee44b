"""Read RSS 0.9x, RSS 1.0, RSS 2.0 and Atom documents with lxml.

``parse_xml_feed`` receives text that is already decoded. It prepares the
text (``xmlprep``), parses it strictly, and falls back in this order: repair
stray ampersands and HTML entities, report truncation, and finally lxml's
recover mode.
"""

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

from govportal.lib.errors import SourceError
from govportal.lib.feedparse import xmlprep
from govportal.lib.feedparse.entries import MAX_CATEGORIES, FeedContext, RawEntry
from govportal.lib.textclean import clean_text, html_to_text
from govportal.lib.urlnorm import clean_link

RECOVERED = "recovered malformed XML"

NS_ATOM = "http://www.w3.org/2005/Atom"
NS_ATOM03 = "http://purl.org/atom/ns#"
NS_RSS1 = "http://purl.org/rss/1.0/"
NS_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_ATOM_NAMESPACES = (NS_ATOM, NS_ATOM03)

# Documents larger than this are read incrementally and reading stops after
# the scan limit, so a million-item feed costs the same as a thousand-item one.
STREAM_THRESHOLD_BYTES = 4 * 1024 * 1024
_ROOT_NAMES = frozenset({"rss", "RDF", "feed"})
# Categories and Atom authors read per item. Cleaning drops empty and duplicate
# values, so twice the stored maximum are read.
_MAX_CATEGORY_CANDIDATES = 2 * MAX_CATEGORIES

# RSS child elements by Clark name. RSS 1.0 and 0.90 put the core elements in
# their namespace, RSS 0.9x and 2.0 in none.
_RSS_CORE = {
    "title": "title",
    "link": "link",
    "description": "description",
    "guid": "guid",
    "pubDate": "pubdate",
    "author": "author",
    "category": "category",
    # 衛生福利部 names the writing agency in a custom element.
    "DeptName": "dept",
}
_RSS_FIELDS: dict[str, str] = dict(_RSS_CORE)
for _namespace in (NS_RSS1, NS_RSS090):
    _RSS_FIELDS.update({f"{{{_namespace}}}{k}": v for k, v in _RSS_CORE.items()})
_RSS_FIELDS.update(
    {
        f"{{{NS_DC}}}title": "dc_title",
        f"{{{NS_DC}}}date": "dc_date",
        f"{{{NS_DC}}}creator": "creator",
        f"{{{NS_DC}}}publisher": "publisher",
        f"{{{NS_CONTENT}}}encoded": "content",
    }
)
for _namespace in _ATOM_NAMESPACES:
    _RSS_FIELDS.update(
        {
            f"{{{_namespace}}}updated": "updated",
            f"{{{_namespace}}}published": "published",
            f"{{{_namespace}}}link": "atom_link",
        }
    )
# Some CMSs vary the case of element names ("pubdate", "PubDate").
_RSS_FIELDS_BY_LOWER = {k.lower(): v for k, v in _RSS_CORE.items()}

_ATOM_FIELDS = {
    "title": "title",
    "link": "link",
    "id": "id",
    "summary": "summary",
    "content": "content",
    "published": "published",
    "issued": "published",
    "created": "created",
    "updated": "updated",
    "modified": "updated",
    "author": "author",
    "category": "category",
}


@dataclass
class XmlDocument:
    """The parsed root, the item elements to read, and how reading went."""

    root: etree._Element
    items: list[etree._Element]
    more_available: bool


_parsers = threading.local()


def _parser(recover: bool) -> etree.XMLParser:
    # Parsers are not thread-safe, so each thread keeps its own pair.
    cache = getattr(_parsers, "cache", None)
    if cache is None:
        cache = _parsers.cache = {}
    parser = cache.get(recover)
    if parser is None:
        parser = cache[recover] = etree.XMLParser(**_parser_options(recover))
    return parser


def _parser_options(recover: bool) -> dict[str, bool]:
    # No entity resolution, no network, no DTD loading and libxml2's default
    # size limits. These are a second line of defence, because the text that
    # reaches lxml has no DOCTYPE left.
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "recover": recover,
        "remove_pis": True,
    }


def parse_xml_feed(
    text: str, context: FeedContext, scan_limit: int
) -> tuple[str, str, str | None, list[RawEntry], bool]:
    """Parse decoded XML text. Returns (kind, title, link, raw entries, more).

    Raises SourceError with code "not_a_feed_html", "not_a_feed",
    "dtd_rejected", "truncated" or "malformed".
    """
    text, flags = xmlprep.strip_declaration(text)
    for flag in flags:
        context.flag(flag)
    if not text.startswith("<"):
        raise SourceError("not_a_feed", "The body is neither XML nor JSON.")
    prologue = xmlprep.scan_prologue(text)
    root_local = prologue.root_name.rpartition(":")[2]
    if root_local not in _ROOT_NAMES:
        raise SourceError(
            "not_a_feed",
            f"The root element is <{prologue.root_name}>, not rss, rdf:RDF or feed.",
            root=prologue.root_name,
        )
    text, flags = xmlprep.apply_doctype(text, prologue)
    for flag in flags:
        context.flag(flag)

    document = _parse_document(text, prologue.root_name, context, scan_limit)
    kind = _kind(document.root)
    if kind == "atom":
        title, link, entries = _read_atom(document, context)
    else:
        title, link, entries = _read_rss(document, context)
    return kind, title, link, entries, document.more_available


def _parse_document(
    text: str, root_name: str, context: FeedContext, scan_limit: int
) -> XmlDocument:
    """Parse strictly, then repair, then report truncation, then recover.

    The repairs run only after a strict parse fails, because scanning the
    whole text costs more than parsing a well-formed feed.
    """
    try:
        return _build(text.encode("utf-8"), scan_limit, recover=False)
    except etree.XMLSyntaxError as error:
        first_error = error

    repair_flags = []
    repaired, removed = xmlprep.remove_illegal_characters(text)
    if removed:
        repair_flags.append(xmlprep.CONTROL_CHARACTERS_REMOVED)
    repaired, changed = xmlprep.repair_markup(repaired)
    if changed:
        repair_flags.append(xmlprep.REPAIRED_MARKUP)
    data = repaired.encode("utf-8")
    if repair_flags:
        try:
            document = _build(data, scan_limit, recover=False)
        except etree.XMLSyntaxError:
            pass
        else:
            for flag in repair_flags:
                context.flag(flag)
            return document

    if xmlprep.looks_truncated(repaired, root_name):
        raise SourceError(
            "truncated",
            "The document ends before its root element is closed.",
            line=first_error.lineno,
        )
    recovered: XmlDocument | None
    try:
        recovered = _build(data, scan_limit, recover=True)
    except etree.XMLSyntaxError:
        recovered = None
    if recovered is None or not recovered.items:
        raise SourceError("malformed", _describe(first_error), line=first_error.lineno)
    for flag in [*repair_flags, RECOVERED]:
        context.flag(flag)
    return recovered


def _describe(error: etree.XMLSyntaxError) -> str:
    message = str(error.msg or error).strip()
    return f"The XML is not well-formed: {message}."


def _build(data: bytes, scan_limit: int, recover: bool) -> XmlDocument:
    """Parse ``data`` and collect at most ``scan_limit`` items in document order."""
    if len(data) > STREAM_THRESHOLD_BYTES:
        return _build_streaming(data, scan_limit, recover)
    root = etree.fromstring(data, _parser(recover))
    if root is None:
        raise etree.XMLSyntaxError("no root element", 0, 0, 0)
    items = list(_item_elements(root))
    more = len(items) > scan_limit
    return XmlDocument(root, items[:scan_limit], more)


def _build_streaming(data: bytes, scan_limit: int, recover: bool) -> XmlDocument:
    """Parse incrementally and stop after ``scan_limit`` items.

    Syntax errors after the last item read are never seen.
    """
    events = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag=("{*}item", "{*}entry"),
        **_parser_options(recover),
    )
    items: list[etree._Element] = []
    more = False
    for _event, element in events:
        if not _is_item(element):
            continue
        if len(items) == scan_limit:
            more = True
            break
        items.append(element)
    # iterparse sets .root only when it reaches the end of the document.
    root = events.root
    if root is None and items:
        root = items[0].getroottree().getroot()
    if root is None:
        raise etree.XMLSyntaxError("no root element", 0, 0, 0)
    return XmlDocument(root, items, more)


def _is_item(element: etree._Element) -> bool:
    parent = element.getparent()
    if parent is None:
        return False
    parent_local = etree.QName(parent).localname
    return parent_local in ("channel", "rss", "RDF", "feed")


def _item_elements(root: etree._Element) -> Iterator[etree._Element]:
    local = etree.QName(root).localname
    if local == "feed":
        yield from root.iterchildren("{*}entry")
        return
    for child in root.iterchildren("{*}channel"):
        yield from child.iterchildren("{*}item")
        break
    # RSS 1.0 and 0.90 put items next to the channel, and so do some 0.91 feeds.
    yield from root.iterchildren("{*}item")


def _kind(root: etree._Element) -> str:
    name = etree.QName(root)
    if name.localname == "feed":
        if name.namespace not in (None, *_ATOM_NAMESPACES):
            raise SourceError(
                "not_a_feed", "The <feed> root is not in the Atom namespace."
            )
        return "atom"
    if name.localname == "RDF":
        if root.find(f"{{{NS_RSS090}}}channel") is not None:
            return "rss09"
        return "rss1"
    if name.localname == "rss":
        version = (root.get("version") or "").strip()
        return "rss09" if version.startswith("0.9") else "rss2"
    raise SourceError(
        "not_a_feed", f"The root element <{name.localname}> is not a feed."
    )


def _inner_markup(element: etree._Element) -> str:
    """Return the element's content as markup: text plus serialized children."""
    text = element.text or ""
    if len(element) == 0:
        return text
    parts = [text]
    for child in element:
        parts.append(etree.tostring(child, encoding="unicode", with_tail=True))
    return "".join(parts)


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    if len(element) == 0:
        return element.text or ""
    return "".join(element.itertext())


# RSS


def _read_rss(
    document: XmlDocument, context: FeedContext
) -> tuple[str, str | None, list[RawEntry]]:
    root = document.root
    channel = next(root.iterchildren("{*}channel"), None)
    title = ""
    link = None
    if channel is not None:
        title = html_to_text(_text(next(channel.iterchildren("{*}title"), None)), 500)
        link_text = _text(next(channel.iterchildren("{*}link"), None))
        link = clean_link(link_text, context.feed_url)
    context.channel_link = link
    entries = [_read_rss_item(item) for item in document.items]
    return title, link, entries


def _read_rss_item(item: etree._Element) -> RawEntry:
    found: dict[str, etree._Element] = {}
    categories: list[str] = []
    for child in item:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comment or processing instruction
        key = _RSS_FIELDS.get(tag)
        if key is None and tag[0] != "{":
            key = _RSS_FIELDS_BY_LOWER.get(tag.lower())
        if key is None:
            continue
        if key == "category":
            if len(categories) < _MAX_CATEGORY_CANDIDATES:
                categories.append(_text(child))
        elif key == "atom_link":
            rel = child.get("rel") or "alternate"
            if rel == "alternate" and "atom_link" not in found:
                found[key] = child
        elif key not in found:
            found[key] = child

    raw = RawEntry(categories=categories)
    title = found.get("title")
    raw.title = _inner_markup(title) if title is not None else ""
    if not raw.title.strip() and "dc_title" in found:
        raw.title = _inner_markup(found["dc_title"])

    guid_element = found.get("guid")
    raw.guid = _text(guid_element) if guid_element is not None else None
    raw.links.append(_text(found.get("link")))
    if "atom_link" in found:
        raw.links.append(found["atom_link"].get("href") or "")
    if guid_element is not None and raw.guid:
        permalink = (guid_element.get("isPermaLink") or "true").strip().lower()
        if permalink != "false" and raw.guid.strip().lower().startswith("http"):
            raw.links.append(raw.guid)

    description = found.get("description")
    raw.summary = _inner_markup(description) if description is not None else ""
    if not raw.summary.strip() and "content" in found:
        raw.summary = _inner_markup(found["content"])

    for key in ("pubdate", "dc_date", "updated", "published"):
        if key in found:
            raw.dates.append(_text(found[key]))
    for key in ("author", "creator", "dept", "publisher"):
        if key in found:
            raw.authors.append(_text(found[key]))
    return raw


# Atom


def _read_atom(
    document: XmlDocument, context: FeedContext
) -> tuple[str, str | None, list[RawEntry]]:
    root = document.root
    # Only an explicit xml:base overrides the usual bases (item link, feed URL).
    feed_base = _base(root, None, context.feed_url)
    title_element = _atom_child(root, "title")
    title = _atom_title(title_element) if title_element is not None else ""
    link = clean_link(_atom_alternate(root), feed_base or context.feed_url)
    context.channel_link = link
    entries = [
        _read_atom_entry(entry, feed_base, context.feed_url) for entry in document.items
    ]
    return clean_text(title, 500), link, entries


def _base(
    element: etree._Element, parent_base: str | None, feed_url: str | None
) -> str | None:
    """Return the element's xml:base resolved against the parent's base.

    Without xml:base the result is ``parent_base``, which may be None.
    """
    base = element.get(XML_BASE)
    if not base:
        return parent_base
    return urljoin(parent_base or feed_url or "", base)


def _atom_child(element: etree._Element, local: str) -> etree._Element | None:
    for namespace in _ATOM_NAMESPACES:
        child = element.find(f"{{{namespace}}}{local}")
        if child is not None:
            return child
    return element.find(local)


def _atom_alternate(element: etree._Element) -> str:
    """Return the href of the element's alternate link, preferring text/html."""
    candidates = []
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).localname != "link":
            continue
        rel = (child.get("rel") or "alternate").strip()
        if rel == "alternate":
            candidates.append(child)
    for child in candidates:
        if (child.get("type") or "text/html").startswith(
            ("text/html", "application/xhtml")
        ):
            return child.get("href") or ""
    return candidates[0].get("href") or "" if candidates else ""


def _atom_title(element: etree._Element) -> str:
    """Return an Atom title as plain text according to its type attribute."""
    kind = (element.get("type") or "text").strip().lower()
    if kind == "text":
        return _text(element)
    return html_to_text(_atom_markup(element, kind))


def _atom_markup(element: etree._Element, kind: str) -> str:
    if kind == "xhtml":
        div = next(iter(element), None)
        return _inner_markup(div) if div is not None else _inner_markup(element)
    return _inner_markup(element)


def _read_atom_entry(
    entry: etree._Element, feed_base: str | None, feed_url: str | None
) -> RawEntry:
    found: dict[str, etree._Element] = {}
    categories: list[str] = []
    authors: list[str] = []
    for child in entry:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = etree.QName(tag)
        if name.namespace == NS_DC and name.localname in ("creator", "date"):
            found.setdefault(f"dc_{name.localname}", child)
            continue
        if name.namespace not in (None, *_ATOM_NAMESPACES):
            continue
        key = _ATOM_FIELDS.get(name.localname)
        if key is None or key == "link":
            continue
        if key == "category":
            if len(categories) < _MAX_CATEGORY_CANDIDATES:
                categories.append(
                    child.get("label") or child.get("term") or _text(child)
                )
        elif key == "author":
            if len(authors) == _MAX_CATEGORY_CANDIDATES:
                continue
            author_name = _atom_child(child, "name")
            authors.append(
                _text(author_name) if author_name is not None else _text(child)
            )
        elif key not in found:
            found[key] = child

    raw = RawEntry(categories=categories, base_url=_base(entry, feed_base, feed_url))
    title = found.get("title")
    if title is not None:
        kind = (title.get("type") or "text").strip().lower()
        raw.title_is_html = kind != "text"
        raw.title = _atom_markup(title, kind) if raw.title_is_html else _text(title)
    raw.links.append(_atom_alternate(entry))
    identifier = found.get("id")
    raw.guid = _text(identifier) if identifier is not None else None
    if raw.guid and raw.guid.strip().lower().startswith("http"):
        raw.links.append(raw.guid)

    body = found.get("content")
    if body is None or body.get("src") or not _text(body).strip():
        body = found.get("summary", body)
    if body is not None and not body.get("src"):
        kind = (body.get("type") or "text").strip().lower()
        if kind in ("html", "xhtml", "text/html", "application/xhtml+xml"):
            raw.summary = _atom_markup(body, "xhtml" if "xhtml" in kind else "html")
        else:
            raw.summary = _text(body)
            raw.summary_is_html = False

    for key in ("published", "updated", "created", "dc_date"):
        if key in found:
            raw.dates.append(_text(found[key]))
    raw.authors = authors
    if "dc_creator" in found:
        raw.authors.append(_text(found["dc_creator"]))
    return raw
