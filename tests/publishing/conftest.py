import pytest
from django.utils import translation

from tests.publishing.helpers import make_agency, make_item, make_user


@pytest.fixture(autouse=True)
def english():
    """Check message texts in English, because the site default is Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def agency(db):
    return make_agency()


@pytest.fixture
def editor(db):
    """An agency editor who writes and submits content."""
    return make_user("editor")


@pytest.fixture
def second_editor(db):
    return make_user("editor2")


@pytest.fixture
def reviewer(db):
    """A central reviewer who has written nothing."""
    return make_user("reviewer", reviewer=True)


@pytest.fixture
def second_reviewer(db):
    return make_user("reviewer2", reviewer=True)


@pytest.fixture
def item(agency, editor):
    return make_item(agency, editor)
