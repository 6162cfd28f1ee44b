"""Reading the official agency lists and matching OIDs to agency codes.

Pure functions over the files' rows; ``importer`` writes the result to the
database. The DGPA code list and the OID directory name agencies
independently: the only shared key is the Chinese name, which repeats across
counties (every county has a 戶政事務所), so a match also has to agree on the
parent agency or the phone number.
"""

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
DGPA_FILE = DATA_DIR / "dgpa-agency-codes-2014.csv"
OID_FILE = DATA_DIR / "oid-directory-2018-01-28.csv"
OID_CHANGES_FILE = DATA_DIR / "oid-change-history.csv"
TOP_LEVEL_FILE = DATA_DIR / "top-level-agencies-en-2013.json"

CODE_PATTERN = re.compile(r"^[0-9A-Z]{10}$")
OID_PATTERN = re.compile(r"^2\.16\.886(\.\d+)+$")


@dataclass
class AgencyRecord:
    code: str | None
    oid: str | None
    name_zh: str
    name_en: str = ""
    parent_code: str | None = None
    parent_oid: str | None = None
    level: int | None = None
    website: str = ""
    phone: str = ""
    address: str = ""
    established_on: date | None = None
    abolished_on: date | None = None
    successor_code: str | None = None
    source: str = "dgpa"


@dataclass
class MatchReport:
    dgpa_rows: int = 0
    oid_rows: int = 0
    oid_matched: int = 0
    oid_only: int = 0
    ambiguous_names: list[str] = field(default_factory=list)


def parse_roc_date(text: str) -> date | None:
    """Read a ROC ``yyyMMdd`` date (``0961106`` is 2007-11-06); zeros mean none."""
    text = (text or "").strip()
    if not text.isdigit() or len(text) != 7 or int(text) == 0:
        return None
    year, month, day = int(text[:3]) + 1911, int(text[3:5]), int(text[5:7])
    try:
        return date(year, month, day)
    except ValueError:
        return None


def normalise_phone(text: str) -> str:
    return re.sub(r"[^0-9]", "", text or "")


def read_dgpa(path: Path = DGPA_FILE) -> list[AgencyRecord]:
    records = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["機關代碼"].strip()
            if not CODE_PATTERN.match(code):
                continue
            successor = row.get("新機關代碼", "").strip()
            level = row.get("機關層級", "").strip()
            records.append(
                AgencyRecord(
                    code=code,
                    oid=None,
                    name_zh=row["機關名稱"].strip(),
                    parent_code=row.get("主管機關代碼", "").strip() or None,
                    level=int(level) if level.isdigit() else None,
                    phone=row.get("機關電話", "").strip().rstrip("-"),
                    address=row.get("機關地址", "").strip(),
                    established_on=parse_roc_date(row.get("機關生效日期", "")),
                    abolished_on=parse_roc_date(row.get("機關裁撤日期", "")),
                    successor_code=successor if CODE_PATTERN.match(successor) else None,
                )
            )
    return records


def read_oid_directory(path: Path = OID_FILE) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            {
                "name": row["機關名稱"].strip(),
                "oid": row["OID"].strip(),
                "phone": row.get("電話", "").strip(),
                "address": row.get("地址", "").strip(),
            }
            for row in csv.DictReader(handle)
            if OID_PATTERN.match(row["OID"].strip())
        ]


def read_renames(path: Path = OID_CHANGES_FILE) -> dict[str, str]:
    """Map each agency's new name to its old one, from the OID change history."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {
            row["new_name"].strip(): row["old_name"].strip()
            for row in csv.DictReader(handle)
            if row.get("new_name") and row.get("old_name")
        }


def read_top_level(path: Path = TOP_LEVEL_FILE) -> list[dict[str, str]]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        {
            "code": (row.get("機關代號") or "").strip(),
            "oid": (row.get("機關OID") or "").strip(),
            "name": (row.get("機關名稱") or "").strip(),
            "name_en": (row.get("機關英文名稱") or "").strip(),
            "website": (row.get("機關網址") or "").strip(),
        }
        for row in rows
    ]


def oid_parent(oid: str) -> str | None:
    head, _, _ = oid.rpartition(".")
    return head if OID_PATTERN.match(head) else None


def _name_variants(name: str, renames: dict[str, str]) -> list[str]:
    variants = [name]
    if name.startswith("行政院") and len(name) > 3:
        variants.append(name[3:])
    else:
        variants.append("行政院" + name)
    if name in renames:
        variants.append(renames[name])
    return variants


def _pick(
    candidates: list[AgencyRecord], parent_code: str | None, phone: str
) -> AgencyRecord | None:
    if len(candidates) == 1:
        return candidates[0]
    live = [c for c in candidates if c.abolished_on is None] or candidates
    if len(live) == 1:
        return live[0]
    if parent_code:
        by_parent = [c for c in live if c.parent_code == parent_code]
        if len(by_parent) == 1:
            return by_parent[0]
        live = by_parent or live
    digits = normalise_phone(phone)
    if digits:
        by_phone = [c for c in live if normalise_phone(c.phone) == digits]
        if len(by_phone) == 1:
            return by_phone[0]
        live = by_phone or live
    # The code list carries both the old and the renumbered code of some
    # agencies, such as 內政部 (301000000A and, from 2022, A01000000A). The
    # newest is the one in use.
    dated = sorted(live, key=lambda c: c.established_on or date.min, reverse=True)
    if len(dated) > 1 and (dated[0].established_on or date.min) > (
        dated[1].established_on or date.min
    ):
        return dated[0]
    return None


def merge_registries(
    dgpa: list[AgencyRecord],
    oid_rows: Iterable[dict[str, str]],
    top_level: Iterable[dict[str, str]],
    renames: dict[str, str],
) -> tuple[list[AgencyRecord], MatchReport]:
    """Join the OID directory onto the code list and return one record per agency.

    Agencies in the OID directory that match no code (created after the code
    list was published, or named differently) become OID-only records, so a
    feed item tagged with their OID can still be credited to them.
    """
    report = MatchReport(dgpa_rows=len(dgpa))
    by_code = {record.code: record for record in dgpa}
    by_name: dict[str, list[AgencyRecord]] = defaultdict(list)
    for record in dgpa:
        by_name[record.name_zh].append(record)

    code_of_oid: dict[str, str] = {}
    for row in top_level:
        top = by_code.get(row["code"])
        if top is None or not OID_PATTERN.match(row["oid"]):
            continue
        record = top
        record.oid = row["oid"]
        record.name_en = row["name_en"]
        record.website = row["website"]
        code_of_oid[row["oid"]] = row["code"]

    oid_only: list[AgencyRecord] = []
    # Parents come before children, so a child is matched by its parent's code.
    rows = sorted(oid_rows, key=lambda row: row["oid"].count("."))
    report.oid_rows = len(rows)
    for row in rows:
        oid = row["oid"]
        if oid in code_of_oid:
            report.oid_matched += 1
            continue
        parent = oid_parent(oid)
        parent_code = code_of_oid.get(parent) if parent else None
        match = None
        for name in _name_variants(row["name"], renames):
            candidates = [c for c in by_name.get(name, []) if c.oid is None]
            match = _pick(candidates, parent_code, row["phone"])
            if match is not None:
                break
            if len(candidates) > 1:
                report.ambiguous_names.append(row["name"])
        if match is not None:
            match.oid = oid
            code_of_oid[oid] = match.code or ""
            report.oid_matched += 1
            continue
        oid_only.append(
            AgencyRecord(
                code=None,
                oid=oid,
                name_zh=row["name"],
                parent_oid=parent,
                parent_code=parent_code,
                phone=row["phone"],
                address=row["address"],
                source="oid",
            )
        )
    report.oid_only = len(oid_only)
    return dgpa + oid_only, report
