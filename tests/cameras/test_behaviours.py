"""Each camera behaviour against the loopback server, with the state after each check.

The checks run through ``check_cameras``, the path the scheduler uses, so
the stored history (frozen frames, HLS positions, hysteresis) is part of
each case. States: unknown until the first decision, up after two good
checks, down after three failed ones (or three of the last six).
"""

from dataclasses import dataclass
from typing import Any

import pytest

from govportal.cameras.health import check_cameras
from govportal.cameras.models import Camera, CameraCheck, StreamKind
from govportal.feeds.ingest import fetch_policy
from govportal.lib.camcheck import CheckLimits
from govportal.publishing.workflow import create_draft
from tests.camcheck import jpeg_bytes, media_playlist, mjpeg_part
from tests.support.fixture_server import Response, never_answer

pytestmark = pytest.mark.django_db

JPEG = {"Content-Type": "image/jpeg"}
MJPEG = {"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
HLS = {"Content-Type": "application/vnd.apple.mpegurl"}
TS = {"Content-Type": "video/mp2t"}
HTML = {"Content-Type": "text/html; charset=utf-8"}

U, UP, DOWN = "unknown", "up", "down"
LIMITS = CheckLimits(deadline=3.0, frame_timeout=1.0)


@dataclass
class Case:
    kind: str
    path: str
    routes: dict[str, Any]
    states: list[str]
    problem: str = ""
    limits: CheckLimits = LIMITS


def hls_routes(sequences: list[int]) -> dict[str, Any]:
    routes: dict[str, Any] = {
        "/live.m3u8": [
            Response(200, HLS, media_playlist(n, [f"s{n}.ts", f"s{n + 1}.ts"]))
            for n in sequences
        ]
    }
    for n in range(min(sequences), max(sequences) + 2):
        routes[f"/s{n}.ts"] = Response(200, TS, b"\x47" * 1880)
    return routes


def flapping() -> list[Response]:
    responses = [Response(200, JPEG, jpeg_bytes(1)), Response(200, JPEG, jpeg_bytes(2))]
    for seed in range(3, 8):
        responses += [
            Response(503, HTML, b"busy"),
            Response(200, JPEG, jpeg_bytes(seed)),
        ]
    return responses


CASES = {
    "good_jpeg": Case(
        StreamKind.JPEG_SNAPSHOT,
        "/cam.jpg",
        {"/cam.jpg": [Response(200, JPEG, jpeg_bytes(n)) for n in range(3)]},
        [U, UP, UP],
    ),
    "good_mjpeg": Case(
        StreamKind.MJPEG,
        "/video.mjpg",
        {
            "/video.mjpg": [
                Response(
                    200, MJPEG, mjpeg_part(jpeg_bytes(n)) + mjpeg_part(jpeg_bytes(n))
                )
                for n in range(10, 13)
            ]
        },
        [U, UP, UP],
    ),
    "good_advancing_hls": Case(
        StreamKind.HLS, "/live.m3u8", hls_routes([100, 101, 102]), [U, UP, UP]
    ),
    "timeout": Case(
        StreamKind.JPEG_SNAPSHOT,
        "/cam.jpg",
        {"/cam.jpg": never_answer()},
        [U, U, DOWN],
        problem="timeout",
        limits=CheckLimits(deadline=0.8, frame_timeout=0.5),
    ),
    "http_error": Case(
        StreamKind.JPEG_SNAPSHOT,
        "/cam.jpg",
        {"/cam.jpg": Response(500, HTML, b"camera offline")},
        [U, U, DOWN],
        problem="http_status",
    ),
    "not_an_image": Case(
        StreamKind.JPEG_SNAPSHOT,
        "/cam.jpg",
        {"/cam.jpg": Response(200, HTML, b"<html><body>login</body></html>")},
        [U, U, DOWN],
        problem="not_an_image",
    ),
    "frozen_frame": Case(
        StreamKind.JPEG_SNAPSHOT,
        "/cam.jpg",
        {"/cam.jpg": Response(200, JPEG, jpeg_bytes(42))},
        # The first frame has nothing to compare with; then it is frozen.
        [U, U, U, DOWN],
        problem="frozen_frame",
        limits=CheckLimits(deadline=3.0, frame_timeout=1.0, frozen_after=0.0),
    ),
    "stale_hls": Case(
        StreamKind.HLS,
        "/live.m3u8",
        hls_routes([7, 7, 7, 7]),
        [U, U, U, DOWN],
        problem="stale_playlist",
        limits=CheckLimits(deadline=3.0, frame_timeout=1.0, stale_after=0.001),
    ),
    "playlist_points_outside": Case(
        StreamKind.HLS,
        "/live.m3u8",
        {
            "/live.m3u8": Response(
                200, HLS, media_playlist(1, ["http://10.0.0.1/s1.ts"])
            )
        },
        [U, U, DOWN],
        problem="playlist_points_outside",
    ),
    "flapping": Case(
        StreamKind.JPEG_SNAPSHOT,
        "/cam.jpg",
        {"/cam.jpg": flapping()},
        # Up after two good frames; the third failure among the last six
        # takes it down, and it stays down while it keeps flapping.
        [U, UP, UP, UP, UP, UP, DOWN, DOWN, DOWN, DOWN, DOWN, DOWN],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_state_after_each_check(
    name, loopback, fixture_server, connect_guard, agency, editor
):
    case = CASES[name]
    for path, spec in case.routes.items():
        fixture_server.route(path, spec)
    camera = Camera(agency=agency, source_id=f"CCTV-{name}")
    create_draft(
        camera,
        {
            "name": name,
            "stream_kind": case.kind.value,
            "stream_url": fixture_server.url(case.path),
        },
        editor,
    )
    connect_guard.allow.add(("127.0.0.1", fixture_server.port))
    policy = fetch_policy(respect_robots=False)

    states = []
    for _ in case.states:
        camera.refresh_from_db()
        check_cameras([camera], policy=policy, limits=case.limits)
        camera.refresh_from_db()
        states.append(camera.health_state)

    assert states == case.states
    if case.problem:
        last = CameraCheck.objects.filter(camera=camera).order_by("-id").first()
        assert last is not None
        assert last.problem_code == case.problem
    # Every connection went to the fixture server: the playlist pointing
    # outside was rejected before connecting.
    assert connect_guard.blocked == []
    assert {address for address, _ in connect_guard.attempts} == {"127.0.0.1"}
