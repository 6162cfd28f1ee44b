"""The state machine rules, without a database."""

import pytest

from govportal.publishing.states import (
    DECISIONS,
    REASON_REQUIRED,
    Action,
    State,
    target_state,
)


@pytest.mark.parametrize("state", list(State))
def test_edit_from_any_state_makes_draft(state):
    assert target_state(state, Action.EDIT) == State.DRAFT


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State.DRAFT, None),
        (State.SUBMITTED, None),
        (State.IN_REVIEW, State.PUBLISHED),
        (State.PUBLISHED, None),
        (State.RETURNED, None),
        (State.WITHDRAWN, None),
    ],
)
def test_approve_only_from_central_review(state, expected):
    assert target_state(state, Action.APPROVE) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State.DRAFT, State.SUBMITTED),
        (State.RETURNED, State.SUBMITTED),
        (State.WITHDRAWN, State.SUBMITTED),
        (State.SUBMITTED, None),
        (State.IN_REVIEW, None),
        (State.PUBLISHED, None),
    ],
)
def test_submit_sources(state, expected):
    assert target_state(state, Action.SUBMIT) == expected


def test_return_from_submitted_or_review():
    assert target_state(State.SUBMITTED, Action.RETURN) == State.RETURNED
    assert target_state(State.IN_REVIEW, Action.RETURN) == State.RETURNED
    assert target_state(State.PUBLISHED, Action.RETURN) is None


def test_withdraw_not_from_withdrawn():
    assert target_state(State.PUBLISHED, Action.WITHDRAW) == State.WITHDRAWN
    assert target_state(State.DRAFT, Action.WITHDRAW) == State.WITHDRAWN
    assert target_state(State.WITHDRAWN, Action.WITHDRAW) is None


def test_reason_and_decision_sets():
    assert REASON_REQUIRED == {Action.RETURN, Action.WITHDRAW}
    assert DECISIONS == {Action.APPROVE, Action.RETURN}
