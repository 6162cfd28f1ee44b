"""The conformance report the sandbox returns with every write.

It shows an integration, before it goes live, what production would reject,
which English texts are missing or older than the Chinese, and what a
central reviewer is likely to return.
"""

from typing import Any

from govportal.api.errors import field_entry
from govportal.publishing.snapshot import FieldChanges, Snapshot
from govportal.services.staleness import english_gaps

# Below this many characters the Chinese content rarely gives the public
# enough to apply. An estimate of reviewers' practice, not a rule they write.
MIN_CONTENT_LENGTH = 30


def review_hints(snapshot: Snapshot) -> list[dict[str, str]]:
    """Return the problems a reviewer will likely send back, in field order."""
    hints = []
    methods = snapshot.get("methods") or []
    has_url = bool(snapshot.get("application_url"))
    if "online" in methods and not has_url:
        hints.append(_hint("application_url", "hint_online_without_url"))
    if has_url and "online" not in methods:
        hints.append(_hint("methods", "hint_url_without_online"))
    content = str(snapshot.get("content_zh") or "")
    if len(content) < MIN_CONTENT_LENGTH:
        params = {"length": len(content), "min": MIN_CONTENT_LENGTH}
        hints.append(_hint("content_zh", "hint_short_content", params))
    if not snapshot.get("contact_phone") and not snapshot.get("contact_email"):
        hints.append(_hint("contact_phone", "hint_no_contact"))
    if not snapshot.get("categories"):
        hints.append(_hint("categories", "hint_no_category"))
    return hints


def _hint(
    field: str, code: str, params: dict[str, Any] | None = None
) -> dict[str, str]:
    return {"field": field, **field_entry(code, params or {})}


def accepted_report(snapshot: Snapshot, changes: FieldChanges) -> dict[str, Any]:
    """Return the report for data production would accept."""
    gaps = [
        {
            "field": gap.english_key,
            "source_field": gap.chinese_key,
            "gap": gap.gap.value,
            "source_revision": gap.chinese_revision,
            "english_revision": gap.english_revision,
        }
        for gap in english_gaps(snapshot, changes)
    ]
    return {
        "accepted_in_production": True,
        "errors": {},
        "english_gaps": gaps,
        "review_hints": review_hints(snapshot),
    }


def rejected_report(errors: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    """Return the report for data production would reject with ``errors``."""
    return {
        "accepted_in_production": False,
        "errors": errors,
        "english_gaps": [],
        "review_hints": [],
    }
