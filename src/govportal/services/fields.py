"""The content fields of a service record, as stored in its revision snapshots.

One table drives validation, the review diff and the English staleness
report. Text in two languages is a pair of keys ending in ``_zh`` and
``_en``. Lengths are in characters (code points).
"""

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from govportal.services.vocabularies import AGE_GROUPS, LIFE_EVENTS, METHODS, Term


class Kind(StrEnum):
    LINE = "line"  # one line of text
    TEXT = "text"  # text with line breaks and tabs
    URL = "url"
    EMAIL = "email"
    PHONE = "phone"
    TERMS = "terms"  # slugs from a fixed list
    KEYWORDS = "keywords"  # a list of short lines


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: Promise
    kind: Kind
    max_length: int
    required: bool = False
    terms: tuple[Term, ...] = ()
    # For lists: the maximum number of entries.
    max_items: int = 0


MAX_KEYWORDS = 20
KEYWORD_LENGTH = 50


def _pair(
    stem: str,
    label_zh: Promise,
    label_en: Promise,
    kind: Kind,
    max_length: int,
    required_zh: bool = False,
) -> tuple[FieldSpec, FieldSpec]:
    max_items = MAX_KEYWORDS if kind == Kind.KEYWORDS else 0
    return (
        FieldSpec(f"{stem}_zh", label_zh, kind, max_length, required_zh, (), max_items),
        FieldSpec(f"{stem}_en", label_en, kind, max_length, False, (), max_items),
    )


FIELDS: tuple[FieldSpec, ...] = (
    *_pair("name", _("Chinese name"), _("English name"), Kind.LINE, 200, True),
    *_pair("summary", _("Chinese summary"), _("English summary"), Kind.TEXT, 1000),
    *_pair(
        "content",
        _("service content (Chinese)"),
        _("service content (English)"),
        Kind.TEXT,
        20000,
        True,
    ),
    *_pair(
        "eligibility",
        _("eligibility (Chinese)"),
        _("eligibility (English)"),
        Kind.TEXT,
        5000,
    ),
    FieldSpec(
        "methods", _("application methods"), Kind.TERMS, 0, terms=METHODS, max_items=4
    ),
    *_pair(
        "method_details",
        _("how to apply (Chinese)"),
        _("how to apply (English)"),
        Kind.TEXT,
        5000,
    ),
    *_pair(
        "documents",
        _("required documents (Chinese)"),
        _("required documents (English)"),
        Kind.TEXT,
        5000,
    ),
    *_pair(
        "processing_time",
        _("processing time (Chinese)"),
        _("processing time (English)"),
        Kind.LINE,
        200,
    ),
    *_pair("fees", _("fees (Chinese)"), _("fees (English)"), Kind.TEXT, 2000),
    *_pair(
        "handling_unit",
        _("handling unit (Chinese)"),
        _("handling unit (English)"),
        Kind.LINE,
        200,
    ),
    FieldSpec("contact_phone", _("contact phone"), Kind.PHONE, 60),
    FieldSpec("contact_email", _("contact email"), Kind.EMAIL, 254),
    *_pair(
        "legal_basis",
        _("legal basis (Chinese)"),
        _("legal basis (English)"),
        Kind.TEXT,
        5000,
    ),
    FieldSpec("application_url", _("online application address"), Kind.URL, 2000),
    *_pair("notes", _("notes (Chinese)"), _("notes (English)"), Kind.TEXT, 5000),
    FieldSpec(
        "categories",
        _("life-event categories"),
        Kind.TERMS,
        0,
        terms=LIFE_EVENTS,
        max_items=len(LIFE_EVENTS),
    ),
    FieldSpec(
        "age_groups",
        _("age groups"),
        Kind.TERMS,
        0,
        terms=AGE_GROUPS,
        max_items=len(AGE_GROUPS),
    ),
    *_pair(
        "keywords",
        _("Chinese keywords"),
        _("English keywords"),
        Kind.KEYWORDS,
        KEYWORD_LENGTH,
    ),
)

FIELDS_BY_KEY: dict[str, FieldSpec] = {spec.key: spec for spec in FIELDS}
FIELD_ORDER: list[str] = [spec.key for spec in FIELDS]

# (Chinese key, English key) for every text that exists in both languages.
LANGUAGE_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (spec.key, spec.key[:-3] + "_en") for spec in FIELDS if spec.key.endswith("_zh")
)


def empty_value(spec: FieldSpec) -> str | list[str]:
    """Return the stored value of a field left empty."""
    return [] if spec.kind in (Kind.TERMS, Kind.KEYWORDS) else ""
