"""Recording when an approved revision went live, for approval-to-live time."""

from datetime import UTC, datetime, timedelta

import time_machine

from govportal.publishing import workflow
from govportal.publishing.live import mark_live
from govportal.publishing.models import Transition
from govportal.publishing.states import Action
from tests.publishing.helpers import bring_to_review, publish

APPROVED_AT = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
BUILT_AT = APPROVED_AT + timedelta(minutes=3)


def test_mark_live_records_time_once(item, editor, reviewer):
    with time_machine.travel(APPROVED_AT, tick=False):
        publish(item, editor, reviewer)

    assert mark_live(BUILT_AT, BUILT_AT) == 1
    assert mark_live(BUILT_AT, BUILT_AT + timedelta(days=1)) == 0
    approval = Transition.objects.get(action=Action.APPROVE)
    assert approval.live_at - approval.created_at == timedelta(minutes=3)


def test_mark_live_skips_later_approvals(item, editor, reviewer):
    with time_machine.travel(BUILT_AT + timedelta(minutes=1), tick=False):
        publish(item, editor, reviewer)

    assert mark_live(BUILT_AT, BUILT_AT) == 0


def test_superseded_approval_never_live(item, editor, reviewer, second_reviewer):
    with time_machine.travel(APPROVED_AT, tick=False):
        publish(item, editor, reviewer)
        workflow.edit(item, {"name_zh": "新名稱", "content_zh": "新內容"}, editor)
        bring_to_review(item, editor, reviewer)
        workflow.approve(item, 2, second_reviewer)

    assert mark_live(BUILT_AT, BUILT_AT) == 1
    live = Transition.objects.filter(action=Action.APPROVE, live_at__isnull=False)
    assert [t.revision.number for t in live] == [2]


def test_withdrawn_before_build_never_live(item, editor, reviewer):
    with time_machine.travel(APPROVED_AT, tick=False):
        publish(item, editor, reviewer)
        workflow.withdraw(item, editor, "資料錯誤")

    assert mark_live(BUILT_AT, BUILT_AT) == 0
