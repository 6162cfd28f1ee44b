"""The demo's cameras: the real camera lists, a few hundred played on loopback.

``set_up_cameras`` imports the four camera lists that ship with the cameras
app for their agencies. It points ``count`` freeway cameras at the loopback
camera server (``demo.camserver``) with a new revision, which the demo
operator approves. Each agency gets a camera contact whose mail goes to the
demo mailbox.

The other cameras keep their real stream addresses, which this machine
cannot reach, and stay in draft as an import leaves them: only published
cameras are checked, so the demo's worker never checks them, and the
public site shows the cameras the demo plays.
"""

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.db import connection, transaction

import govportal.cameras
from govportal.agencies.models import Agency
from govportal.cameras.importer import ImportReport, import_camera_list, prepare_camera
from govportal.cameras.models import (
    ApprovedStreamHost,
    Camera,
    CameraContact,
    CameraHealthEvent,
    CameraSchedule,
    StreamKind,
)
from govportal.cameras.sources import read_camera_list
from govportal.cameras.streams import validate_stream_url
from govportal.demo.camserver import (
    CameraPlan,
    CameraServer,
    camera_url,
    parse_camera_url,
    plan_camera,
    start_camera_server,
)
from govportal.demo.catalogue import find_agency_by_name
from govportal.demo.mailbox import DemoMailbox, MailListener, start_mailbox
from govportal.feeds.ingest import fetch_policy
from govportal.publishing import workflow
from govportal.publishing.states import State

logger = logging.getLogger(__name__)

CAMERA_LISTS_DIR = Path(govportal.cameras.__file__).parent / "data"
# The Freeway Bureau (交通部高速公路局) is in the 2014 DGPA code list under
# its older name 交通部臺灣區國道高速公路局.
FREEWAY_BUREAU_CODE = "315050000M"
KAOHSIUNG_TRAFFIC = "高雄市政府交通局"
TAIPEI_TRAFFIC = "臺北市政府交通局"
TDX_LIST = "freeway-nfb-tdx-cctvlist-2026-07-28.xml"
# The Freeway Bureau's own stream hosts in its TDX list.
FREEWAY_HOSTS = (
    "cctvn.freeway.gov.tw",
    "cctvc.freeway.gov.tw",
    "cctvs.freeway.gov.tw",
    "cctvn5.freeway.gov.tw",
)
# Kaohsiung's own embed pages; other hosts in its list belong to other agencies.
KAOHSIUNG_EMBED_HOST = re.compile(r"cctv\d+\.kctmc\.nat\.gov\.tw")
LOOPBACK_HOST = "127.0.0.1"
# The agency account that imports and submits; the operator approves.
IMPORTER = "camera-importer"
DEFAULT_LOOPBACK_CAMERAS = 300


@dataclass(frozen=True)
class DemoList:
    """A camera list of the cameras app and the agency that owns it."""

    file: str
    agency_code: str = ""
    agency_name: str = ""

    def agency(self) -> Agency:
        """Return the owning agency; raise LookupError when it is not imported."""
        if self.agency_code:
            agency = Agency.objects.filter(code=self.agency_code).first()
        else:
            agency = find_agency_by_name(self.agency_name)
        if agency is None:
            raise LookupError(
                f"No agency {self.agency_code or self.agency_name} for the camera "
                f"list {self.file}. Run `govportal agencies import` first."
            )
        return agency


DEMO_LISTS = [
    DemoList(TDX_LIST, agency_code=FREEWAY_BUREAU_CODE),
    DemoList(
        "freeway-nfb-cctv-info-v1.1-2022-11-02.xml", agency_code=FREEWAY_BUREAU_CODE
    ),
    DemoList("kaohsiung-traffic-cctv-2026-07.json", agency_name=KAOHSIUNG_TRAFFIC),
    DemoList("taipei-traffic-cctv-positions.json", agency_name=TAIPEI_TRAFFIC),
]


@dataclass
class CameraSetupReport:
    """Counts of the work ``set_up_cameras`` did, for the console."""

    imports: list[ImportReport] = field(default_factory=list)
    # Lists whose cameras were already stored by an earlier run.
    skipped_lists: list[str] = field(default_factory=list)
    loopback: Counter[str] = field(default_factory=Counter)
    repointed: int = 0
    # Cameras an earlier run played that got their real stream back and
    # were withdrawn.
    restored: int = 0
    contacts: list[str] = field(default_factory=list)


def contact_address(agency: Agency) -> str:
    """Return the demo mailbox address of an agency's camera contact."""
    return f"cameras.{(agency.code or str(agency.pk)).lower()}@demo.invalid"


def importer_account() -> User:
    """Return the agency staff account that imports and submits the cameras."""
    user, created = User.objects.get_or_create(
        username=IMPORTER, defaults={"is_staff": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def set_up_cameras(
    reviewer: User, base_url: str, count: int = DEFAULT_LOOPBACK_CAMERAS
) -> CameraSetupReport:
    """Import the camera lists, publish them and point ``count`` at ``base_url``.

    ``reviewer`` is the central operator who approves; ``base_url`` is the
    camera server's https origin. Running it again imports nothing twice
    and only re-points cameras whose loopback URL changed.
    """
    report = CameraSetupReport()
    author = importer_account()
    lists = [(demo_list, demo_list.agency()) for demo_list in DEMO_LISTS]
    freeway = lists[0][1]
    _approve_stream_hosts(lists)
    for demo_list, agency in lists:
        if Camera.objects.filter(agency=agency, source_list=demo_list.file).exists():
            report.skipped_lists.append(demo_list.file)
            continue
        data = (CAMERA_LISTS_DIR / demo_list.file).read_bytes()
        report.imports.append(
            import_camera_list(data, agency, author, source_list=demo_list.file)
        )
    if connection.vendor == "sqlite":
        # Fresh statistics make SQLite use the composite index on
        # publishing transitions. Without them the four-eyes check of each
        # approval scans every camera transition, 10 ms each with 13,000 rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    with transaction.atomic():
        chosen = choose_loopback_cameras(freeway, count)
        report.restored = _restore_real_streams(freeway, chosen, author, reviewer)
        for camera in chosen:
            plan = plan_camera(camera.source_id)
            url = camera_url(base_url, camera.source_id, plan)
            if point_camera(camera, plan.kind, url, author, reviewer):
                report.repointed += 1
            report.loopback[f"{plan.behaviour} {plan.kind}"] += 1
        spread_first_checks(chosen)
    for agency in {agency.pk: agency for _, agency in lists}.values():
        contact, _ = CameraContact.objects.get_or_create(
            agency=agency,
            email=contact_address(agency),
            defaults={"name": "demo mailbox"},
        )
        report.contacts.append(f"{agency.name_zh} <{contact.email}>")
    return report


def _approve_stream_hosts(lists: list[tuple[DemoList, Agency]]) -> None:
    """Approve the agencies' own stream hosts, and loopback for the freeway cameras."""
    freeway = lists[0][1]
    ApprovedStreamHost.objects.get_or_create(agency=freeway, host=LOOPBACK_HOST)
    for host in FREEWAY_HOSTS:
        ApprovedStreamHost.objects.get_or_create(agency=freeway, host=host)
    for demo_list, agency in lists:
        if demo_list.agency_name != KAOHSIUNG_TRAFFIC:
            continue
        data = (CAMERA_LISTS_DIR / demo_list.file).read_bytes()
        hosts = {
            (urlsplit(source.stream_url).hostname or "").lower()
            for source in read_camera_list(data).cameras
        }
        for host in sorted(h for h in hosts if KAOHSIUNG_EMBED_HOST.fullmatch(h)):
            ApprovedStreamHost.objects.get_or_create(agency=agency, host=host)


def _publish(camera: Camera, author: User, reviewer: User) -> None:
    """Submit the camera's current revision as ``author`` and approve it."""
    workflow.submit(camera, author)
    workflow.start_review(camera, reviewer)
    assert camera.current_revision is not None
    workflow.approve(camera, camera.current_revision.number, reviewer)


def choose_loopback_cameras(agency: Agency, count: int) -> list[Camera]:
    """Pick ``count`` publishable cameras of the TDX list, spread over the list."""
    candidates = list(
        Camera.objects.filter(agency=agency, source_list=TDX_LIST, stream_problem="")
        .select_related("current_revision", "published_revision")
        .order_by("source_id")
    )
    if count <= 0 or not candidates:
        return []
    step = max(len(candidates) / count, 1.0)
    picked = {int(index * step) for index in range(min(count, len(candidates)))}
    return [candidates[index] for index in sorted(picked)]


def point_camera(
    camera: Camera, kind: str, url: str, author: User, reviewer: User
) -> bool:
    """Publish a revision of ``camera`` that streams ``kind`` from ``url``.

    Returns False when the published revision already has that stream.
    The URL passes the same check as in the admin, so the demo stores
    nothing that an operator could not enter.
    """
    approved = {LOOPBACK_HOST} if kind == StreamKind.EMBED_PAGE else None
    checked = validate_stream_url(
        url, approved_hosts=approved, address_policy=fetch_policy()
    )
    assert camera.current_revision is not None
    snapshot = dict(camera.current_revision.snapshot)
    unchanged = (
        camera.state == State.PUBLISHED
        and snapshot.get("stream_url") == checked.url
        and snapshot.get("stream_kind") == kind
    )
    if unchanged:
        return False
    snapshot.update({"stream_kind": kind, "stream_url": checked.url})
    camera.current_revision = workflow.edit(camera, snapshot, author)
    _publish(camera, author, reviewer)
    return True


def _restore_real_streams(
    agency: Agency, chosen: list[Camera], author: User, reviewer: User
) -> int:
    """Give cameras that an earlier run pointed at loopback their listed stream.

    That happens when the demo runs with a smaller ``--cameras`` count than
    before. Returns the number of cameras restored.
    """
    keep = {camera.pk for camera in chosen}
    stale = [
        camera
        for camera in Camera.objects.filter(agency=agency, source_list=TDX_LIST)
        .exclude(pk__in=keep)
        .select_related("current_revision")
        if is_loopback_camera(camera)
    ]
    if not stale:
        return 0
    sources = {
        source.source_id: source
        for source in read_camera_list(
            (CAMERA_LISTS_DIR / TDX_LIST).read_bytes()
        ).cameras
    }
    approved = set(
        ApprovedStreamHost.objects.filter(agency=agency).values_list("host", flat=True)
    )
    for camera in stale:
        prepared = prepare_camera(sources[camera.source_id], approved)
        camera.current_revision = workflow.edit(camera, prepared.snapshot, author)
        workflow.withdraw(
            camera, reviewer, "The demo no longer plays this camera on loopback."
        )
    return len(stale)


def is_loopback_camera(camera: Camera) -> bool:
    """Return whether the camera's current revision streams from loopback."""
    if camera.current_revision is None:
        return False
    url = str(camera.current_revision.snapshot.get("stream_url") or "")
    return urlsplit(url).hostname == LOOPBACK_HOST


def spread_first_checks(chosen: list[Camera]) -> None:
    """Drop the chosen cameras' schedules, so their first checks spread out.

    The worker gives cameras without a schedule times spread over one
    interval, as it does for new cameras.
    """
    CameraSchedule.objects.filter(camera_id__in=[c.pk for c in chosen]).delete()


class HealthWatch:
    """Finds camera health changes stored since the watch started."""

    def __init__(self) -> None:
        last = CameraHealthEvent.objects.order_by("-id").values_list("id", flat=True)
        self.last_id = last.first() or 0

    def new_lines(self) -> list[str]:
        """Return one console line per health change since the last call."""
        events = list(
            CameraHealthEvent.objects.filter(id__gt=self.last_id)
            .select_related("camera__current_revision")
            .order_by("id")
        )
        lines = []
        for event in events:
            self.last_id = event.pk
            camera = event.camera
            plan = _plan_of(camera)
            played = f" ({plan.behaviour} {plan.kind})" if plan else ""
            lines.append(
                f"camera {camera.source_id}{played}: {event.from_state} -> "
                f"{event.to_state}, {event.reason}"
            )
        return lines


def _plan_of(camera: Camera) -> CameraPlan | None:
    if camera.current_revision is None:
        return None
    return parse_camera_url(str(camera.current_revision.snapshot.get("stream_url")))


# -- the running parts ------------------------------------------------------------

# Checks every minute, so a camera goes down about three minutes after it
# breaks. A frame unchanged for four minutes counts as frozen, and mail
# waits one minute to group the changes of one round.
DEMO_WORKER_SETTINGS = {
    "GOVPORTAL_CAMERA_CHECK_INTERVAL": "60",
    "GOVPORTAL_CAMERA_FROZEN_AFTER": "240",
    "GOVPORTAL_CAMERA_NOTICE_DELAY": "60",
    # Every demo camera is on one host, 127.0.0.1. A check batch has 50
    # cameras, and with the default limit of 4 per host a few cameras that
    # never respond would hold every slot until the others time out too.
    "GOVPORTAL_FETCH_PER_HOST_LIMIT": "50",
}


@dataclass
class CameraRuntime:
    """The camera server and the mailbox of a running demo."""

    server: CameraServer
    mailbox: DemoMailbox
    # CA bundle for the worker's fetcher: the demo CA, plus the bundle the
    # environment already named, if any.
    ca_bundle: Path

    def worker_environment(self, environment: dict[str, str]) -> dict[str, str]:
        """Return ``environment`` with the demo's camera and mail settings.

        Camera settings that ``environment`` sets already are kept.
        """
        result = dict(environment)
        for name, value in DEMO_WORKER_SETTINGS.items():
            result.setdefault(name, value)
        result["GOVPORTAL_FETCH_EXTRA_CA_BUNDLE"] = str(self.ca_bundle)
        result["GOVPORTAL_SMTP_HOST"] = self.mailbox.host
        result["GOVPORTAL_SMTP_PORT"] = str(self.mailbox.port)
        # The mailbox speaks plain SMTP without login.
        for name in ("GOVPORTAL_SMTP_TLS", "GOVPORTAL_SMTP_USER"):
            result.pop(name, None)
        result.pop("GOVPORTAL_SMTP_PASSWORD", None)
        return result

    def stop(self) -> None:
        self.server.stop()
        self.mailbox.stop()


def start_camera_runtime(
    folder: Path,
    camera_port: int,
    mail_port: int,
    mail_folder: Path,
    listener: MailListener | None = None,
) -> CameraRuntime:
    """Start the camera server and the mailbox, on free ports if those are busy.

    ``folder`` receives the demo CA and the worker's CA bundle. Raises
    OSError when no server can start at all.
    """
    ca_file = folder / "demo-camera-ca.pem"
    try:
        server = start_camera_server(ca_file, port=camera_port)
    except OSError:
        logger.warning("camera server port busy port=%d", camera_port)
        server = start_camera_server(ca_file, port=0)
    try:
        try:
            mailbox = start_mailbox(mail_folder, mail_port, listener)
        except OSError:
            logger.warning("demo mailbox port busy port=%d", mail_port)
            mailbox = start_mailbox(mail_folder, None, listener)
    except BaseException:
        server.stop()
        raise
    bundle = folder / "fetch-ca-bundle.pem"
    pems = [ca_file.read_bytes()]
    existing = os.environ.get("GOVPORTAL_FETCH_EXTRA_CA_BUNDLE")
    if existing:
        pems.insert(0, Path(existing).read_bytes().rstrip(b"\n") + b"\n")
    bundle.write_bytes(b"".join(pems))
    return CameraRuntime(server, mailbox, bundle)
