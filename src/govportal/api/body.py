"""Strict reading of JSON request bodies.

The standard ``json`` module accepts ``NaN`` and ``Infinity``, keeps the last
of duplicate members and raises ``RecursionError`` on deep nesting. Each of
these is rejected here before the data reaches validation, and every text is
brought to Unicode NFC, so the same text typed in composed or decomposed form
is stored, compared and hashed as one.
"""

import json
import unicodedata
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from govportal.api.errors import ApiError, field_entry, invalid_input
from govportal.services.errors import NON_FIELD

# A maximal service record is about 53,000 Chinese and as many English
# characters: 210 KB as UTF-8, and about 370 KB when a client escapes every
# Chinese character as \uXXXX (the default of Python's json.dumps).
DEFAULT_MAX_BODY_BYTES = 512 * 1024
# A service record is an object of texts and lists of texts: two levels.
MAX_DEPTH = 8
# Python's int() rejects numbers above 4,300 digits with a ValueError, and no
# field of the API is a number, so long numbers are cut off much earlier.
MAX_NUMBER_DIGITS = 30
JSON_MEDIA_TYPE = "application/json"


class _InvalidJson(Exception):
    def __init__(self, code: str, params: dict[str, Any]) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def max_body_bytes() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def read_json_body(request: HttpRequest) -> Any:
    """Return the decoded JSON body, or raise ``ApiError`` (413, 415 or 422)."""
    _check_content_type(request)
    limit = max_body_bytes()
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        size = int(declared)
    except ValueError:
        raise ApiError(415, "unsupported_media_type") from None
    # Checked before the body is read, so an oversized body is never buffered.
    if size > limit:
        raise ApiError(413, "body_too_large", {"size": size, "max": limit})
    return parse_json(request.body)


def _check_content_type(request: HttpRequest) -> None:
    header = request.META.get("CONTENT_TYPE", "")
    media_type, _separator, parameters = header.partition(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        raise ApiError(415, "unsupported_media_type")
    for parameter in parameters.split(";"):
        name, _equals, value = parameter.partition("=")
        if not name.strip():
            continue
        if name.strip().lower() != "charset" or value.strip().strip(
            '"'
        ).lower() not in {
            "utf-8",
            "utf8",
        }:
            raise ApiError(415, "unsupported_media_type")


def parse_json(raw: bytes) -> Any:
    """Decode UTF-8 JSON strictly and return it with every text in NFC."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(415, "unsupported_media_type") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise _json_error("too_deep", {"max": MAX_DEPTH})
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except _InvalidJson as error:
        raise _json_error(error.code, error.params) from None
    except json.JSONDecodeError as error:
        raise ApiError(
            415, "not_json", {"line": error.lineno, "column": error.colno}
        ) from None
    try:
        return normalize(data)
    except _InvalidJson as error:
        raise _json_error(error.code, error.params) from None


def _json_error(code: str, params: dict[str, Any]) -> ApiError:
    return invalid_input({NON_FIELD: [field_entry(code, params)]})


def nesting_depth(text: str) -> int:
    """Return the deepest nesting of arrays and objects, ignoring brackets in strings.

    Runs before ``json.loads``, whose recursion would fail on deep input.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif character in "]}":
            depth -= 1
    return deepest


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _InvalidJson("duplicate_key", {"key": key[:60]})
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _InvalidJson("not_a_number", {"value": name})


def _parse_int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_DIGITS:
        raise _InvalidJson("number_too_long", {"max": MAX_NUMBER_DIGITS})
    return int(digits)


def _parse_float(digits: str) -> float:
    if len(digits) > MAX_NUMBER_DIGITS:
        raise _InvalidJson("number_too_long", {"max": MAX_NUMBER_DIGITS})
    value = float(digits)
    if value != value or value in (float("inf"), float("-inf")):
        # 1e999 overflows to infinity, which JSON cannot carry back.
        raise _InvalidJson("not_a_number", {"value": digits})
    return value


def normalize(value: Any) -> Any:
    """Return ``value`` with every text, member names included, in Unicode NFC.

    Two member names that differ only in composition count as duplicates.

    NFC keeps fullwidth letters such as ＧＯＶ distinct from GOV, because NFKC
    would also rewrite characters agencies choose on purpose (fullwidth
    digits and punctuation in Chinese text, circled numbers).
    """
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            name = unicodedata.normalize("NFC", key)
            if name in result:
                raise _InvalidJson("duplicate_key", {"key": name[:60]})
            result[name] = normalize(item)
        return result
    return value
