"""The operations team's camera pages in the admin site."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govportal.cameras.models import (
    CameraCheck,
    CameraHealthEvent,
    CameraReport,
    HostIncident,
)
from tests.cameras.test_health import make_camera

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def add_cameras(agency, editor, count: int, start: int = 0) -> list:
    cameras = []
    for n in range(start, start + count):
        camera = make_camera(
            agency, editor, f"CCTV-{n:04d}", f"https://cctv.example.test/{n}.jpg"
        )
        CameraCheck.objects.create(
            camera=camera, checked_at=timezone.now(), ok=True, elapsed_ms=12
        )
        cameras.append(camera)
    return cameras


def changelist_queries(admin_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/cameras/camera/")
    assert response.status_code == 200
    return len(queries)


def test_camera_list_queries_do_not_grow_with_cameras(admin_client, agency, editor):
    add_cameras(agency, editor, 3)
    few = changelist_queries(admin_client)
    add_cameras(agency, editor, 30, start=3)
    many = changelist_queries(admin_client)
    assert many == few


def test_camera_list_search_by_name(admin_client, agency, editor):
    add_cameras(agency, editor, 3)
    response = admin_client.get("/admin/cameras/camera/", {"q": "CCTV-0002"})
    body = response.content.decode()
    assert "CCTV-0002" in body
    assert "CCTV-0001" not in body
    response = admin_client.get("/admin/cameras/camera/", {"q": "camera CCTV-0001"})
    assert "CCTV-0001" in response.content.decode()


def test_agency_filter_lists_only_agencies_with_cameras(admin_client, agency, editor):
    from tests.publishing.helpers import make_agency

    make_agency("A99999999Z", "沒有監視器的機關")
    add_cameras(agency, editor, 1)
    body = admin_client.get("/admin/cameras/camera/").content.decode()
    assert agency.name_zh in body
    assert "沒有監視器的機關" not in body


def test_camera_page_shows_checks_and_changes_escaped(admin_client, agency, editor):
    (camera,) = add_cameras(agency, editor, 1)
    CameraCheck.objects.create(
        camera=camera,
        checked_at=timezone.now() + timedelta(seconds=1),
        ok=False,
        problem_code="not_an_image",
        detail=XSS,
        elapsed_ms=40,
    )
    CameraHealthEvent.objects.create(
        camera=camera, at=timezone.now(), from_state="up", to_state="down", reason=XSS
    )
    body = admin_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content
    text = body.decode()
    assert "not_an_image" in text
    assert XSS not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_reports_incidents_events_and_checks_listed(admin_client, agency, editor):
    (camera,) = add_cameras(agency, editor, 1)
    check = CameraCheck.objects.get(camera=camera)
    CameraReport.objects.create(
        camera=camera, reported_at=timezone.now(), description=XSS, check_result=check
    )
    incident = HostIncident.objects.create(
        host="cctv.example.test", started_at=timezone.now()
    )
    CameraHealthEvent.objects.create(
        camera=camera,
        at=timezone.now(),
        from_state="up",
        to_state="down",
        host="cctv.example.test",
        incident=incident,
    )
    for path in (
        "/admin/cameras/camerareport/",
        "/admin/cameras/hostincident/",
        "/admin/cameras/camerahealthevent/",
        "/admin/cameras/cameracheck/",
        "/admin/cameras/maintenancewindow/",
        "/admin/cameras/cameracontact/",
        "/admin/cameras/maintenancewindow/add/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert XSS not in response.content.decode(), path
    reports = admin_client.get("/admin/cameras/camerareport/").content.decode()
    assert "&lt;script&gt;" in reports


def test_mark_reports_handled(admin_client, agency, editor):
    (camera,) = add_cameras(agency, editor, 1)
    report = CameraReport.objects.create(camera=camera, reported_at=timezone.now())
    admin_client.post(
        "/admin/cameras/camerareport/",
        {"action": "mark_handled", "_selected_action": [report.pk]},
    )
    report.refresh_from_db()
    assert report.handled


def test_checks_cannot_be_added_or_changed(admin_client, agency, editor):
    (camera,) = add_cameras(agency, editor, 1)
    check = CameraCheck.objects.get(camera=camera)
    assert admin_client.get("/admin/cameras/cameracheck/add/").status_code == 403
    response = admin_client.post(
        f"/admin/cameras/cameracheck/{check.pk}/change/", {"ok": "on"}
    )
    assert response.status_code == 403
