"""The publishing operations on a stored item: revisions, rules and records."""

from datetime import UTC, datetime

import pytest
import time_machine

from govportal.publishing import workflow
from govportal.publishing.errors import (
    FourEyesError,
    InvalidTransitionError,
    ReasonRequiredError,
    ReviewPermissionError,
    StaleRevisionError,
)
from govportal.publishing.history import item_history, item_revisions
from govportal.publishing.models import Revision, RevisionImmutableError, Transition
from govportal.publishing.snapshot import content_hash
from govportal.publishing.states import Action, State
from govportal.services.models import Service
from tests.publishing.helpers import bring_to_review, publish

NEW_CONTENT = {"name_zh": "護照換發", "content_zh": "換發普通護照。"}


def reload(item):
    return Service.objects.select_related("current_revision", "published_revision").get(
        pk=item.pk
    )


def test_create_draft_stores_revision_one(item, editor):
    stored = reload(item)
    revision = stored.current_revision

    assert stored.state == State.DRAFT
    assert revision.number == 1
    assert revision.author == editor
    assert revision.snapshot["name_zh"] == "護照申請"
    assert revision.content_hash == content_hash(revision.snapshot)
    assert stored.published_revision is None


def test_edit_adds_numbered_revisions(item, editor, second_editor):
    workflow.edit(item, {**NEW_CONTENT, "notes_zh": "一"}, editor)
    third = workflow.edit(item, {**NEW_CONTENT, "notes_zh": "二"}, second_editor)

    numbers = [revision.number for revision in item_revisions(item)]
    assert numbers == [1, 2, 3]
    assert third.author == second_editor
    assert reload(item).current_revision == third


def test_identical_edit_adds_no_revision(item, editor):
    snapshot = dict(reload(item).current_revision.snapshot)

    revision = workflow.edit(item, snapshot, editor)

    assert revision.number == 1
    assert item_revisions(item).count() == 1
    assert item_history(item).count() == 1


def test_revision_cannot_be_changed(item):
    revision = reload(item).current_revision
    revision.snapshot = {"name_zh": "改過"}

    with pytest.raises(RevisionImmutableError):
        revision.save()


def test_edit_keeps_a_private_copy(item, editor):
    snapshot = dict(NEW_CONTENT)
    workflow.edit(item, snapshot, editor)
    snapshot["name_zh"] = "呼叫端後來改的"

    assert reload(item).current_revision.snapshot["name_zh"] == "護照換發"


def test_full_path_publishes_reviewed_revision(item, editor, reviewer):
    workflow.submit(item, editor)
    workflow.start_review(item, reviewer)
    workflow.approve(item, 1, reviewer)

    stored = reload(item)
    assert stored.state == State.PUBLISHED
    assert stored.published_revision.number == 1
    assert stored.approved_at is not None
    assert stored.public_snapshot()["name_zh"] == "護照申請"


def test_caller_instance_follows_state(item, editor):
    workflow.submit(item, editor)

    assert item.state == State.SUBMITTED


def test_public_keeps_published_revision_during_review(item, editor, reviewer):
    publish(item, editor, reviewer)
    workflow.edit(item, NEW_CONTENT, editor)
    bring_to_review(item, editor, reviewer)

    stored = reload(item)
    assert stored.state == State.IN_REVIEW
    assert stored.current_revision.number == 2
    assert stored.published_revision.number == 1
    assert stored.public_snapshot()["name_zh"] == "護照申請"

    workflow.approve(item, 2, reviewer)

    assert reload(item).public_snapshot()["name_zh"] == "護照換發"


def test_edit_of_published_item_makes_draft(item, editor, reviewer):
    publish(item, editor, reviewer)

    workflow.edit(item, NEW_CONTENT, editor)

    stored = reload(item)
    assert stored.state == State.DRAFT
    assert stored.published_revision.number == 1


def test_approval_bound_to_reviewed_revision(item, editor, reviewer):
    workflow.edit(item, NEW_CONTENT, editor)
    bring_to_review(item, editor, reviewer)

    workflow.approve(item, 2, reviewer)

    assert reload(item).published_revision.number == 2


def test_stale_approval_rejected(item, editor, reviewer):
    bring_to_review(item, editor, reviewer)
    workflow.edit(item, NEW_CONTENT, editor)

    with pytest.raises(StaleRevisionError) as caught:
        workflow.approve(item, 1, reviewer)

    message = str(caught.value)
    assert "revision 1" in message
    assert "current revision is 2" in message
    assert "S-001" in message
    stored = reload(item)
    assert stored.state == State.DRAFT
    assert stored.published_revision is None


def test_stale_return_rejected(item, editor, reviewer):
    bring_to_review(item, editor, reviewer)
    workflow.edit(item, NEW_CONTENT, editor)

    with pytest.raises(StaleRevisionError):
        workflow.return_for_changes(item, 1, reviewer, "請補充費用")


def test_approval_of_future_revision_rejected(item, editor, reviewer):
    bring_to_review(item, editor, reviewer)

    with pytest.raises(StaleRevisionError):
        workflow.approve(item, 5, reviewer)


def test_submitter_cannot_approve(item, editor, reviewer, second_reviewer):
    # The reviewer submits the editor's draft, so only someone else may decide.
    workflow.submit(item, reviewer)
    workflow.start_review(item, second_reviewer)

    with pytest.raises(FourEyesError) as caught:
        workflow.approve(item, 1, reviewer)

    assert "reviewer" in str(caught.value)
    assert reload(item).state == State.IN_REVIEW
    workflow.approve(item, 1, second_reviewer)
    assert reload(item).state == State.PUBLISHED


def test_submitter_cannot_return(item, reviewer, second_reviewer):
    workflow.submit(item, reviewer)

    with pytest.raises(FourEyesError):
        workflow.return_for_changes(item, 1, reviewer, "請補充")


def test_editor_cannot_approve(item, editor, reviewer, second_reviewer):
    workflow.edit(item, NEW_CONTENT, reviewer)
    bring_to_review(item, editor, second_reviewer)

    with pytest.raises(FourEyesError):
        workflow.approve(item, 2, reviewer)


def test_editor_cannot_return(item, editor, reviewer, second_reviewer):
    workflow.edit(item, NEW_CONTENT, reviewer)
    bring_to_review(item, editor, second_reviewer)

    with pytest.raises(FourEyesError):
        workflow.return_for_changes(item, 2, reviewer, "請補充")


def test_editor_of_older_draft_cannot_approve(item, editor, reviewer, second_reviewer):
    # Any revision newer than the published one counts, not only the last.
    workflow.edit(item, NEW_CONTENT, reviewer)
    workflow.edit(item, {**NEW_CONTENT, "notes_zh": "補充"}, editor)
    bring_to_review(item, editor, second_reviewer)

    with pytest.raises(FourEyesError):
        workflow.approve(item, 3, reviewer)


def test_published_author_may_approve_next(agency, reviewer, second_reviewer, editor):
    from tests.publishing.helpers import make_item

    item = make_item(agency, reviewer, key="S-002")
    publish(item, editor, second_reviewer)
    workflow.edit(item, NEW_CONTENT, editor)
    bring_to_review(item, editor, second_reviewer)

    workflow.approve(item, 2, reviewer)

    assert reload(item).published_revision.number == 2


def test_decisions_need_review_permission(item, editor, second_editor, reviewer):
    workflow.submit(item, editor)

    with pytest.raises(ReviewPermissionError) as caught:
        workflow.start_review(item, second_editor)

    assert "publishing.review_content" in str(caught.value)
    workflow.start_review(item, reviewer)
    with pytest.raises(ReviewPermissionError):
        workflow.approve(item, 1, second_editor)


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_return_requires_reason(item, editor, reviewer, reason):
    bring_to_review(item, editor, reviewer)

    with pytest.raises(ReasonRequiredError):
        workflow.return_for_changes(item, 1, reviewer, reason)

    assert reload(item).state == State.IN_REVIEW


def test_return_records_reason(item, editor, reviewer):
    bring_to_review(item, editor, reviewer)

    transition = workflow.return_for_changes(item, 1, reviewer, " 請補充英文名稱 ")

    assert transition.reason == "請補充英文名稱"
    assert transition.to_state == State.RETURNED
    assert reload(item).state == State.RETURNED


def test_returned_item_can_be_resubmitted(item, editor, reviewer):
    bring_to_review(item, editor, reviewer)
    workflow.return_for_changes(item, 1, reviewer, "請補充")

    workflow.edit(item, NEW_CONTENT, editor)
    workflow.submit(item, editor)

    assert reload(item).state == State.SUBMITTED


def test_withdraw_requires_reason(item, editor, reviewer):
    publish(item, editor, reviewer)

    with pytest.raises(ReasonRequiredError):
        workflow.withdraw(item, editor, "")

    assert reload(item).state == State.PUBLISHED


def test_withdraw_takes_item_offline(item, editor, reviewer):
    publish(item, editor, reviewer)

    transition = workflow.withdraw(item, editor, "服務已停辦")

    stored = reload(item)
    assert stored.state == State.WITHDRAWN
    assert stored.published_revision is None
    assert stored.public_snapshot() is None
    assert transition.reason == "服務已停辦"
    assert transition.from_state == State.PUBLISHED


def test_withdraw_twice_rejected(item, editor):
    workflow.withdraw(item, editor, "重複建立")

    with pytest.raises(InvalidTransitionError):
        workflow.withdraw(item, editor, "重複建立")


def test_submit_during_review_rejected(item, editor, reviewer):
    bring_to_review(item, editor, reviewer)

    with pytest.raises(InvalidTransitionError) as caught:
        workflow.submit(item, editor)

    message = str(caught.value)
    assert "in central review" in message
    assert "draft" in message


def test_second_decision_fails_after_state_moved(
    item, editor, reviewer, second_reviewer
):
    bring_to_review(item, editor, reviewer)
    # Both reviewers loaded the item while it was in review.
    seen_by_second = Service.objects.get(pk=item.pk)

    workflow.approve(item, 1, reviewer)

    with pytest.raises(InvalidTransitionError) as caught:
        workflow.return_for_changes(seen_by_second, 1, second_reviewer, "不同意")

    assert "published" in str(caught.value)
    decisions = Transition.objects.filter(action__in=[Action.APPROVE, Action.RETURN])
    assert decisions.count() == 1
    assert reload(item).state == State.PUBLISHED


def test_every_transition_recorded(item, editor, reviewer):
    moment = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        bring_to_review(item, editor, reviewer)
        workflow.return_for_changes(item, 1, reviewer, "請補充")

    rows = [
        (t.action, t.from_state, t.to_state, t.revision.number, t.actor.username)
        for t in item_history(item)
    ]
    assert rows == [
        (Action.CREATE, "", State.DRAFT, 1, "editor"),
        (Action.SUBMIT, State.DRAFT, State.SUBMITTED, 1, "editor"),
        (Action.START_REVIEW, State.SUBMITTED, State.IN_REVIEW, 1, "reviewer"),
        (Action.RETURN, State.IN_REVIEW, State.RETURNED, 1, "reviewer"),
    ]
    last = item_history(item).last()
    assert last.created_at == moment
    assert last.reason == "請補充"
    assert last.agency_id == item.agency_id


def test_edit_recorded_with_new_revision(item, editor, reviewer):
    publish(item, editor, reviewer)

    workflow.edit(item, NEW_CONTENT, editor)

    last = item_history(item).last()
    assert last.action == Action.EDIT
    assert last.from_state == State.PUBLISHED
    assert last.to_state == State.DRAFT
    assert last.revision.number == 2


def test_create_draft_rejects_stored_item(item, editor):
    with pytest.raises(ValueError, match="already stored"):
        workflow.create_draft(item, NEW_CONTENT, editor)


def test_revision_count_matches_edits(item, editor):
    for number in range(3):
        workflow.edit(item, {**NEW_CONTENT, "notes_zh": str(number)}, editor)

    assert Revision.objects.filter(object_id=item.pk).count() == 4
