"""Detection of English texts that are missing or older than their Chinese source.

Pure: works on a revision's snapshot and its ``field_changes``, which store
per field the number of the revision that last changed it.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from govportal.publishing.snapshot import FieldChanges, Snapshot
from govportal.services.fields import LANGUAGE_PAIRS


class Gap(StrEnum):
    MISSING = "missing"  # Chinese text exists, English is empty
    STALE = "stale"  # the Chinese changed in a later revision than the English


@dataclass(frozen=True)
class EnglishGap:
    english_key: str
    chinese_key: str
    gap: Gap
    chinese_revision: int
    # None when the English was never filled in.
    english_revision: int | None
    chinese_changed_at: str


def english_gaps(snapshot: Snapshot, changes: FieldChanges) -> list[EnglishGap]:
    """Return the English fields that are missing or stale, in field order.

    A field empty in both languages is no gap. English that changed in the
    same revision as its Chinese counts as current.
    """
    gaps = []
    for chinese_key, english_key in LANGUAGE_PAIRS:
        if _is_empty(snapshot.get(chinese_key)):
            continue
        chinese = changes.get(chinese_key, {})
        english = changes.get(english_key, {})
        chinese_revision = int(chinese.get("revision", 0))
        english_revision = english.get("revision")
        if _is_empty(snapshot.get(english_key)):
            gap = Gap.MISSING
            english_revision = None
        elif english_revision is None or int(english_revision) < chinese_revision:
            gap = Gap.STALE
        else:
            continue
        gaps.append(
            EnglishGap(
                english_key=english_key,
                chinese_key=chinese_key,
                gap=gap,
                chinese_revision=chinese_revision,
                english_revision=english_revision,
                chinese_changed_at=str(chinese.get("at", "")),
            )
        )
    return gaps


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []
