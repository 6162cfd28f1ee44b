"""`govportal cameras check` and `govportal cameras status`."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.cameras.test_health import SERVER_ERROR, good_frame, make_camera

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("cameras", *args, stdout=out)
    return out.getvalue()


def test_check_prints_result_and_state(loopback, fixture_server, agency, editor):
    fixture_server.route("/good.jpg", good_frame(1))
    fixture_server.route("/bad.jpg", SERVER_ERROR)
    good = make_camera(agency, editor, "CCTV-GOOD", fixture_server.url("/good.jpg"))
    bad = make_camera(agency, editor, "CCTV-BAD", fixture_server.url("/bad.jpg"))

    output = run("check", str(good.pk), str(bad.pk))

    lines = output.splitlines()
    assert lines[0].startswith(f"{good.pk}\tCCTV-GOOD\tok\t")
    assert lines[1].startswith(f"{bad.pk}\tCCTV-BAD\thttp_status: ")
    assert lines[1].endswith("unknown")


def test_check_by_agency(loopback, fixture_server, agency, editor):
    fixture_server.route("/good.jpg", good_frame(1))
    make_camera(agency, editor, "CCTV-A", fixture_server.url("/good.jpg"))
    output = run("check", "--agency", agency.code)
    assert "CCTV-A\tok" in output


def test_check_unknown_id_names_it(agency, editor):
    with pytest.raises(CommandError, match="No camera has the id 4242"):
        run("check", "4242")


def test_check_without_cameras_says_what_to_give():
    with pytest.raises(CommandError, match="Give camera ids or --agency"):
        run("check")


def test_status_counts(agency, editor):
    make_camera(agency, editor, "CCTV-1", "https://cctv.example.test/1.jpg")
    output = run("status")
    assert "published cameras: 0 unknown, 0 up, 0 down; not published" in output
    assert "(not checked): 1" in output
    assert "changes waiting to be mailed: 0" in output
    assert "visitor reports not handled: 0" in output
