"""Validation of service data: the one check used by the API and the back office.

``validate_service`` takes the decoded JSON of a full service record and
returns the snapshot to store, with every key present, text trimmed, line
breaks as ``\\n`` and lists in a canonical order. Text is stored as typed:
markup such as ``<script>`` is kept as text and escaped when shown.
"""

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from govportal.publishing.snapshot import Snapshot
from govportal.services.errors import (
    NON_FIELD,
    FieldError,
    ServiceValidationError,
)
from govportal.services.fields import (
    FIELDS,
    FIELDS_BY_KEY,
    KEYWORD_LENGTH,
    FieldSpec,
    Kind,
)

# Unicode categories rejected in any text: controls (Cc, except the layout
# characters below), format characters (Cf: zero-width, bidi embeddings,
# overrides and isolates, soft hyphen, BOM), surrogates and the line and
# paragraph separators. Private-use characters (Co) are allowed because
# agencies use them for rare characters in personal and place names.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
LAYOUT_CHARACTERS = frozenset("\n\r\t")

# Digits with the separators people write in Taiwanese numbers, such as
# "(02)2311-2345#123", "+886-2-2311-2345" and "1999".
PHONE_PATTERN = re.compile(r"\+?[0-9 ()\-]+(?:#[0-9]{1,6})?")
# E.164 allows at most 15 digits, and short numbers such as 110 have 3.
PHONE_DIGITS = (3, 15)

SERVICE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]*")
SERVICE_ID_LENGTH = 100
SERVICE_ID_LABEL = _("agency's service ID")

_https_url = URLValidator(schemes=["https"])
# A public contact address needs a real domain, so "localhost" is not allowed.
_email = EmailValidator(allowlist=[])


def validate_service(data: object) -> Snapshot:
    """Clean a service record or raise ``ServiceValidationError`` with every problem."""
    if not isinstance(data, Mapping):
        raise ServiceValidationError([FieldError(NON_FIELD, "not_an_object")])
    errors = [
        FieldError(str(key), "unknown_field", {"field": str(key)[:60]})
        for key in data
        if key not in FIELDS_BY_KEY
    ]
    snapshot: Snapshot = {}
    for spec in FIELDS:
        value, field_errors = clean_field(spec, data.get(spec.key))
        snapshot[spec.key] = value
        errors.extend(field_errors)
    if errors:
        raise ServiceValidationError(errors)
    return snapshot


def validate_agency_service_id(value: object) -> str:
    """Return the agency's service id trimmed, or raise ``ServiceValidationError``."""
    key = "agency_service_id"
    if not isinstance(value, str):
        raise ServiceValidationError(
            [FieldError(key, "not_text", {"field": SERVICE_ID_LABEL})]
        )
    value = value.strip()
    if len(value) > SERVICE_ID_LENGTH or SERVICE_ID_PATTERN.fullmatch(value) is None:
        params = {"field": SERVICE_ID_LABEL, "max": SERVICE_ID_LENGTH}
        raise ServiceValidationError([FieldError(key, "invalid_service_id", params)])
    return value


def clean_field(spec: FieldSpec, raw: object) -> tuple[Any, list[FieldError]]:
    """Return one field's stored value and its errors (an empty list when valid)."""
    if spec.kind == Kind.TERMS:
        return _clean_terms(spec, raw)
    if spec.kind == Kind.KEYWORDS:
        return _clean_keywords(spec, raw)
    text, errors = clean_text(spec, raw)
    if not errors and text:
        errors = _check_format(spec, text)
    return text, errors


def clean_text(
    spec: FieldSpec, raw: object, max_length: int | None = None
) -> tuple[str, list[FieldError]]:
    """Return text trimmed and with ``\\n`` line breaks, and its errors."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        return "", [_error(spec, "not_text")]
    problem = _character_problem(spec, raw)
    if problem is not None:
        return "", [problem]
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    limit = max_length or spec.max_length
    if len(text) > limit:
        return "", [_error(spec, "too_long", length=len(text), max=limit)]
    if spec.required and not text:
        return "", [_error(spec, "required")]
    return text, []


def _character_problem(spec: FieldSpec, text: str) -> FieldError | None:
    one_line = spec.kind != Kind.TEXT
    for index, character in enumerate(text):
        if character in LAYOUT_CHARACTERS:
            if one_line:
                return _error(spec, "line_break", position=index + 1)
            continue
        if _is_forbidden(character):
            codepoint = f"U+{ord(character):04X}"
            return _error(
                spec, "forbidden_character", codepoint=codepoint, position=index + 1
            )
    return None


def _is_forbidden(character: str) -> bool:
    codepoint = ord(character)
    noncharacter = 0xFDD0 <= codepoint <= 0xFDEF or codepoint & 0xFFFE == 0xFFFE
    return noncharacter or unicodedata.category(character) in FORBIDDEN_CATEGORIES


def _check_format(spec: FieldSpec, text: str) -> list[FieldError]:
    if spec.kind == Kind.URL:
        code = url_problem(text)
    elif spec.kind == Kind.EMAIL:
        code = _validator_problem(_email, text, "invalid_email")
    elif spec.kind == Kind.PHONE:
        code = None if is_phone_number(text) else "invalid_phone"
    else:
        code = None
    return [] if code is None else [_error(spec, code)]


def url_problem(text: str) -> str | None:
    """Return the error code for an address that is not public https, else None."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return "invalid_url"
    if parts.scheme.lower() != "https" or not parts.netloc:
        return "not_https"
    if "@" in parts.netloc:
        return "url_credentials"
    return _validator_problem(_https_url, text, "invalid_url")


def is_phone_number(text: str) -> bool:
    """Tell whether ``text`` reads as one phone number with an optional extension."""
    if PHONE_PATTERN.fullmatch(text) is None:
        return False
    digits = sum(character.isdigit() for character in text.split("#")[0])
    return PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]


def _validator_problem(validator: Any, text: str, code: str) -> str | None:
    try:
        validator(text)
    except ValidationError:
        return code
    return None


def _clean_terms(spec: FieldSpec, raw: object) -> tuple[list[str], list[FieldError]]:
    values, errors = _as_text_list(spec, raw)
    allowed = [term.slug for term in spec.terms]
    for value in values:
        if value not in allowed:
            shown = value[:60]
            errors.append(
                _error(spec, "unknown_term", value=shown, allowed=", ".join(allowed))
            )
    # The fixed order makes equal selections give equal snapshots.
    chosen = set(values)
    return [slug for slug in allowed if slug in chosen], errors


def _clean_keywords(spec: FieldSpec, raw: object) -> tuple[list[str], list[FieldError]]:
    values, errors = _as_text_list(spec, raw)
    keywords: list[str] = []
    seen: set[str] = set()
    one_line = FieldSpec(spec.key, spec.label, Kind.LINE, KEYWORD_LENGTH)
    for position, value in enumerate(values, start=1):
        keyword, keyword_errors = clean_text(one_line, value)
        if not keyword and not keyword_errors:
            keyword_errors = [_error(spec, "empty_entry", position=position)]
        errors.extend(keyword_errors)
        if keyword and keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            keywords.append(keyword)
    if len(keywords) > spec.max_items:
        errors.append(_error(spec, "too_many", count=len(keywords), max=spec.max_items))
    return keywords, errors


def _as_text_list(spec: FieldSpec, raw: object) -> tuple[list[str], list[FieldError]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        return [], [_error(spec, "not_list")]
    return list(raw), []


def _error(spec: FieldSpec, code: str, **params: Any) -> FieldError:
    return FieldError(spec.key, code, {"field": spec.label, **params})
