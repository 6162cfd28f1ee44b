"""Camera health checks against the loopback fixture server, and their schedule.

Cameras are created with ``create_draft``, which stores the snapshot
without validation. That is what lets the tests use http://127.0.0.1
stream URLs, which the importer's checks would reject.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from govportal.cameras.health import FROZEN_PROBLEM_CODE, check_cameras
from govportal.cameras.models import (
    Camera,
    CameraCheck,
    CameraHealthEvent,
    CameraSchedule,
    HealthState,
    StreamKind,
)
from govportal.cameras.tasks import (
    check_interval,
    claim_due_cameras,
    queue_due_cameras,
    schedule_new_cameras,
)
from govportal.feeds.ingest import fetch_policy
from govportal.lib.camcheck import CheckLimits
from govportal.publishing.workflow import create_draft, withdraw
from tests.camcheck import jpeg_bytes
from tests.publishing.helpers import publish
from tests.support.fixture_server import Response, never_answer

JPEG_HEADERS = {"Content-Type": "image/jpeg"}
FAST_LIMITS = CheckLimits(deadline=4.0, frame_timeout=1.5)
# A run of two equal frames counts as frozen at once.
FREEZE_AT_ONCE = CheckLimits(deadline=4.0, frame_timeout=1.5, frozen_after=0.0)


def good_frame(seed: int) -> Response:
    return Response(200, JPEG_HEADERS, jpeg_bytes(seed))


SERVER_ERROR = Response(500, {"Content-Type": "text/plain"}, b"camera offline")


def make_camera(agency, editor, source_id: str, url: str) -> Camera:
    camera = Camera(agency=agency, source_id=source_id)
    snapshot = {
        "name": f"camera {source_id}",
        "stream_kind": StreamKind.JPEG_SNAPSHOT.value,
        "stream_url": url,
    }
    create_draft(camera, snapshot, editor)
    return camera


def run_checks(camera: Camera, times: int, limits: CheckLimits = FAST_LIMITS):
    policy = fetch_policy(respect_robots=False)
    outcomes = []
    for _ in range(times):
        camera.refresh_from_db()
        outcomes += check_cameras([camera], policy=policy, limits=limits)
    camera.refresh_from_db()
    return outcomes


def events(camera: Camera) -> list[tuple[str, str]]:
    rows = CameraHealthEvent.objects.filter(camera=camera).order_by("at", "id")
    return [(row.from_state, row.to_state) for row in rows]


@pytest.mark.django_db
def test_good_camera_up_after_two_checks(loopback, fixture_server, agency, editor):
    fixture_server.route("/good.jpg", [good_frame(1), good_frame(2), good_frame(3)])
    camera = make_camera(agency, editor, "C1", fixture_server.url("/good.jpg"))

    run_checks(camera, 1)
    assert camera.health_state == HealthState.UNKNOWN
    assert camera.health_changed_at is None

    outcomes = run_checks(camera, 1)
    assert camera.health_state == HealthState.UP
    assert camera.health_changed_at is not None
    assert outcomes[0].changed
    assert events(camera) == [(HealthState.UNKNOWN, HealthState.UP)]

    run_checks(camera, 1)
    assert camera.health_state == HealthState.UP
    assert len(events(camera)) == 1


@pytest.mark.django_db
def test_checks_are_stored(loopback, fixture_server, agency, editor):
    fixture_server.route("/good.jpg", good_frame(1))
    fixture_server.route("/bad.jpg", SERVER_ERROR)
    good = make_camera(agency, editor, "G", fixture_server.url("/good.jpg"))
    bad = make_camera(agency, editor, "B", fixture_server.url("/bad.jpg"))

    outcomes = check_cameras(
        [good, bad], policy=fetch_policy(respect_robots=False), limits=FAST_LIMITS
    )

    assert len(outcomes) == 2
    good_row = CameraCheck.objects.get(camera=good)
    assert good_row.ok
    assert good_row.problem_code == ""
    assert good_row.fingerprint.startswith("ahash16:")
    assert good_row.elapsed_ms >= 0
    bad_row = CameraCheck.objects.get(camera=bad)
    assert not bad_row.ok
    assert bad_row.problem_code != ""
    assert bad_row.fingerprint == ""
    assert fixture_server.hits("/good.jpg") == 1
    assert fixture_server.hits("/bad.jpg") == 1


@pytest.mark.django_db
def test_camera_without_stream_skipped(loopback, agency, editor):
    camera = make_camera(agency, editor, "NONE", "")

    outcomes = check_cameras([camera], policy=fetch_policy(respect_robots=False))

    assert outcomes == []
    assert not CameraCheck.objects.filter(camera=camera).exists()


@pytest.mark.django_db
def test_http_error_down_after_three(loopback, fixture_server, agency, editor):
    goods_after_glitch = [good_frame(seed) for seed in range(3, 9)]
    fixture_server.route(
        "/cam.jpg",
        [good_frame(1), good_frame(2), SERVER_ERROR, *goods_after_glitch, SERVER_ERROR],
    )
    camera = make_camera(agency, editor, "E1", fixture_server.url("/cam.jpg"))

    run_checks(camera, 2)
    assert camera.health_state == HealthState.UP

    # One glitch changes nothing. The good checks after it push it out of
    # the six results that next_state reads.
    run_checks(camera, 1)
    assert camera.health_state == HealthState.UP
    run_checks(camera, len(goods_after_glitch))
    assert camera.health_state == HealthState.UP

    # The route repeats the error from here on.
    run_checks(camera, 2)
    assert camera.health_state == HealthState.UP
    run_checks(camera, 1)
    assert camera.health_state == HealthState.DOWN
    assert events(camera) == [
        (HealthState.UNKNOWN, HealthState.UP),
        (HealthState.UP, HealthState.DOWN),
    ]
    event = CameraHealthEvent.objects.filter(to_state=HealthState.DOWN).get()
    assert "http" in event.reason


@pytest.mark.django_db
def test_frozen_camera_goes_down(loopback, fixture_server, agency, editor):
    fixture_server.route("/still.jpg", good_frame(7))
    camera = make_camera(agency, editor, "F1", fixture_server.url("/still.jpg"))

    outcomes = run_checks(camera, 4, limits=FREEZE_AT_ONCE)

    assert outcomes[0].result.ok
    for outcome in outcomes[1:]:
        assert not outcome.result.ok
        assert outcome.result.problem_code == FROZEN_PROBLEM_CODE
    assert camera.health_state == HealthState.DOWN
    stored_codes = list(
        CameraCheck.objects.filter(camera=camera)
        .order_by("checked_at")
        .values_list("problem_code", flat=True)
    )
    assert stored_codes == [""] + [FROZEN_PROBLEM_CODE] * 3


@pytest.mark.django_db
def test_changing_frames_not_frozen(loopback, fixture_server, agency, editor):
    fixture_server.route("/live.jpg", [good_frame(1), good_frame(2), good_frame(3)])
    camera = make_camera(agency, editor, "L1", fixture_server.url("/live.jpg"))

    outcomes = run_checks(camera, 3, limits=FREEZE_AT_ONCE)

    assert all(outcome.result.ok for outcome in outcomes)
    assert camera.health_state == HealthState.UP


@pytest.mark.django_db
def test_flapping_camera_stays_down(loopback, fixture_server, agency, editor):
    alternating = [good_frame(1), good_frame(2)]
    for seed in range(3, 10):
        alternating += [SERVER_ERROR, good_frame(seed)]
    fixture_server.route("/flap.jpg", alternating)
    camera = make_camera(agency, editor, "FL", fixture_server.url("/flap.jpg"))

    run_checks(camera, 2)
    assert camera.health_state == HealthState.UP

    run_checks(camera, len(alternating) - 2)

    assert camera.health_state == HealthState.DOWN
    assert events(camera) == [
        (HealthState.UNKNOWN, HealthState.UP),
        (HealthState.UP, HealthState.DOWN),
    ]


@pytest.mark.django_db
def test_claim_takes_due_camera_once(agency, editor, reviewer):
    cameras = [
        make_camera(agency, editor, f"S{index}", f"http://127.0.0.1:9/{index}.jpg")
        for index in range(5)
    ]
    for camera in cameras:
        publish(camera, editor, reviewer)
    now = timezone.now()

    assert schedule_new_cameras(now) == 5
    assert schedule_new_cameras(now) == 0
    schedules = CameraSchedule.objects.order_by("next_check_at")
    offsets = [schedule.next_check_at - now for schedule in schedules]
    assert offsets[0] == timedelta(0)
    assert all(offset < check_interval() for offset in offsets)
    assert len(set(offsets)) == 5

    later = now + check_interval()
    first = claim_due_cameras(later)
    second = claim_due_cameras(later)

    assert sorted(first) == sorted(camera.pk for camera in cameras)
    assert second == []
    for schedule in CameraSchedule.objects.all():
        assert schedule.claimed_until is not None
        assert schedule.next_check_at > later


@pytest.mark.django_db
def test_scheduler_queues_and_checks_camera(
    loopback, fixture_server, agency, editor, reviewer
):
    fixture_server.route("/cam.jpg", good_frame(1))
    camera = make_camera(agency, editor, "Q1", fixture_server.url("/cam.jpg"))
    publish(camera, editor, reviewer)

    # The only camera gets offset zero, so it is due at once.
    assert queue_due_cameras() == 1
    assert queue_due_cameras() == 0

    check = CameraCheck.objects.get(camera=camera)
    assert check.ok, check.detail
    schedule = CameraSchedule.objects.get(camera=camera)
    assert schedule.claimed_until is None
    assert schedule.next_check_at > timezone.now()


@pytest.mark.django_db
def test_only_public_cameras_are_scheduled(agency, editor, reviewer):
    draft = make_camera(agency, editor, "DRAFT", "https://cctv.example.test/d.jpg")
    public = make_camera(agency, editor, "PUBLIC", "https://cctv.example.test/p.jpg")
    publish(public, editor, reviewer)
    # A newer revision with a problem waits for review; the approved one
    # stays public and checked.
    pending = make_camera(agency, editor, "PENDING", "https://cctv.example.test/b.jpg")
    publish(pending, editor, reviewer)
    pending.stream_problem = "stream not https"
    pending.save(update_fields=["stream_problem"])
    withdrawn = make_camera(agency, editor, "GONE", "https://cctv.example.test/g.jpg")
    publish(withdrawn, editor, reviewer)
    now = timezone.now()
    schedule_new_cameras(now)
    withdraw(withdrawn, reviewer, "camera removed from the road")

    claimed = claim_due_cameras(now + check_interval())

    assert sorted(claimed) == sorted([public.pk, pending.pk])
    assert not CameraSchedule.objects.filter(camera=draft).exists()


@pytest.mark.django_db
def test_claim_moves_next_check_one_interval(agency, editor, reviewer):
    on_time = make_camera(agency, editor, "ON-TIME", "https://cctv.example.test/a.jpg")
    late = make_camera(agency, editor, "LATE", "https://cctv.example.test/b.jpg")
    for camera in (on_time, late):
        publish(camera, editor, reviewer)
    now = timezone.now()
    interval = check_interval()
    CameraSchedule.objects.create(
        camera=on_time, next_check_at=now - timedelta(seconds=5)
    )
    CameraSchedule.objects.create(camera=late, next_check_at=now - 3 * interval)

    assert sorted(claim_due_cameras(now)) == sorted([on_time.pk, late.pk])

    schedules = {s.camera_id: s for s in CameraSchedule.objects.all()}
    assert schedules[on_time.pk].next_check_at == now - timedelta(seconds=5) + interval
    assert schedules[late.pk].next_check_at == now + interval
    assert schedules[on_time.pk].claimed_until > now


@pytest.mark.django_db
def test_hanging_cameras_do_not_time_out_good_ones(
    loopback, fixture_server, agency, editor
):
    loopback.CAMERA_PER_HOST_LIMIT = 2
    cameras = []
    for index in range(3):
        fixture_server.route(f"/hang{index}.jpg", never_answer())
        cameras.append(
            make_camera(
                agency, editor, f"HANG{index}", fixture_server.url(f"/hang{index}.jpg")
            )
        )
    for index in range(5):
        fixture_server.route(f"/good{index}.jpg", good_frame(index))
        cameras.append(
            make_camera(
                agency, editor, f"GOOD{index}", fixture_server.url(f"/good{index}.jpg")
            )
        )

    outcomes = check_cameras(
        cameras, limits=CheckLimits(deadline=1.0, frame_timeout=0.5)
    )

    results = {o.camera_id: o.result for o in outcomes}
    for camera in cameras[:3]:
        assert results[camera.pk].problem_code == "timeout"
    for camera in cameras[3:]:
        assert results[camera.pk].ok, results[camera.pk].detail
