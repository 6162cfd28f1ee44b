"""Import of camera lists: validation per record, then create or update by source id.

A record with an unusable id, coordinates or hostile URL is rejected and
reported. Some stream problems can be fixed by the agency without a new
list: a plain http stream, a host that is not approved yet, or no stream at
all. Such a record is stored with a ``stream_problem`` and counts as not
publishable. Content goes through the publishing core: a new camera is a
draft with revision 1, and a changed one gets a new revision.
"""

import math
import unicodedata
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from govportal.agencies.models import Agency
from govportal.cameras.models import ApprovedStreamHost, Camera
from govportal.cameras.sources import CameraList, SourceCamera, read_camera_list
from govportal.cameras.streams import (
    FIXABLE_CODES,
    StreamURLError,
    secret_warnings,
    validate_stream_url,
)
from govportal.feeds.ingest import fetch_policy
from govportal.lib.textclean import clean_text, remove_unwanted
from govportal.publishing.snapshot import Snapshot, content_hash
from govportal.publishing.workflow import Actor, create_draft, edit

# Taiwan including Penghu, Kinmen, Matsu and Pratas, with a margin.
LATITUDE_RANGE = (20.0, 27.0)
LONGITUDE_RANGE = (116.0, 123.0)
COORDINATE_DECIMALS = 7

MAX_SOURCE_ID_LENGTH = 100
# Name and place fields; the longest in the four real lists has 38 characters.
MAX_TEXT_LENGTH = 200
TEXT_FIELDS = ("name", "region", "road", "direction", "section", "mileage", "address")

# Operational columns that an import sets without a new revision.
IMPORT_COLUMNS = ["source_list", "stream_problem", "stream_warnings"]

# Records stored per transaction.
STORE_CHUNK = 200

PROBLEM_TEXT = {
    "missing": "no stream address",
    "not_https": "stream not https",
    "host_not_approved": "stream host not approved",
}


class RecordRejected(Exception):
    """A record of a list that is not stored, with the reason."""


@dataclass(frozen=True)
class Rejection:
    """A rejected record: its position in the list, its id and the reason."""

    position: int
    source_id: str
    reason: str


@dataclass
class PreparedCamera:
    """A valid record as a snapshot plus the camera's operational fields."""

    source_id: str
    snapshot: Snapshot
    stream_problem: str
    stream_warnings: list[str]


@dataclass
class ImportReport:
    """Counts and reasons of one import run."""

    format_name: str
    source_list: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    not_publishable: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    # (source id, warning) of each warning, in list order.
    warning_details: list[tuple[str, str]] = field(default_factory=list)
    # Other agencies that already have cameras with ids of this list, as
    # (agency key, agency name, count): often the wrong --agency.
    other_agencies: list[tuple[str, str, int]] = field(default_factory=list)
    # (id in the list, id of an existing camera not in the list) pairs with
    # the same stream URL: probably a camera whose id the source changed.
    same_stream: list[tuple[str, str]] = field(default_factory=list)


def import_camera_list(
    data: bytes,
    agency: Agency,
    author: Actor,
    *,
    source_list: str,
    dry_run: bool = False,
) -> ImportReport:
    """Read a camera list and create or update the agency's cameras.

    Raises ``CameraListError`` before writing anything when the file cannot
    be read. With ``dry_run`` nothing is written and the report gives the
    counts that an import would have.
    """
    camera_list = read_camera_list(data)
    approved = set(
        ApprovedStreamHost.objects.filter(agency=agency).values_list("host", flat=True)
    )
    report = ImportReport(camera_list.format_name, source_list, dry_run)
    prepared = _prepare_all(camera_list, approved, report)
    existing = {
        camera.source_id: camera
        for camera in Camera.objects.filter(agency=agency).select_related(
            "current_revision"
        )
    }
    _compare_with_stored(prepared, existing, agency, report)
    # Short transactions let the camera checks write between them: one
    # transaction over a large list would hold SQLite's write lock longer
    # than the checks wait for it. A failed import leaves whole chunks
    # stored, and running it again completes it, because cameras are
    # matched by their source id.
    for start in range(0, len(prepared), STORE_CHUNK):
        with transaction.atomic():
            _store(
                prepared[start : start + STORE_CHUNK],
                existing,
                agency,
                author,
                source_list,
                report,
            )
    return report


def _compare_with_stored(
    prepared: list[PreparedCamera],
    existing: dict[str, Camera],
    agency: Agency,
    report: ImportReport,
) -> None:
    """Note ids owned by other agencies and streams of cameras with other ids."""
    ids = [item.source_id for item in prepared]
    owners = Counter(
        Camera.objects.filter(source_id__in=ids)
        .exclude(agency=agency)
        .values_list("agency__code", "agency__oid", "agency__name_zh")
    )
    report.other_agencies = [
        (code or oid or "", name, count)
        for (code, oid, name), count in owners.most_common()
    ]
    listed = set(ids)
    unlisted_streams: dict[str, str] = {}
    for source_id, camera in existing.items():
        revision = camera.current_revision
        url = str(revision.snapshot.get("stream_url") or "") if revision else ""
        if url and source_id not in listed:
            unlisted_streams.setdefault(url, source_id)
    for item in prepared:
        url = str(item.snapshot.get("stream_url") or "")
        if url in unlisted_streams:
            report.same_stream.append((item.source_id, unlisted_streams[url]))


def _prepare_all(
    camera_list: CameraList, approved: Collection[str], report: ImportReport
) -> list[PreparedCamera]:
    prepared: list[PreparedCamera] = []
    first_position: dict[str, int] = {}
    for source in camera_list.cameras:
        report.total += 1
        try:
            camera = prepare_camera(source, approved)
        except RecordRejected as exc:
            report.rejected.append(
                Rejection(source.position, source.source_id, str(exc))
            )
            continue
        if camera.source_id in first_position:
            reason = (
                "duplicate source id, the record at position "
                f"{first_position[camera.source_id]} is kept"
            )
            report.rejected.append(Rejection(source.position, source.source_id, reason))
            continue
        first_position[camera.source_id] = source.position
        prepared.append(camera)
    return prepared


def prepare_camera(source: SourceCamera, approved: Collection[str]) -> PreparedCamera:
    """Validate one record and return it as a snapshot with its stream problem.

    Raises ``RecordRejected`` with the reason for a record that must not be
    stored.
    """
    if not source.source_id:
        raise RecordRejected("missing source id")
    if len(source.source_id) > MAX_SOURCE_ID_LENGTH:
        raise RecordRejected(
            f"source id is longer than {MAX_SOURCE_ID_LENGTH} characters"
        )
    if remove_unwanted(source.source_id) != source.source_id:
        raise RecordRejected(
            f"source id {source.source_id!r} contains control, invisible or "
            "bidirectional characters; ask the source for a plain id"
        )
    texts = {name: _text_field(source, name) for name in TEXT_FIELDS}
    latitude, longitude = _coordinates(source)
    problems: list[str] = []
    warnings: list[str] = []
    # Every picture the public page loads comes from a host the agency
    # approved, whatever the kind of stream.
    stream_url = _checked_url(source.stream_url, "stream", approved, problems, warnings)
    snapshot_url = ""
    if source.snapshot_url:
        snapshot_url = _checked_url(
            source.snapshot_url, "snapshot", approved, problems, warnings
        )
    snapshot = {
        **texts,
        "name": texts["name"] or source.source_id,
        "latitude": latitude,
        "longitude": longitude,
        "stream_kind": source.stream_kind if stream_url else "",
        "stream_url": stream_url,
        "snapshot_url": snapshot_url,
    }
    return PreparedCamera(source.source_id, snapshot, "; ".join(problems), warnings)


def _text_field(source: SourceCamera, name: str) -> str:
    """Return a text field as one clean line, or reject an overlong one.

    Control, invisible and bidirectional characters are removed, because a
    name is shown on the public page and in mail.
    """
    value = unicodedata.normalize("NFC", clean_text(getattr(source, name)))
    if len(value) > MAX_TEXT_LENGTH:
        raise RecordRejected(
            f"{name} is {len(value)} characters long, the maximum is "
            f"{MAX_TEXT_LENGTH}: {value[:40]!r}..."
        )
    return value


def _coordinates(source: SourceCamera) -> tuple[float, float]:
    if not source.latitude or not source.longitude:
        raise RecordRejected("missing coordinates")
    try:
        latitude = float(source.latitude)
        longitude = float(source.longitude)
    except ValueError:
        raise RecordRejected(
            f"invalid coordinates {source.latitude!r}, {source.longitude!r}"
        ) from None
    inside = (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and LATITUDE_RANGE[0] <= latitude <= LATITUDE_RANGE[1]
        and LONGITUDE_RANGE[0] <= longitude <= LONGITUDE_RANGE[1]
    )
    if not inside:
        raise RecordRejected(
            f"invalid coordinates: latitude {latitude}, longitude {longitude} "
            "is not in Taiwan"
        )
    return round(latitude, COORDINATE_DECIMALS), round(longitude, COORDINATE_DECIMALS)


def _checked_url(
    url: str,
    role: str,
    approved: Collection[str] | None,
    problems: list[str],
    warnings: list[str],
) -> str:
    """Return the URL to store, adding to ``problems`` what blocks publishing."""
    try:
        check = validate_stream_url(
            url, approved_hosts=approved, address_policy=fetch_policy()
        )
    except StreamURLError as exc:
        if exc.code == "missing":
            if role == "stream":
                problems.append(PROBLEM_TEXT["missing"])
            return ""
        if exc.code in FIXABLE_CODES:
            problems.append(PROBLEM_TEXT[exc.code].replace("stream", role, 1))
            warnings.extend(secret_warnings(url))
            return url
        raise RecordRejected(f"invalid {role} address: {exc.message}") from None
    warnings.extend(check.warnings)
    return check.url


def _store(
    prepared: list[PreparedCamera],
    existing: dict[str, Camera],
    agency: Agency,
    author: Actor,
    source_list: str,
    report: ImportReport,
) -> None:
    """Count what each record needs and, unless it is a dry run, write it."""
    changed_columns: list[Camera] = []
    for item in prepared:
        if item.stream_problem:
            report.not_publishable[item.stream_problem] += 1
        report.warnings += len(item.stream_warnings)
        report.warning_details.extend(
            (item.source_id, warning) for warning in item.stream_warnings
        )
        columns: dict[str, Any] = {
            "source_list": source_list,
            "stream_problem": item.stream_problem,
            "stream_warnings": item.stream_warnings,
        }
        camera = existing.get(item.source_id)
        if camera is None:
            # NOTE: each new camera costs about five queries in create_draft,
            # so a first import of 1,900 cameras is a few seconds slower on
            # PostgreSQL than a re-import, which reads all cameras at once.
            report.created += 1
            if not report.dry_run:
                camera = Camera(agency=agency, source_id=item.source_id, **columns)
                create_draft(camera, item.snapshot, author)
            continue
        revision = camera.current_revision
        if revision is not None and revision.content_hash == content_hash(
            item.snapshot
        ):
            report.unchanged += 1
        else:
            report.updated += 1
            if not report.dry_run:
                edit(camera, item.snapshot, author)
        if any(getattr(camera, name) != value for name, value in columns.items()):
            for name, value in columns.items():
                setattr(camera, name, value)
            changed_columns.append(camera)
    if not report.dry_run:
        Camera.objects.bulk_update(changed_columns, IMPORT_COLUMNS, batch_size=500)
