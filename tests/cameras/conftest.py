import pytest

from tests.publishing.helpers import make_agency, make_user


@pytest.fixture
def agency(db):
    return make_agency("313020000G", "交通部高速公路局")


@pytest.fixture
def editor(db):
    return make_user("importer")
