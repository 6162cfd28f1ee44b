from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from govportal.agencies.models import Agency
from govportal.feeds.models import Feed
from tests.support.fixture_server import FixtureServer

CASES = Path(__file__).resolve().parent.parent / "cases" / "rss"
TAIPEI = ZoneInfo("Asia/Taipei")
# The instant the expected results of the feed cases assume.
CASE_CLOCK = datetime(2024, 5, 3, 12, 0, tzinfo=TAIPEI)


def case_bytes(name: str) -> bytes:
    return (CASES / name).read_bytes()


@pytest.fixture
def loopback_allowed(settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_DEADLINE_SECONDS = 3
    return settings


@pytest.fixture
def server():
    with FixtureServer() as running:
        yield running


@pytest.fixture
def case_clock():
    with time_machine.travel(CASE_CLOCK, tick=True) as traveller:
        yield traveller


@pytest.fixture
def county(db):
    return Agency.objects.create(code="376420000A", name_zh="範例縣政府")


@pytest.fixture
def make_feed(county, server):
    def make(path: str, agency: Agency | None = None) -> Feed:
        return Feed.objects.create(
            agency=agency or county,
            url=server.url(path),
            state=Feed.State.ACTIVE,
        )

    return make
