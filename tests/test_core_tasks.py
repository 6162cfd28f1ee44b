import pytest
from django.db import connection

from govportal.core.tasks import optimize_database
from tests.publishing.helpers import make_agency


@pytest.mark.django_db
def test_optimize_stores_sqlite_statistics():
    make_agency()
    ran = optimize_database()
    if connection.vendor != "sqlite":
        assert not ran
        return
    assert ran
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        assert cursor.fetchone()[0] > 0
