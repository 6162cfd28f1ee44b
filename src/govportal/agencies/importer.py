"""Write the merged agency registry to the database, safe to run again."""

import logging
from dataclasses import dataclass

from django.db import transaction

from govportal.agencies import registry
from govportal.agencies.models import Agency

logger = logging.getLogger(__name__)

FIELDS = [
    "code",
    "oid",
    "name_zh",
    "level",
    "phone",
    "address",
    "established_on",
    "abolished_on",
    "source",
]
# Filled by the lists only when empty: an administrator's English name or
# website is never overwritten by the 2013 file.
FILL_IF_EMPTY = ["name_en", "website"]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    oid_matched: int = 0
    oid_only: int = 0
    links_set: int = 0


def _find_existing(
    record: registry.AgencyRecord,
    by_code: dict[str, Agency],
    by_oid: dict[str, Agency],
) -> Agency | None:
    if record.code and record.code in by_code:
        return by_code[record.code]
    if record.oid and record.oid in by_oid:
        return by_oid[record.oid]
    return None


def _apply(agency: Agency, record: registry.AgencyRecord) -> bool:
    changed = False
    for name in FIELDS:
        value = getattr(record, name)
        if name == "oid" and value is None:
            continue
        if getattr(agency, name) != value:
            setattr(agency, name, value)
            changed = True
    for name in FILL_IF_EMPTY:
        value = getattr(record, name)
        if value and not getattr(agency, name):
            setattr(agency, name, value)
            changed = True
    return changed


@transaction.atomic
def import_agencies() -> ImportReport:
    """Load the DGPA code list and the OID directory into ``Agency`` rows."""
    records, match = registry.merge_registries(
        registry.read_dgpa(),
        registry.read_oid_directory(),
        registry.read_top_level(),
        registry.read_renames(),
    )
    report = ImportReport(oid_matched=match.oid_matched, oid_only=match.oid_only)

    existing = list(Agency.objects.all())
    by_code = {a.code: a for a in existing if a.code}
    by_oid = {a.oid: a for a in existing if a.oid}

    to_create: list[Agency] = []
    to_update: list[Agency] = []
    for record in records:
        agency = _find_existing(record, by_code, by_oid)
        if agency is None:
            agency = Agency()
            _apply(agency, record)
            to_create.append(agency)
        elif _apply(agency, record):
            to_update.append(agency)
        else:
            report.unchanged += 1
    Agency.objects.bulk_create(to_create, batch_size=2000)
    Agency.objects.bulk_update(to_update, FIELDS + FILL_IF_EMPTY, batch_size=2000)
    report.created = len(to_create)
    report.updated = len(to_update)

    report.links_set = _link_parents_and_successors(records)
    logger.info(
        "agencies imported created=%d updated=%d unchanged=%d",
        report.created,
        report.updated,
        report.unchanged,
    )
    return report


def _link_parents_and_successors(records: list[registry.AgencyRecord]) -> int:
    ids_by_code = dict(Agency.objects.exclude(code=None).values_list("code", "id"))
    ids_by_oid = dict(Agency.objects.exclude(oid=None).values_list("oid", "id"))
    current = {
        row["id"]: (row["parent_id"], row["successor_id"])
        for row in Agency.objects.values("id", "parent_id", "successor_id")
    }

    changed: list[Agency] = []
    for record in records:
        own_id = (
            ids_by_code.get(record.code) if record.code else ids_by_oid.get(record.oid)
        )
        if own_id is None:
            continue
        parent_id = ids_by_code.get(record.parent_code) if record.parent_code else None
        if parent_id is None and record.parent_oid:
            parent_id = ids_by_oid.get(record.parent_oid)
        successor_id = (
            ids_by_code.get(record.successor_code) if record.successor_code else None
        )
        if parent_id == own_id:
            parent_id = None
        if current.get(own_id) != (parent_id, successor_id):
            changed.append(
                Agency(id=own_id, parent_id=parent_id, successor_id=successor_id)
            )
    Agency.objects.bulk_update(changed, ["parent", "successor"], batch_size=2000)
    return len(changed)
