"""Nightly upkeep of the database itself."""

import logging

from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

logger = logging.getLogger(__name__)


def optimize_database() -> bool:
    """Refresh SQLite's planner statistics; return whether anything ran.

    Without statistics SQLite may pick a one-column index over a composite
    one, which made the four-eyes lookup of each approval scan every
    transition of its content type. PostgreSQL's autovacuum keeps its own
    statistics, so nothing runs there.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        # NOTE: a full ANALYZE reads every index; on a large database this
        # takes seconds, which is why it runs at night.
        cursor.execute("ANALYZE")
    logger.info("sqlite statistics refreshed")
    return True


@db_periodic_task(crontab(minute="45", hour="3"))
def optimize_database_nightly() -> None:
    optimize_database()
