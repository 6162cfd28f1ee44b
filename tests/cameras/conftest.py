import pytest

from tests.publishing.helpers import make_agency, make_user


@pytest.fixture
def agency(db):
    return make_agency("315050000M", "交通部臺灣區國道高速公路局")


@pytest.fixture
def editor(db):
    return make_user("importer")


@pytest.fixture
def loopback(settings):
    """Let the fetcher reach the loopback fixture server, with short timeouts."""
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_DEADLINE_SECONDS = 3
    return settings


@pytest.fixture
def reviewer(db):
    return make_user("central-reviewer", reviewer=True)
