"""Choose the encoding of a feed body and decode it to str.

Order of trust: byte order mark, HTTP charset, XML declaration. Each choice is
checked by decoding strictly. When nothing is declared, UTF-8 (the XML and
JSON default) is tried, then CP950. The resulting str is never decoded again:
the XML reader hands lxml UTF-8 bytes without an encoding declaration.
"""

import codecs
import re
from dataclasses import dataclass, field

CHARSET_MISMATCH = "charset mismatch"
ENCODING_GUESSED = "encoding guessed"
INVALID_BYTES_REPLACED = "invalid bytes replaced"
UNKNOWN_CHARSET = "unknown charset"

# Python's strict "big5" codec lacks characters that Taiwanese servers send
# under that label (恒, 銹 and the Microsoft extensions), and CP950 is the
# superset that Windows and browsers use for it. Big5-HKSCS keeps its own
# codec, which has the Hong Kong characters that CP950 lacks.
_LABEL_ALIASES = {
    "big5": "cp950",
    "big-5": "cp950",
    "big5-hkscs": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "x-x-big5": "cp950",
    "x-big5": "cp950",
    "cn-big5": "cp950",
    "csbig5": "cp950",
    "ms950": "cp950",
    "windows-950": "cp950",
    "x-windows-950": "cp950",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    # WHATWG Encoding: these labels mean windows-1252.
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
# UTF-7 lets "+ADw-" become "<", a known filter bypass, so it is never honoured.
_REJECTED_CODECS = frozenset({"utf-7"})
_WIDE_CODECS = ("utf-16", "utf-32")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARATION_RE = re.compile(
    rb"""\s*<\?xml\s[^>]{0,200}?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]{0,39})["']"""
)
# A few replaced bytes in a UTF-8 feed are damage; many mean another encoding.
_MAX_REPLACED_SHARE = 0.02


@dataclass
class DecodedBody:
    """A body decoded to str, with the codec name used and warnings."""

    text: str
    encoding: str
    flags: list[str] = field(default_factory=list)


def normalize_charset(label: str | None) -> str | None:
    """Return the Python codec name for a charset label, or None if unusable."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    label = _LABEL_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # Rejects bytes-to-bytes codecs such as "base64" or "zlib".
    if not getattr(info, "_is_text_encoding", True):
        return None
    name = info.name
    if name in _REJECTED_CODECS:
        return None
    return _LABEL_ALIASES.get(name, name)


def decode_body(body: bytes, header_charset: str | None = None) -> DecodedBody:
    """Decode ``body`` with the codec chosen by the rules in the module docstring."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _decode_with_fallback(body[len(bom) :], codec, [])

    flags: list[str] = []
    declared: list[str] = []
    header = normalize_charset(header_charset)
    if header_charset and header is None:
        flags.append(UNKNOWN_CHARSET)
    if header:
        declared.append(header)
    utf16 = _sniff_utf16(body)
    if utf16:
        if header and not header.startswith("utf-16"):
            flags.append(CHARSET_MISMATCH)
        return _decode_with_fallback(body, utf16, flags)
    match = _DECLARATION_RE.match(body, 0, 1024)
    if match:
        prolog = normalize_charset(match[1].decode("ascii"))
        if prolog is None:
            flags.append(UNKNOWN_CHARSET)
        elif prolog not in declared:
            declared.append(prolog)

    if any(codec.startswith(_WIDE_CODECS) for codec in declared):
        # Without a byte order mark or NUL bytes the body is not UTF-16/32.
        declared = [c for c in declared if not c.startswith(_WIDE_CODECS)]
        flags.append(CHARSET_MISMATCH)
    if not declared:
        return _decode_undeclared(body, flags)

    if len(declared) == 2 and declared[1] == "utf-8" and _is_utf8_text(body):
        # Valid multi-byte UTF-8 almost never happens by chance in a legacy
        # encoding, so a UTF-8 prolog beats a header that names another charset.
        flags.append(CHARSET_MISMATCH)
        return DecodedBody(body.decode("utf-8"), "utf-8", flags)
    for position, codec in enumerate(declared):
        text = _decode_strict(body, codec)
        if text is not None:
            if position > 0:
                flags.append(CHARSET_MISMATCH)
            return DecodedBody(text, codec, flags)

    # No declared codec decodes the body without errors.
    guessed = _guess(body)
    if guessed is not None and guessed.encoding not in declared:
        guessed.flags[:0] = [*flags, CHARSET_MISMATCH]
        return guessed
    if "utf-8" in declared:
        return _decode_replacing(body, "utf-8", flags)
    return _decode_replacing(body, declared[0], flags)


def _decode_undeclared(body: bytes, flags: list[str]) -> DecodedBody:
    guessed = _guess(body)
    if guessed is None:
        flags.append(ENCODING_GUESSED)
        return _decode_replacing(body, "utf-8", flags)
    if guessed.encoding == "utf-8":
        # UTF-8 is the default of XML and JSON, so it is not a guess.
        guessed.flags.clear()
    guessed.flags[:0] = flags
    return guessed


def _guess(body: bytes) -> DecodedBody | None:
    """Return the body decoded as UTF-8 or CP950 when that decoding is clean.

    A UTF-8 body with a few damaged bytes stays UTF-8, because CP950 accepts
    many byte pairs and would turn the damage into wrong characters.
    """
    text = _decode_strict(body, "utf-8")
    if text is not None:
        return DecodedBody(text, "utf-8", [ENCODING_GUESSED])
    if _utf8_damage_is_small(body):
        return None
    text = _decode_strict(body, "cp950")
    if text is not None:
        return DecodedBody(text, "cp950", [ENCODING_GUESSED])
    return None


def _decode_with_fallback(body: bytes, codec: str, flags: list[str]) -> DecodedBody:
    text = _decode_strict(body, codec)
    if text is not None:
        return DecodedBody(text, codec, flags)
    return _decode_replacing(body, codec, flags)


def _decode_strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        return None


def _decode_replacing(body: bytes, codec: str, flags: list[str]) -> DecodedBody:
    flags.append(INVALID_BYTES_REPLACED)
    return DecodedBody(body.decode(codec, errors="replace"), codec, flags)


def _is_utf8_text(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8_damage_is_small(body: bytes) -> bool:
    text = body.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return replaced <= non_ascii * _MAX_REPLACED_SHARE


def _sniff_utf16(body: bytes) -> str | None:
    # "<?" or "<r" with a NUL on one side: UTF-16 without a byte order mark.
    head = body[:4]
    if len(head) < 4:
        return None
    if head[0] == 0x3C and head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    if head[0] == 0 and head[1] == 0x3C and head[2] == 0:
        return "utf-16-be"
    return None
