"""CAM-12: a flapping camera changes the public site once, not every minute."""

import itertools

import pytest

from govportal.cameras.health import public_camera_fingerprint
from govportal.cameras.models import HealthState
from tests.cameras.test_health import SERVER_ERROR, good_frame, make_camera, run_checks
from tests.publishing.helpers import make_user, publish

pytestmark = pytest.mark.django_db


def test_flapping_camera_changes_site_state_twice(
    loopback, fixture_server, agency, editor
):
    alternating = [good_frame(1), good_frame(2)]
    for seed in range(3, 30):
        alternating += [SERVER_ERROR, good_frame(seed)]
    fixture_server.route("/flap.jpg", alternating)
    camera = make_camera(agency, editor, "FLAP", fixture_server.url("/flap.jpg"))
    publish(camera, editor, make_user("reviewer", reviewer=True))

    fingerprints = [public_camera_fingerprint()]
    for _ in range(len(alternating)):
        run_checks(camera, 1)
        fingerprints.append(public_camera_fingerprint())

    distinct_changes = sum(
        1 for before, after in itertools.pairwise(fingerprints) if before != after
    )
    # Up after the first two good frames, down once the failures add up, and
    # no change after that: two rebuilds in 56 checks (56 minutes at most).
    assert camera.health_state == HealthState.DOWN
    assert distinct_changes == 2


def test_unpublished_camera_not_in_fingerprint(agency, editor):
    make_camera(agency, editor, "DRAFT", "https://cctv.example.test/a.jpg")
    assert public_camera_fingerprint() == {"count": 0}


def test_approval_changes_fingerprint(agency, editor):
    camera = make_camera(agency, editor, "NEW", "https://cctv.example.test/a.jpg")
    before = public_camera_fingerprint()
    publish(camera, editor, make_user("reviewer", reviewer=True))
    assert public_camera_fingerprint() != before
