"""The demo's loopback camera server, checked with the real camera checker,
and the demo wiring that imports the camera lists and points some at it."""

import asyncio
import json
import smtplib
import time
from email.message import EmailMessage

import pytest
from django.contrib.auth.models import User
from lxml import etree

from govportal.cameras.models import (
    ApprovedStreamHost,
    Camera,
    CameraContact,
    CameraSchedule,
)
from govportal.cameras.sources import TDX_NAMESPACE
from govportal.cameras.streams import validate_stream_url
from govportal.cameras.tasks import monitored_cameras
from govportal.demo import cameras as demo_cameras
from govportal.demo.camserver import (
    OUTSIDE_SEGMENT_URL,
    SEGMENT_SECONDS,
    Behaviour,
    CameraPlan,
    camera_url,
    outage_broken,
    parse_camera_url,
    plan_camera,
    render_frame,
    start_camera_server,
)
from govportal.demo.mailbox import start_mailbox
from govportal.lib.camcheck import CheckLimits, check_stream, fingerprint_distance
from govportal.lib.camcheck.frames import image_fingerprint
from govportal.lib.httpfetch import FetchPolicy
from govportal.publishing.models import Revision
from govportal.publishing.states import State
from tests.publishing.helpers import make_agency

CAMERA_ID = "CCTV-N1-S-0.000-M"
LIMITS = CheckLimits(deadline=5.0, frame_timeout=3.0)


@pytest.fixture(scope="module")
def camera_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("camserver")
    server = start_camera_server(folder / "ca.pem")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def policy(camera_server):
    return FetchPolicy(
        allowed_networks=("127.0.0.1/32",),
        extra_ca_file=str(camera_server.ca_file),
        deadline=5.0,
    )


def check(camera_server, policy, behaviour, kind, *, limits=LIMITS, previous=None):
    url = camera_url(camera_server.base_url, CAMERA_ID, CameraPlan(behaviour, kind))
    return asyncio.run(
        check_stream(
            kind, url, fetcher_or_policy=policy, limits=limits, previous=previous
        )
    )


# -- behaviours through the real checker ----------------------------------------


def test_good_jpeg_passes(camera_server, policy):
    result = check(camera_server, policy, Behaviour.GOOD, "jpeg_snapshot")
    assert result.ok, result.detail
    assert result.fingerprint is not None


def test_good_mjpeg_passes(camera_server, policy):
    result = check(camera_server, policy, Behaviour.GOOD, "mjpeg")
    assert result.ok, result.detail
    assert result.fingerprint is not None
    assert result.detail.startswith("frame after")


def test_good_embed_page_passes(camera_server, policy):
    result = check(camera_server, policy, Behaviour.GOOD, "embed_page")
    assert result.ok, result.detail


def test_good_hls_advances(camera_server, policy):
    first = check(camera_server, policy, Behaviour.GOOD, "hls")
    assert first.ok, first.detail
    time.sleep(SEGMENT_SECONDS + 0.2)
    second = check(
        camera_server,
        policy,
        Behaviour.GOOD,
        "hls",
        limits=CheckLimits(deadline=5.0, stale_after=0.0),
        previous=first,
    )
    assert second.ok, second.detail
    assert first.media_sequence is not None
    assert second.media_sequence is not None
    assert second.media_sequence > first.media_sequence


def test_stale_hls_fails_on_second_check(camera_server, policy):
    limits = CheckLimits(deadline=5.0, stale_after=0.0)
    first = check(camera_server, policy, Behaviour.STALE, "hls", limits=limits)
    assert first.ok, first.detail
    second = check(
        camera_server, policy, Behaviour.STALE, "hls", limits=limits, previous=first
    )
    assert not second.ok
    assert second.problem_code == "stale_playlist"
    assert second.media_sequence == first.media_sequence


def test_outside_playlist_is_refused(camera_server, policy):
    result = check(camera_server, policy, Behaviour.OUTSIDE, "hls")
    assert not result.ok
    assert result.problem_code == "playlist_points_outside"
    assert OUTSIDE_SEGMENT_URL in result.detail


def test_timeout_camera_times_out(camera_server, policy):
    started = time.monotonic()
    result = check(
        camera_server,
        policy,
        Behaviour.TIMEOUT,
        "jpeg_snapshot",
        limits=CheckLimits(deadline=1.0),
    )
    assert not result.ok
    assert result.problem_code == "timeout"
    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    ("behaviour", "kind", "status"),
    [
        (Behaviour.SERVER_ERROR, "jpeg_snapshot", 500),
        (Behaviour.NOT_FOUND, "mjpeg", 404),
    ],
)
def test_error_status_fails(camera_server, policy, behaviour, kind, status):
    result = check(camera_server, policy, behaviour, kind)
    assert not result.ok
    assert result.problem_code == "http_status"
    assert str(status) in result.detail


@pytest.mark.parametrize("kind", ["jpeg_snapshot", "mjpeg"])
def test_html_instead_of_image_fails(camera_server, policy, kind):
    result = check(camera_server, policy, Behaviour.NOT_AN_IMAGE, kind)
    assert not result.ok
    assert result.problem_code == "not_an_image"
    assert "text/html" in result.detail


@pytest.mark.parametrize("kind", ["jpeg_snapshot", "mjpeg"])
def test_frozen_frame_fails_with_history(camera_server, policy, kind):
    limits = CheckLimits(deadline=5.0, frame_timeout=3.0, frozen_after=0.0)
    first = check(camera_server, policy, Behaviour.FROZEN, kind, limits=limits)
    assert first.ok, first.detail
    time.sleep(0.1)
    second = check(
        camera_server, policy, Behaviour.FROZEN, kind, limits=limits, previous=first
    )
    assert not second.ok
    assert second.problem_code == "frozen_frame"
    assert second.fingerprint == first.fingerprint


def test_flapping_camera_alternates(camera_server, policy):
    results = [
        check(camera_server, policy, Behaviour.FLAPPING, "jpeg_snapshot")
        for _ in range(4)
    ]
    assert [result.ok for result in results] == [False, True, False, True]
    assert results[0].problem_code == "http_status"


def test_unknown_path_is_not_found(camera_server, policy):
    url = f"{camera_server.base_url}/nosuch/{CAMERA_ID}.jpg"
    result = asyncio.run(
        check_stream("jpeg_snapshot", url, fetcher_or_policy=policy, limits=LIMITS)
    )
    assert result.problem_code == "http_status"


def test_untrusted_certificate_fails(camera_server):
    without_ca = FetchPolicy(allowed_networks=("127.0.0.1/32",), deadline=5.0)
    url = camera_url(
        camera_server.base_url, CAMERA_ID, CameraPlan(Behaviour.GOOD, "jpeg_snapshot")
    )
    result = asyncio.run(
        check_stream("jpeg_snapshot", url, fetcher_or_policy=without_ca, limits=LIMITS)
    )
    assert not result.ok
    assert result.problem_code == "tls_error"


# -- pure parts -------------------------------------------------------------------


@pytest.mark.parametrize("key", [CAMERA_ID, "CCTV-N3-N-200.5-M", "a"])
def test_frames_a_minute_apart_differ(key):
    start = 1_780_000_000
    for offset in range(0, 600, 60):
        first = image_fingerprint(render_frame(key, start + offset), max_pixels=10**6)
        later = image_fingerprint(
            render_frame(key, start + offset + 60), max_pixels=10**6
        )
        # The checker treats up to 4 differing bits as the same frame.
        assert fingerprint_distance(first, later) > 4, offset


def test_outage_camera_breaks_and_recovers():
    states = [outage_broken(CAMERA_ID, minute * 60.0) for minute in range(30)]
    assert states[0] is False
    first_broken = states.index(True)
    assert 3 <= first_broken <= 9
    recovered = states.index(False, first_broken)
    assert 4 <= recovered - first_broken <= 7
    assert True in states[recovered:]


def test_plan_is_stable_and_covers_every_behaviour():
    ids = [f"CCTV-N1-S-{number}.000-M" for number in range(2000)]
    plans = [plan_camera(camera_id) for camera_id in ids]
    assert plans == [plan_camera(camera_id) for camera_id in ids]
    assert {plan.behaviour for plan in plans} == set(Behaviour)


@pytest.mark.parametrize("kind", ["jpeg_snapshot", "mjpeg", "hls", "embed_page"])
def test_camera_url_round_trip(kind):
    plan = CameraPlan(Behaviour.OUTAGE, kind)
    url = camera_url("https://127.0.0.1:8443", "CCTV N1/odd id", plan)
    assert " " not in url
    assert parse_camera_url(url) == plan


def test_parse_camera_url_ignores_other_urls():
    assert parse_camera_url("https://cctvn.freeway.gov.tw/abs2mjpg/bmjpg") is None
    assert parse_camera_url("https://127.0.0.1:8443/nosuch/x.jpg") is None


# -- the mailbox ------------------------------------------------------------------


def test_mailbox_stores_mail_and_reports_subject(tmp_path):
    received = []
    mailbox = start_mailbox(tmp_path / "mail", None, lambda s, p: received.append(s))
    try:
        message = EmailMessage()
        message["Subject"] = "監視器異常通知"
        message["From"] = "noreply@portal.invalid"
        message["To"] = "cameras@demo.invalid"
        message.set_content("camera down")
        with smtplib.SMTP(mailbox.host, mailbox.port, timeout=5) as client:
            client.send_message(message)
    finally:
        mailbox.stop()
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    assert b"camera down" in files[0].read_bytes()
    assert received == ["監視器異常通知"]


# -- the demo wiring --------------------------------------------------------------

LOOPBACK_BASE = "https://127.0.0.1:8443"
RECORDS_PER_LIST = 12


def _shorten_lists(target):
    """Write the first records of each real list to ``target``, formats kept."""
    source = demo_cameras.CAMERA_LISTS_DIR
    for demo_list in demo_cameras.DEMO_LISTS:
        data = (source / demo_list.file).read_bytes()
        if demo_list.file.endswith(".json"):
            document = json.loads(data)
            if isinstance(document, list):
                document = document[:RECORDS_PER_LIST]
            else:
                results = document["result"]["results"]
                document["result"]["results"] = results[:RECORDS_PER_LIST]
            (target / demo_list.file).write_text(
                json.dumps(document, ensure_ascii=False), encoding="utf-8"
            )
            continue
        root = etree.fromstring(data)
        if root.tag == f"{{{TDX_NAMESPACE}}}CCTVList":
            records = root.findall(f"{{{TDX_NAMESPACE}}}CCTVs/{{{TDX_NAMESPACE}}}CCTV")
        else:
            records = root.findall("Infos/Info")
        for record in records[RECORDS_PER_LIST:]:
            record.getparent().remove(record)
        (target / demo_list.file).write_bytes(etree.tostring(root))


@pytest.fixture
def demo_lists(tmp_path, monkeypatch, settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    _shorten_lists(tmp_path)
    monkeypatch.setattr(demo_cameras, "CAMERA_LISTS_DIR", tmp_path)
    make_agency(demo_cameras.FREEWAY_BUREAU_CODE, "交通部臺灣區國道高速公路局")
    make_agency("397290000H", demo_cameras.KAOHSIUNG_TRAFFIC)
    make_agency("379530000H", demo_cameras.TAIPEI_TRAFFIC)
    return tmp_path


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("operator", "", "pw")


def _loopback_cameras():
    return [
        camera
        for camera in Camera.objects.select_related("current_revision")
        if demo_cameras.is_loopback_camera(camera)
    ]


@pytest.mark.django_db
def test_setup_imports_lists_and_points_cameras(demo_lists, operator):
    report = demo_cameras.set_up_cameras(operator, LOOPBACK_BASE, count=5)

    assert [imported.source_list for imported in report.imports] == [
        demo_list.file for demo_list in demo_cameras.DEMO_LISTS
    ]
    assert all(imported.created > 0 for imported in report.imports)
    # Only the cameras played on loopback are published; the rest stay in
    # draft, so they are neither public nor checked.
    assert Camera.objects.filter(state=State.PUBLISHED).count() == 5
    # The v1.1 and Taipei lists have positions only, so nothing to publish.
    positions_only = Camera.objects.filter(
        source_list__in=[
            "freeway-nfb-cctv-info-v1.1-2022-11-02.xml",
            "taipei-traffic-cctv-positions.json",
        ]
    )
    assert positions_only.filter(state=State.PUBLISHED).count() == 0
    assert positions_only.exclude(stream_problem="").count() == positions_only.count()
    kaohsiung_hosts = ApprovedStreamHost.objects.filter(
        agency__code="397290000H"
    ).values_list("host", flat=True)
    assert kaohsiung_hosts
    assert all(host.endswith(".kctmc.nat.gov.tw") for host in kaohsiung_hosts)

    pointed = _loopback_cameras()
    assert len(pointed) == 5
    assert sum(report.loopback.values()) == 5
    assert report.repointed == 5
    for camera in pointed:
        assert camera.state == State.PUBLISHED
        assert camera.published_revision_id == camera.current_revision_id
        snapshot = camera.current_revision.snapshot
        plan = plan_camera(camera.source_id)
        assert snapshot["stream_kind"] == plan.kind
        assert snapshot["stream_url"].startswith(LOOPBACK_BASE + "/")
        assert parse_camera_url(snapshot["stream_url"]) == plan
        assert not CameraSchedule.objects.filter(camera=camera).exists()
        assert camera.current_revision.number == 2

    assert monitored_cameras().count() == 5

    contacts = CameraContact.objects.values_list("email", flat=True)
    assert sorted(contacts) == sorted(
        [
            "cameras.315050000m@demo.invalid",
            "cameras.397290000h@demo.invalid",
            "cameras.379530000h@demo.invalid",
        ]
    )


@pytest.mark.django_db
def test_setup_again_changes_nothing(demo_lists, operator):
    demo_cameras.set_up_cameras(operator, LOOPBACK_BASE, count=5)
    revisions = Revision.objects.count()

    again = demo_cameras.set_up_cameras(operator, LOOPBACK_BASE, count=5)

    assert again.imports == []
    assert len(again.skipped_lists) == len(demo_cameras.DEMO_LISTS)
    assert again.repointed == 0
    assert Revision.objects.count() == revisions
    assert CameraContact.objects.count() == 3


@pytest.mark.django_db
def test_setup_with_fewer_cameras_restores_real_streams(demo_lists, operator):
    demo_cameras.set_up_cameras(operator, LOOPBACK_BASE, count=5)
    before = {camera.pk for camera in _loopback_cameras()}

    report = demo_cameras.set_up_cameras(operator, "https://127.0.0.1:9443", count=2)

    pointed = _loopback_cameras()
    assert len(pointed) == 2
    assert report.restored == len(before - {camera.pk for camera in pointed})
    assert report.repointed == 2
    for camera in pointed:
        assert camera.current_revision.snapshot["stream_url"].startswith(
            "https://127.0.0.1:9443/"
        )
    restored = Camera.objects.filter(source_list=demo_cameras.TDX_LIST).exclude(
        pk__in=[camera.pk for camera in pointed]
    )
    for camera in restored.filter(pk__in=before).select_related("current_revision"):
        url = camera.current_revision.snapshot["stream_url"]
        assert url.startswith("https://cctv"), url
        assert camera.state == State.WITHDRAWN
        assert camera.published_revision_id is None
    assert monitored_cameras().count() == 2


def test_loopback_urls_pass_stream_validation(settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    from govportal.feeds.ingest import fetch_policy

    for behaviour in Behaviour:
        url = camera_url(LOOPBACK_BASE, CAMERA_ID, CameraPlan(behaviour, "mjpeg"))
        assert validate_stream_url(url, address_policy=fetch_policy()).url == url


def test_worker_environment_points_at_demo_servers(tmp_path, camera_server):
    mailbox = start_mailbox(tmp_path / "mail", None)
    try:
        runtime = demo_cameras.CameraRuntime(
            camera_server, mailbox, tmp_path / "bundle.pem"
        )
        environment = runtime.worker_environment(
            {"GOVPORTAL_CAMERA_CHECK_INTERVAL": "30", "GOVPORTAL_SMTP_TLS": "ssl"}
        )
    finally:
        mailbox.stop()
    assert environment["GOVPORTAL_CAMERA_CHECK_INTERVAL"] == "30"
    assert environment["GOVPORTAL_CAMERA_FROZEN_AFTER"] == "240"
    assert environment["GOVPORTAL_FETCH_EXTRA_CA_BUNDLE"] == str(
        tmp_path / "bundle.pem"
    )
    assert environment["GOVPORTAL_SMTP_PORT"] == str(mailbox.port)
    assert "GOVPORTAL_SMTP_TLS" not in environment
