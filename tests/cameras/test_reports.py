"""The "report a broken camera" form and the re-check it starts."""

import pytest
from django.core.cache import cache
from django.test import Client

from govportal.cameras.models import CameraCheck, CameraReport
from tests.cameras.test_health import SERVER_ERROR, good_frame, make_camera
from tests.publishing.helpers import make_user, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def public_camera(loopback, fixture_server, agency, editor):
    fixture_server.route("/cam.jpg", good_frame(1))
    camera = make_camera(agency, editor, "CCTV-R1", fixture_server.url("/cam.jpg"))
    publish(camera, editor, make_user("reviewer", reviewer=True))
    return camera


def report_url(camera_id: int) -> str:
    return f"/cameras/report/{camera_id}/"


def test_form_shown_for_public_camera(client, public_camera):
    response = client.get(report_url(public_camera.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "回報影像異常" in body
    assert "camera CCTV-R1" in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_draft_and_unknown_cameras_are_404(client, agency, editor):
    draft = make_camera(agency, editor, "CCTV-DRAFT", "https://cctv.example.test/a.jpg")
    assert client.get(report_url(draft.pk)).status_code == 404
    assert client.get(report_url(999999)).status_code == 404


def test_report_stored_and_camera_checked(
    client, public_camera, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            report_url(public_camera.pk), {"description": "畫面全黑\x08\u202e"}
        )
    assert response.status_code == 302
    assert response["Location"] == f"{report_url(public_camera.pk)}?sent=1"
    assert "已收到回報" in client.get(response["Location"]).content.decode()
    report = CameraReport.objects.get(camera=public_camera)
    assert report.description == "畫面全黑"
    assert report.check_result is not None
    assert report.check_result.ok


def test_failed_recheck_kept_with_report(
    client, public_camera, fixture_server, django_capture_on_commit_callbacks
):
    fixture_server.route("/cam.jpg", SERVER_ERROR)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(report_url(public_camera.pk), {"description": ""})
    report = CameraReport.objects.get(camera=public_camera)
    assert report.check_result is not None
    assert not report.check_result.ok
    assert report.check_result.problem_code == "http_status"


def test_camera_checked_a_moment_ago_not_checked_again(
    client, public_camera, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(report_url(public_camera.pk), {"description": "first"})
        client.post(report_url(public_camera.pk), {"description": "second"})
    assert CameraReport.objects.filter(camera=public_camera).count() == 2
    assert CameraCheck.objects.filter(camera=public_camera).count() == 1
    checks = {r.check_result_id for r in CameraReport.objects.all()}
    assert len(checks) == 1


def test_script_in_description_stored_as_text(
    client, public_camera, django_capture_on_commit_callbacks
):
    payload = "<script>alert(1)</script>{{7*7}}${7*7}<img src=x onerror=alert(1)>"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(report_url(public_camera.pk), {"description": payload})
    assert CameraReport.objects.get().description == payload


def test_too_long_description_rejected(client, public_camera):
    response = client.post(report_url(public_camera.pk), {"description": "長" * 1001})
    assert response.status_code == 400
    assert CameraReport.objects.count() == 0


def test_too_many_reports_get_429(
    client, public_camera, django_capture_on_commit_callbacks
):
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(7):
            statuses.append(
                client.post(
                    report_url(public_camera.pk), {"description": "x"}
                ).status_code
            )
    assert statuses[:5] == [302] * 5
    assert statuses[5:] == [429, 429]
    assert CameraReport.objects.count() == 5


def test_post_without_csrf_token_rejected(public_camera):
    client = Client(enforce_csrf_checks=True)
    response = client.post(report_url(public_camera.pk), {"description": "x"})
    assert response.status_code == 403
    assert CameraReport.objects.count() == 0
