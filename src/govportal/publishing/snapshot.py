"""Snapshots of content: canonical JSON, content hash, per-field history, diff.

A snapshot is a dict of JSON values (text, numbers, lists of text) keyed by
field name. Everything here is pure.
"""

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

type Snapshot = dict[str, Any]
# Per field: the number and time of the revision that last changed it.
type FieldChanges = dict[str, dict[str, Any]]


def canonical_json(snapshot: Snapshot) -> str:
    """Serialise a snapshot so that equal content gives equal text."""
    return json.dumps(
        snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def content_hash(snapshot: Snapshot) -> str:
    """Return the SHA-256 hex digest of the snapshot's canonical JSON."""
    return hashlib.sha256(canonical_json(snapshot).encode()).hexdigest()


def carry_field_changes(
    previous: Snapshot,
    previous_changes: FieldChanges,
    snapshot: Snapshot,
    number: int,
    at: datetime,
) -> FieldChanges:
    """Return when each field of ``snapshot`` last changed, given the revision before.

    A field whose value differs from ``previous`` (or is new) is stamped with
    this revision's ``number`` and ``at``. The others keep their old stamp.
    Fields absent from ``snapshot`` are dropped.
    """
    stamp = {"revision": number, "at": at.isoformat()}
    changes: FieldChanges = {}
    for key, value in snapshot.items():
        unchanged = key in previous and previous[key] == value
        if unchanged and key in previous_changes:
            changes[key] = previous_changes[key]
        else:
            changes[key] = dict(stamp)
    return changes


@dataclass(frozen=True)
class LineChange:
    """One line of a text diff: ``op`` is "+" (added), "-" (removed) or " "."""

    op: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two snapshots."""

    key: str
    old: Any
    new: Any
    # A line diff, only when both values are text and one has several lines.
    lines: list[LineChange] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """Return "added", "removed" or "changed" for the field as a whole."""
        if _is_empty(self.old):
            return "added"
        if _is_empty(self.new):
            return "removed"
        return "changed"


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def diff_snapshots(
    old: Snapshot, new: Snapshot, order: list[str] | None = None
) -> list[FieldChange]:
    """Return the fields that differ between ``old`` and ``new``.

    Fields follow ``order`` when given, then the remaining keys sorted. A
    field missing from one side counts as empty there.
    """
    keys = list(order or [])
    keys += sorted((set(old) | set(new)) - set(keys))
    changes = []
    for key in keys:
        before, after = old.get(key), new.get(key)
        if before == after or (_is_empty(before) and _is_empty(after)):
            continue
        changes.append(FieldChange(key, before, after, _line_diff(before, after)))
    return changes


def _line_diff(old: Any, new: Any) -> list[LineChange]:
    old_text = old if isinstance(old, str) else ""
    new_text = new if isinstance(new, str) else ""
    if not isinstance(new, str) or ("\n" not in old_text and "\n" not in new_text):
        return []
    ndiff = difflib.ndiff(old_text.splitlines(), new_text.splitlines())
    # ndiff's "? " lines are intraline hints meant for a terminal.
    return [LineChange(line[0], line[2:]) for line in ndiff if line[0] in "+- "]
