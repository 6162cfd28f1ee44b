import pytest

from tests.publishing.helpers import make_agency, make_user


@pytest.fixture
def agency(db):
    return make_agency()


@pytest.fixture
def editor(db):
    return make_user("editor")
