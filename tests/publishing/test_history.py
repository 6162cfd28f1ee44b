"""Listing the publishing history per item, per agency and for the portal."""

from datetime import UTC, datetime

import time_machine

from govportal.publishing import workflow
from govportal.publishing.history import (
    agency_history,
    item_history,
    portal_history,
    review_queue,
)
from govportal.publishing.states import Action
from govportal.services.models import Service
from tests.publishing.helpers import make_agency, make_item

DAY_1 = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
DAY_2 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)


def test_item_history_lists_only_that_item(agency, editor):
    first = make_item(agency, editor, key="S-001")
    second = make_item(agency, editor, key="S-002")
    workflow.submit(first, editor)

    actions = [t.action for t in item_history(first)]

    assert actions == [Action.CREATE, Action.SUBMIT]
    assert [t.action for t in item_history(second)] == [Action.CREATE]


def test_agency_history_lists_only_its_items(agency, editor):
    other = make_agency(code="A09000000E", name="衛生福利部")
    own = make_item(agency, editor, key="S-001")
    make_item(other, editor, key="S-001")
    workflow.submit(own, editor)

    rows = list(agency_history(agency))

    assert [t.object_id for t in rows] == [own.pk, own.pk]
    assert [t.action for t in rows] == [Action.SUBMIT, Action.CREATE]
    assert agency_history(other.pk).count() == 1


def test_portal_history_spans_agencies_newest_first(agency, editor):
    other = make_agency(code="A09000000E", name="衛生福利部")
    with time_machine.travel(DAY_1, tick=False):
        make_item(agency, editor, key="S-001")
    with time_machine.travel(DAY_2, tick=False):
        make_item(other, editor, key="S-002")

    rows = list(portal_history())

    assert [t.agency_id for t in rows] == [other.pk, agency.pk]


def test_portal_history_time_and_model_filters(agency, editor):
    with time_machine.travel(DAY_1, tick=False):
        make_item(agency, editor, key="S-001")
    with time_machine.travel(DAY_2, tick=False):
        make_item(agency, editor, key="S-002")

    assert portal_history(since=DAY_2).count() == 1
    assert portal_history(until=DAY_2).count() == 1
    assert portal_history(since=DAY_1, until=DAY_2).count() == 1
    assert portal_history(model=Service).count() == 2


def test_review_queue_oldest_first(agency, editor, reviewer):
    draft = make_item(agency, editor, key="S-001")
    older = make_item(agency, editor, key="S-002")
    newer = make_item(agency, editor, key="S-003")
    with time_machine.travel(DAY_1, tick=False):
        workflow.submit(older, editor)
        workflow.start_review(older, reviewer)
    with time_machine.travel(DAY_2, tick=False):
        workflow.submit(newer, editor)

    queue = list(review_queue(Service))

    assert queue == [older, newer]
    assert draft not in queue
