"""Snapshots: hash, per-field change stamps and the field-by-field diff."""

from datetime import UTC, datetime

from govportal.publishing.snapshot import (
    LineChange,
    carry_field_changes,
    content_hash,
    diff_snapshots,
)

T1 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def test_content_hash_ignores_key_order():
    first = content_hash({"name_zh": "護照", "fees_zh": "1300元"})
    second = content_hash({"fees_zh": "1300元", "name_zh": "護照"})

    assert first == second
    assert len(first) == 64


def test_content_hash_changes_with_content():
    assert content_hash({"name_zh": "護照"}) != content_hash({"name_zh": "護照 "})


def test_field_changes_stamp_changed_fields():
    first = carry_field_changes({}, {}, {"name_zh": "甲", "name_en": "A"}, 1, T1)
    second = carry_field_changes(
        {"name_zh": "甲", "name_en": "A"},
        first,
        {"name_zh": "乙", "name_en": "A", "notes_zh": "新"},
        2,
        T2,
    )

    assert second["name_zh"] == {"revision": 2, "at": T2.isoformat()}
    assert second["name_en"] == {"revision": 1, "at": T1.isoformat()}
    assert second["notes_zh"]["revision"] == 2


def test_field_changes_drop_removed_fields():
    first = carry_field_changes({}, {}, {"a": "1", "b": "2"}, 1, T1)
    second = carry_field_changes({"a": "1", "b": "2"}, first, {"a": "1"}, 2, T2)

    assert set(second) == {"a"}


def test_diff_lists_only_changed_fields():
    old = {"name_zh": "護照", "fees_zh": "1300元", "methods": ["online"]}
    new = {"name_zh": "護照", "fees_zh": "900元", "methods": ["online", "mail"]}

    changes = diff_snapshots(old, new, order=["name_zh", "methods", "fees_zh"])

    assert [change.key for change in changes] == ["methods", "fees_zh"]
    assert changes[1].old == "1300元"
    assert changes[1].new == "900元"
    assert changes[1].kind == "changed"


def test_diff_treats_missing_as_empty():
    changes = diff_snapshots({"notes_zh": ""}, {"name_en": "Passport"})

    assert [(change.key, change.kind) for change in changes] == [("name_en", "added")]


def test_diff_of_multiline_text_by_line():
    old = {"content_zh": "第一行\n第二行"}
    new = {"content_zh": "第一行\n第二行改\n第三行"}

    (change,) = diff_snapshots(old, new)

    assert change.lines == [
        LineChange(" ", "第一行"),
        LineChange("-", "第二行"),
        LineChange("+", "第二行改"),
        LineChange("+", "第三行"),
    ]


def test_single_line_diff_has_no_lines():
    (change,) = diff_snapshots({"name_zh": "甲"}, {"name_zh": "乙"})

    assert change.lines == []
