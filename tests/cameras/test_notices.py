"""Mail on camera changes through a real SMTP server, host incidents and
maintenance windows, driven by real checks against the loopback server."""

from datetime import timedelta

import pytest
from django.utils import timezone

from govportal.cameras.health import check_cameras
from govportal.cameras.models import (
    CameraCheck,
    CameraContact,
    CameraHealthEvent,
    HealthState,
    HostIncident,
    MaintenanceWindow,
    NoticeState,
    StreamKind,
)
from govportal.cameras.notices import send_pending_notices
from govportal.cameras.tasks import purge_old_checks
from govportal.feeds.ingest import fetch_policy
from govportal.publishing.workflow import create_draft
from tests.camcheck import media_playlist
from tests.cameras.test_health import (
    FAST_LIMITS,
    SERVER_ERROR,
    good_frame,
    make_camera,
)
from tests.support.fixture_server import Response
from tests.support.smtp import smtp_mailers, smtp_server

pytestmark = pytest.mark.django_db

HLS_HEADERS = {"Content-Type": "application/vnd.apple.mpegurl"}
TS_HEADERS = {"Content-Type": "video/mp2t"}


@pytest.fixture
def mail(settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_DEADLINE_SECONDS = 3
    settings.CAMERA_NOTICE_DELAY_SECONDS = 0
    with smtp_server() as (mailbox, port):
        settings.MAILERS = smtp_mailers(port)
        yield mailbox


def check_round(cameras, times: int = 1) -> None:
    policy = fetch_policy(respect_robots=False)
    for _ in range(times):
        for camera in cameras:
            camera.refresh_from_db()
        check_cameras(cameras, policy=policy, limits=FAST_LIMITS)
    for camera in cameras:
        camera.refresh_from_db()


def broken_camera(fixture_server, agency, editor, source_id: str):
    path = f"/{source_id}.jpg"
    fixture_server.route(path, SERVER_ERROR)
    return make_camera(agency, editor, source_id, fixture_server.url(path))


def test_down_camera_mailed_once_to_contacts(mail, fixture_server, agency, editor):
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    CameraContact.objects.create(agency=agency, email="duty@freeway.example")
    camera = broken_camera(fixture_server, agency, editor, "CCTV-N1-S-1")

    check_round([camera], times=3)
    assert camera.health_state == HealthState.DOWN
    report = send_pending_notices()
    again = send_pending_notices()

    assert (report.mails_sent, report.events_sent) == (1, 1)
    assert again.mails_sent == 0
    assert len(mail.messages) == 1
    message = mail.messages[0]
    assert sorted(message["To"].addresses[i].addr_spec for i in range(2)) == [
        "cctv@freeway.example",
        "duty@freeway.example",
    ]
    assert "1 無法提供 down" in message["Subject"]
    body = message.get_content()
    assert "CCTV-N1-S-1" in body
    assert "無法提供 DOWN" in body
    assert "3 of the last 3 checks failed" in body
    event = CameraHealthEvent.objects.get(camera=camera)
    assert event.notice == NoticeState.SENT
    assert event.notified_at is not None


def test_notice_waits_for_the_delay(mail, settings, fixture_server, agency, editor):
    settings.CAMERA_NOTICE_DELAY_SECONDS = 300
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    camera = broken_camera(fixture_server, agency, editor, "CCTV-WAIT")
    check_round([camera], times=3)

    assert send_pending_notices().mails_sent == 0
    later = timezone.now() + timedelta(seconds=301)
    assert send_pending_notices(now=later).mails_sent == 1
    assert len(mail.messages) == 1


def test_down_and_back_up_in_one_mail(mail, settings, fixture_server, agency, editor):
    settings.CAMERA_NOTICE_DELAY_SECONDS = 300
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    camera = make_camera(agency, editor, "CCTV-BLIP", fixture_server.url("/blip.jpg"))
    fixture_server.route("/blip.jpg", good_frame(1))
    check_round([camera], times=2)
    fixture_server.route("/blip.jpg", SERVER_ERROR)
    check_round([camera], times=3)
    fixture_server.route("/blip.jpg", good_frame(2))
    check_round([camera], times=2)
    assert camera.health_state == HealthState.UP

    send_pending_notices(now=timezone.now() + timedelta(seconds=301))
    assert len(mail.messages) == 1
    body = mail.messages[0].get_content()
    assert "無法提供 DOWN" in body
    assert "恢復 UP" in body
    # The first good result of a new camera is no news.
    first = CameraHealthEvent.objects.filter(camera=camera).order_by("at", "id")[0]
    assert (first.from_state, first.notice) == ("unknown", NoticeState.NOT_NEEDED)


def test_maintenance_window_holds_mail_back(mail, fixture_server, agency, editor):
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    now = timezone.now()
    MaintenanceWindow.objects.create(
        agency=agency,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        reason="replacing the fibre",
    )
    camera = broken_camera(fixture_server, agency, editor, "CCTV-MAINT")
    check_round([camera], times=3)

    send_pending_notices()
    assert camera.health_state == HealthState.DOWN
    assert mail.messages == []
    event = CameraHealthEvent.objects.get(camera=camera)
    assert event.notice == NoticeState.MAINTENANCE


def test_window_of_another_camera_does_not_hold_back(
    mail, fixture_server, agency, editor
):
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    other = make_camera(agency, editor, "CCTV-OTHER", fixture_server.url("/o.jpg"))
    now = timezone.now()
    MaintenanceWindow.objects.create(
        agency=agency,
        camera=other,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
    )
    camera = broken_camera(fixture_server, agency, editor, "CCTV-NOT-IN-WINDOW")
    check_round([camera], times=3)
    send_pending_notices()
    assert len(mail.messages) == 1


def test_agency_without_contact_is_recorded(mail, fixture_server, agency, editor):
    camera = broken_camera(fixture_server, agency, editor, "CCTV-NOBODY")
    check_round([camera], times=3)
    report = send_pending_notices()
    assert report.events_without_contact == 1
    assert mail.messages == []
    event = CameraHealthEvent.objects.get(camera=camera)
    assert event.notice == NoticeState.NO_CONTACT


def test_rejected_mail_stays_pending(mail, fixture_server, agency, editor):
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    camera = broken_camera(fixture_server, agency, editor, "CCTV-RETRY")
    check_round([camera], times=3)

    mail.reject = True
    report = send_pending_notices()
    assert report.mails_failed == 1
    assert CameraHealthEvent.objects.get(camera=camera).notice == NoticeState.PENDING

    mail.reject = False
    assert send_pending_notices().mails_sent == 1
    assert len(mail.messages) == 1


def test_mail_relay_down_keeps_notice(settings, fixture_server, agency, editor):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.CAMERA_NOTICE_DELAY_SECONDS = 0
    with smtp_server() as (_, port):
        pass  # the port is closed again: nothing listens there now
    settings.MAILERS = smtp_mailers(port)
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    camera = broken_camera(fixture_server, agency, editor, "CCTV-NO-RELAY")
    check_round([camera], times=3)
    assert send_pending_notices().mails_failed == 1
    assert CameraHealthEvent.objects.get(camera=camera).notice == NoticeState.PENDING


def test_host_outage_is_one_incident_and_one_mail(mail, fixture_server, agency, editor):
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    cameras = [
        broken_camera(fixture_server, agency, editor, f"CCTV-HOST-{n}")
        for n in range(5)
    ]
    check_round(cameras, times=3)

    assert HostIncident.objects.count() == 1
    incident = HostIncident.objects.get()
    assert incident.host == "127.0.0.1"
    assert incident.ended_at is None
    assert CameraHealthEvent.objects.filter(incident=incident).count() == 5
    send_pending_notices()
    assert len(mail.messages) == 1
    body = mail.messages[0].get_content()
    assert "Host 127.0.0.1：5 支無法提供 down" in body

    for n in range(5):
        fixture_server.route(f"/CCTV-HOST-{n}.jpg", good_frame(n))
    check_round(cameras, times=2)
    incident.refresh_from_db()
    assert incident.ended_at is not None
    assert CameraHealthEvent.objects.filter(incident=incident).count() == 10
    send_pending_notices()
    assert len(mail.messages) == 2
    assert "5 支恢復 back up" in mail.messages[1].get_content()


def test_two_cameras_down_are_not_an_incident(mail, fixture_server, agency, editor):
    cameras = [
        broken_camera(fixture_server, agency, editor, f"CCTV-PAIR-{n}")
        for n in range(2)
    ]
    check_round(cameras, times=3)
    assert HostIncident.objects.count() == 0


def test_camera_name_cannot_add_lines_to_mail(mail, fixture_server, agency, editor):
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    fixture_server.route("/forged.jpg", SERVER_ERROR)
    from govportal.cameras.models import Camera

    camera = Camera(agency=agency, source_id="CCTV-FORGED")
    create_draft(
        camera,
        {
            "name": "國道1號\r\nBcc: everyone@example.test\n- 恢復 UP fake",
            "stream_kind": StreamKind.JPEG_SNAPSHOT.value,
            "stream_url": fixture_server.url("/forged.jpg"),
        },
        editor,
    )
    check_round([camera], times=3)
    send_pending_notices()
    message = mail.messages[0]
    assert message["Bcc"] is None
    lines = message.get_content().splitlines()
    assert not any(line.startswith("Bcc:") for line in lines)
    assert not any(line.startswith("- 恢復 UP fake") for line in lines)


def test_stale_playlist_found_from_stored_checks(
    settings, fixture_server, agency, editor
):
    """The stored previous check carries the HLS position between rounds."""
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    fixture_server.route(
        "/hls/live.m3u8", Response(200, HLS_HEADERS, media_playlist(7, ["s7.ts"]))
    )
    fixture_server.route("/hls/s7.ts", Response(200, TS_HEADERS, b"\x47" * 1880))
    from govportal.cameras.models import Camera

    camera = Camera(agency=agency, source_id="CCTV-HLS")
    create_draft(
        camera,
        {
            "name": "HLS camera",
            "stream_kind": StreamKind.HLS.value,
            "stream_url": fixture_server.url("/hls/live.m3u8"),
        },
        editor,
    )
    policy = fetch_policy(respect_robots=False)
    first = check_cameras([camera], policy=policy, limits=FAST_LIMITS)[0]
    assert first.result.ok
    # Move the first check back in time, as if the playlist had not moved
    # for longer than stale_after.
    CameraCheck.objects.filter(camera=camera).update(
        checked_at=timezone.now() - timedelta(minutes=10),
        unchanged_since=timezone.now() - timedelta(minutes=10),
    )
    camera.refresh_from_db()
    second = check_cameras([camera], policy=policy, limits=FAST_LIMITS)[0]
    assert second.result.problem_code == "stale_playlist"


def test_playlist_may_use_approved_hosts_only(settings, fixture_server, agency, editor):
    from govportal.cameras.models import ApprovedStreamHost, Camera

    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    fixture_server.route(
        "/hls/cdn.m3u8",
        Response(
            200,
            HLS_HEADERS,
            media_playlist(3, ["https://cdn.example.test/s3.ts"]),
        ),
    )
    camera = Camera(agency=agency, source_id="CCTV-CDN")
    create_draft(
        camera,
        {
            "name": "HLS via a CDN",
            "stream_kind": StreamKind.HLS.value,
            "stream_url": fixture_server.url("/hls/cdn.m3u8"),
        },
        editor,
    )
    ApprovedStreamHost.objects.create(agency=agency, host="cctv.example.test")
    policy = fetch_policy(respect_robots=False)
    outcome = check_cameras([camera], policy=policy, limits=FAST_LIMITS)[0]
    assert outcome.result.problem_code == "playlist_points_outside"
    assert "cdn.example.test" in outcome.result.detail


def test_old_checks_purged(agency, editor, settings):
    settings.CAMERA_CHECK_RETENTION_DAYS = 35
    camera = make_camera(agency, editor, "CCTV-OLD", "https://cctv.example.test/a.jpg")
    now = timezone.now()
    for days in (40, 36, 34, 1):
        CameraCheck.objects.create(
            camera=camera,
            checked_at=now - timedelta(days=days),
            ok=True,
            elapsed_ms=10,
        )
    assert purge_old_checks(now) == 2
    assert CameraCheck.objects.filter(camera=camera).count() == 2


def test_later_changes_join_the_mail_that_is_due(
    mail, settings, fixture_server, agency, editor
):
    settings.CAMERA_NOTICE_DELAY_SECONDS = 300
    CameraContact.objects.create(agency=agency, email="cctv@freeway.example")
    first = broken_camera(fixture_server, agency, editor, "CCTV-EARLY")
    second = broken_camera(fixture_server, agency, editor, "CCTV-LATE")
    check_round([first], times=3)
    CameraHealthEvent.objects.filter(camera=first).update(
        at=timezone.now() - timedelta(seconds=301)
    )
    check_round([second], times=3)

    report = send_pending_notices()

    assert (report.mails_sent, report.events_sent) == (1, 2)
    body = mail.messages[0].get_content()
    assert "CCTV-EARLY" in body
    assert "CCTV-LATE" in body


def test_camera_faults_open_no_incident(mail, fixture_server, agency, editor):
    """A 404 from five cameras does not mean that their host is down."""
    cameras = []
    for n in range(5):
        path = f"/gone{n}.jpg"
        fixture_server.route(path, Response(404, {"Content-Type": "text/plain"}, b"no"))
        cameras.append(
            make_camera(agency, editor, f"CCTV-GONE-{n}", fixture_server.url(path))
        )
    check_round(cameras, times=3)

    assert all(camera.health_state == HealthState.DOWN for camera in cameras)
    assert HostIncident.objects.count() == 0
    events = CameraHealthEvent.objects.filter(to_state=HealthState.DOWN)
    assert {(e.problem_code, e.host_level) for e in events} == {("http_status", False)}
