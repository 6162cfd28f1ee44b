"""Daily roll-up of camera checks and availability over days."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from govportal.cameras.availability import (
    availability_by_agency,
    ensure_rollups,
    roll_up_day,
)
from govportal.cameras.models import Camera, CameraCheck, CameraDailyStats
from tests.cameras.test_health import make_camera

pytestmark = pytest.mark.django_db

TAIPEI = ZoneInfo("Asia/Taipei")
# 10:00 in Taipei on 4 December.
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=TAIPEI)


def add_check(camera, at: datetime, ok: bool) -> None:
    CameraCheck.objects.create(camera=camera, checked_at=at, ok=ok, elapsed_ms=5)


def test_day_boundaries_are_local(agency, editor):
    camera = make_camera(agency, editor, "C1", "https://cctv.example.test/1.jpg")
    # 23:59 and 00:01 Taipei time fall on different days.
    add_check(camera, datetime(2026, 12, 2, 23, 59, tzinfo=TAIPEI), True)
    add_check(camera, datetime(2026, 12, 3, 0, 1, tzinfo=TAIPEI), False)
    add_check(camera, datetime(2026, 12, 3, 12, 0, tzinfo=TAIPEI), True)

    assert roll_up_day(date(2026, 12, 3)) == 1
    stats = CameraDailyStats.objects.get(camera=camera, day=date(2026, 12, 3))
    assert (stats.checks, stats.ok_checks) == (2, 1)


def test_roll_up_again_replaces(agency, editor):
    camera = make_camera(agency, editor, "C1", "https://cctv.example.test/1.jpg")
    add_check(camera, datetime(2026, 12, 3, 8, 0, tzinfo=TAIPEI), True)
    roll_up_day(date(2026, 12, 3))
    add_check(camera, datetime(2026, 12, 3, 9, 0, tzinfo=TAIPEI), False)
    roll_up_day(date(2026, 12, 3))
    stats = CameraDailyStats.objects.get(camera=camera)
    assert (stats.checks, stats.ok_checks) == (2, 1)


def test_ensure_rollups_covers_each_day_once(agency, editor):
    camera = make_camera(agency, editor, "C1", "https://cctv.example.test/1.jpg")
    for days_ago in (1, 2, 31):
        add_check(camera, NOW - timedelta(days=days_ago), True)

    first = ensure_rollups(NOW)
    again = ensure_rollups(NOW)
    next_day = ensure_rollups(NOW + timedelta(days=1))

    assert len(first) == 30
    assert first[-1] == date(2026, 12, 3)
    assert again == []
    assert next_day == [date(2026, 12, 4)]
    # The check 31 days ago is outside the longest window.
    assert CameraDailyStats.objects.count() == 2


def test_availability_sums_rolled_days_and_today(agency, editor):
    camera = make_camera(agency, editor, "C1", "https://cctv.example.test/1.jpg")
    # Today: 1 of 2. Yesterday: 2 of 2. Ten days ago: 0 of 1.
    add_check(camera, NOW - timedelta(hours=1), True)
    add_check(camera, NOW - timedelta(hours=2), False)
    add_check(camera, NOW - timedelta(days=1), True)
    add_check(camera, NOW - timedelta(days=1, hours=1), True)
    add_check(camera, NOW - timedelta(days=10), False)
    # A check after "now" does not count yet.
    add_check(camera, NOW + timedelta(minutes=5), False)
    ensure_rollups(NOW)

    cameras = Camera.objects.all()
    assert availability_by_agency(cameras, NOW, 1) == {agency.pk: (2, 1)}
    assert availability_by_agency(cameras, NOW, 7) == {agency.pk: (4, 3)}
    assert availability_by_agency(cameras, NOW, 30) == {agency.pk: (5, 3)}
