"""Clean feed links and derive a key that identifies a story across feeds.

``clean_link`` returns the link that is stored and rendered as a plain
outbound ``<a href>``. It is never fetched by the portal, so it only has to be
an absolute http(s) URL without tricks. It may point to any public host, but
not to the reader's own machine or network.
``story_key`` returns the comparison key for "the same story" in several
feeds, and never a URL to render.
"""

import html
import ipaddress
import re
from urllib.parse import quote, unquote, urljoin

from govportal.lib.textclean import strip_invisible

# Django's URLField on NewsItem.link has max_length=2000.
MAX_LINK_LENGTH = 2000
# Longer link text is rejected before cleaning, which keeps the cost bounded.
_MAX_LINK_SOURCE = 4 * MAX_LINK_LENGTH

_WEB_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters added by analytics and ad platforms. They do not select
# content, so removing them keeps the page an agency link points to.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "yclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "igshid",
        "igsh",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mkt_tok",
        "_hsenc",
        "_hsmi",
        "__hssc",
        "__hstc",
        "__hsfp",
        "hsctatracking",
        "vero_id",
        "vero_conv",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "s_cid",
        "srsltid",
        "_openstat",
        "ref_src",
        "ref_url",
    }
)
TRACKING_PREFIXES = ("utm_",)

# Characters left as they are when percent-encoding a path, query or fragment:
# the RFC 3986 reserved and unreserved sets plus "%" so existing escapes stay.
_SAFE_CHARACTERS = "!#$%&'()*+,/:;=?@[]~-._"
_UNSAFE_CHARACTER_RE = re.compile(r"[^A-Za-z0-9" + re.escape(_SAFE_CHARACTERS) + "]")
# WHATWG URL parsing removes ASCII tab and newline anywhere, which is how
# "java\tscript:" becomes "javascript:" in a browser.
_TAB_NEWLINE_RE = re.compile(r"[\t\n\r]")
# Agencies escape "&" twice ("&amp;amp;" in the XML), so links are unescaped
# until no "&amp;" is left.
_ESCAPED_AMPERSAND_RE = re.compile(r"&(?:amp|#0*38|#x0*26);", re.IGNORECASE)
# Absolute http(s) URL. The authority stops at "/", "?" or "#" as in RFC 3986,
# and a backslash in it is rejected later because browsers read it as "/".
_WEB_URL_RE = re.compile(
    r"(?P<scheme>https?)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.IGNORECASE | re.DOTALL,
)
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_BAD_HOST_CHARACTER_RE = re.compile(r"[\s<>\"'`\\{}|^%]")
_PERCENT_ESCAPE_RE = re.compile(r"%[0-9a-fA-F]{2}")
# C0 controls, space and DEL are stripped from both ends as a browser does.
_EDGE_CHARACTERS = "".join(chr(c) for c in range(0x21)) + "\x7f"
_MAX_UNESCAPE_ROUNDS = 5


def clean_link(link: str | None, base: str | None = None) -> str | None:
    """Return ``link`` as an absolute http(s) URL without tracking parameters.

    ``base`` resolves a relative link. Returns None for an empty link, for any
    other scheme (``javascript:``, ``data:``, ``mailto:``, ``file:``), for a
    link with user name or password, for an invalid host or port, for a host
    that is ``localhost`` or an address outside the public internet, and for a
    result longer than ``MAX_LINK_LENGTH``. A reader following a link to a
    local host would reach their own machine or network. Scheme and host are
    lower-cased, the default port is removed and non-ASCII characters are
    percent-encoded. The fragment is kept.
    """
    if link is not None and len(link) > _MAX_LINK_SOURCE:
        return None
    parts = _split_web_url(link, base)
    if parts is None:
        return None
    scheme, host, port, path, query, fragment = parts
    if _is_local_host(host):
        return None
    result = _join(scheme, host, port, path, query, fragment)
    if len(result) > MAX_LINK_LENGTH:
        return None
    return result


def _is_local_host(host: str) -> bool:
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global


def story_key(link: str) -> str:
    """Return the comparison key for ``link``: ``clean_link`` without the fragment.

    Percent escapes are upper-cased so that ``%e4`` and ``%E4`` compare equal.
    A link that ``clean_link`` rejects is returned stripped, so that two
    different unusable links never share a key.
    """
    parts = _split_web_url(link, None)
    if parts is None:
        return (link or "").strip()
    scheme, host, port, path, query, _fragment = parts
    key = _join(scheme, host, port, path, query, "")
    return _PERCENT_ESCAPE_RE.sub(lambda m: m[0].upper(), key)


def clean_href(
    href: str, base: str | None, extra_schemes: frozenset[str] = frozenset()
) -> str | None:
    """Return an ``href`` from HTML as an absolute http(s) URL, or None.

    ``extra_schemes`` admits other schemes as they are (the sanitizer passes
    ``mailto``). Tracking parameters are kept because this is someone
    else's link inside a description, not the item's identity.
    """
    text = _strip_link_text(href)
    if not text:
        return None
    scheme = _scheme(text)
    if scheme is not None and scheme in extra_schemes:
        return text
    parts = _split_web_url(text, base, keep_tracking=True)
    if parts is None or _is_local_host(parts[1]):
        return None
    return _join(*parts)


def remove_tracking_parameters(query: str) -> str:
    """Remove well-known tracking parameters, keeping the others in their order."""
    if not query:
        return query
    pairs = query.split("&")
    remaining = [pair for pair in pairs if pair and not _is_tracking(pair)]
    if len(remaining) == len(pairs):
        return query
    return "&".join(remaining)


def _is_tracking(pair: str) -> bool:
    name = pair.partition("=")[0]
    if "%" in name or "+" in name:
        name = unquote(name.replace("+", " ")).strip()
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def _strip_link_text(link: str | None) -> str:
    if not link:
        return ""
    text = _strip_edges(link)
    if "&" not in text or ";" not in text:
        return text
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        if _ESCAPED_AMPERSAND_RE.search(text) is None:
            break
        text = _ESCAPED_AMPERSAND_RE.sub("&", text)
    if "&#" in text or "&colon;" in text.lower():
        # Numeric references such as "jav&#x61;script:" are decoded, so the
        # scheme check runs on the text a browser would use.
        text = _strip_edges(html.unescape(text))
    return text


def _strip_edges(text: str) -> str:
    text = strip_invisible(text)
    if "\t" in text or "\n" in text or "\r" in text:
        text = _TAB_NEWLINE_RE.sub("", text)
    return text.strip(_EDGE_CHARACTERS)


def _scheme(text: str) -> str | None:
    match = _SCHEME_RE.match(text)
    return match[1].lower() if match else None


def _split_web_url(
    link: str | None, base: str | None, keep_tracking: bool = False
) -> tuple[str, str, int | None, str, str, str] | None:
    """Split an http(s) link into normalized parts, or return None if unusable."""
    text = _strip_link_text(link)
    if not text:
        return None
    match = _WEB_URL_RE.fullmatch(text)
    if match is None:
        if not base or _scheme(text) is not None:
            return None
        match = _WEB_URL_RE.fullmatch(urljoin(base, text))
        if match is None:
            return None
    scheme = match["scheme"].lower()
    authority = _split_authority(match["authority"], _DEFAULT_PORTS[scheme])
    if authority is None:
        return None
    host, port = authority
    path = _quote(match["path"]) or "/"
    query = _quote(match["query"] or "")
    if not keep_tracking:
        query = remove_tracking_parameters(query)
    fragment = _quote(match["fragment"] or "")
    return scheme, host, port, path, query, fragment


def _split_authority(
    authority: str, default_port: int
) -> tuple[str, int | None] | None:
    """Return (host, port or None) or None for userinfo, a bad host or a bad port."""
    if "@" in authority:
        return None
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            return None
        hostname, rest = authority[1:end], authority[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:]
    else:
        hostname, _colon, port_text = authority.partition(":")
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
        if port == default_port:
            port = None
    host = _normalize_host(hostname)
    if host is None:
        return None
    return host, port


def _quote(component: str) -> str:
    if _UNSAFE_CHARACTER_RE.search(component) is None:
        return component
    return quote(component, safe=_SAFE_CHARACTERS)


def _normalize_host(hostname: str) -> str | None:
    if not hostname or _BAD_HOST_CHARACTER_RE.search(hostname):
        return None
    host = hostname.lower().rstrip(".")
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


def _join(
    scheme: str, host: str, port: int | None, path: str, query: str, fragment: str
) -> str:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    url = f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"
    url += path
    if query:
        url += "?" + query
    if fragment:
        url += "#" + fragment
    return url
