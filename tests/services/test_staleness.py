"""Which English texts are missing or older than their Chinese source."""

from govportal.services.staleness import Gap, english_gaps


def stamp(revision):
    return {"revision": revision, "at": f"2025-06-0{revision}T00:00:00+00:00"}


def test_missing_english_reported():
    snapshot = {"name_zh": "護照申請", "name_en": ""}

    (gap,) = english_gaps(snapshot, {"name_zh": stamp(1), "name_en": stamp(1)})

    assert gap.english_key == "name_en"
    assert gap.gap == Gap.MISSING
    assert gap.english_revision is None


def test_english_older_than_chinese_reported():
    snapshot = {"name_zh": "護照換發", "name_en": "Passport application"}

    (gap,) = english_gaps(snapshot, {"name_zh": stamp(3), "name_en": stamp(1)})

    assert gap.gap == Gap.STALE
    assert gap.chinese_revision == 3
    assert gap.english_revision == 1
    assert gap.chinese_changed_at == stamp(3)["at"]


def test_english_changed_later_is_current():
    snapshot = {"name_zh": "護照", "name_en": "Passport"}

    assert english_gaps(snapshot, {"name_zh": stamp(1), "name_en": stamp(2)}) == []


def test_same_revision_is_current():
    snapshot = {"name_zh": "護照", "name_en": "Passport"}

    assert english_gaps(snapshot, {"name_zh": stamp(2), "name_en": stamp(2)}) == []


def test_empty_pair_is_no_gap():
    snapshot = {"fees_zh": "", "fees_en": "", "keywords_zh": [], "keywords_en": []}

    assert english_gaps(snapshot, {}) == []


def test_keywords_without_english_reported():
    snapshot = {"keywords_zh": ["護照"], "keywords_en": []}

    (gap,) = english_gaps(snapshot, {"keywords_zh": stamp(1)})

    assert (gap.english_key, gap.gap) == ("keywords_en", Gap.MISSING)


def test_gaps_follow_field_order():
    snapshot = {"name_zh": "甲", "fees_zh": "乙", "summary_zh": "丙"}

    gaps = english_gaps(snapshot, {})

    assert [gap.english_key for gap in gaps] == ["name_en", "summary_en", "fees_en"]
