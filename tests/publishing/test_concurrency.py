"""Two reviewers deciding on one item at the same moment: exactly one wins."""

import threading
import time

import pytest
from django.db import connection, connections

from govportal.publishing import workflow
from govportal.publishing.errors import (
    ConcurrentChangeError,
    InvalidTransitionError,
    PublishingError,
)
from govportal.publishing.models import Transition
from govportal.publishing.states import Action, State
from govportal.services.models import Service
from tests.publishing.helpers import bring_to_review, make_agency, make_item, make_user

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks and concurrent connections, but SQLite tests run in memory",
)


def decide_in_threads(calls):
    """Run each call in its own thread, all released together, and map name to result."""
    barrier = threading.Barrier(len(calls))
    results = {}

    def run(name, call):
        try:
            barrier.wait(timeout=10)
            call()
            results[name] = "ok"
        except PublishingError as error:
            results[name] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def slow_four_eyes(monkeypatch):
    """Hold each decision inside its transaction so the two really overlap."""
    check = workflow._check_four_eyes

    def slow(*args, **kwargs):
        check(*args, **kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(workflow, "_check_four_eyes", slow)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_action", ["approve", "return"])
def test_concurrent_decisions_one_wins(slow_four_eyes, second_action):
    editor = make_user("editor")
    first = make_user("reviewer", reviewer=True)
    second = make_user("reviewer2", reviewer=True)
    item = bring_to_review(make_item(make_agency(), editor), editor, first)
    # Fill the permission caches first, so the threads only read them.
    assert first.has_perm("publishing.review_content")
    assert second.has_perm("publishing.review_content")

    def approve_first():
        workflow.approve(Service.objects.get(pk=item.pk), 1, first)

    def decide_second():
        fresh = Service.objects.get(pk=item.pk)
        if second_action == "approve":
            workflow.approve(fresh, 1, second)
        else:
            workflow.return_for_changes(fresh, 1, second, "請補充")

    results = decide_in_threads({"first": approve_first, "second": decide_second})

    winners = [name for name, result in results.items() if result == "ok"]
    losers = [result for result in results.values() if result != "ok"]
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], (InvalidTransitionError, ConcurrentChangeError))
    decisions = Transition.objects.filter(action__in=[Action.APPROVE, Action.RETURN])
    assert decisions.count() == 1
    expected = {
        "first": State.PUBLISHED,
        "second": State.PUBLISHED if second_action == "approve" else State.RETURNED,
    }
    assert Service.objects.get(pk=item.pk).state == expected[winners[0]]
