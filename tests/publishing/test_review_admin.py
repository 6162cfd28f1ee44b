"""The central team's review pages in the admin, which call the workflow."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from govportal.publishing import workflow
from govportal.publishing.states import State
from govportal.services.models import Service
from tests.publishing.helpers import bring_to_review, make_item, publish

SCRIPT_TITLE = "<script>alert('x')</script>護照"


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("central", password="pw")


@pytest.fixture
def central(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def review_url(item, model="serviceinreview"):
    return reverse(f"admin:services_{model}_review", args=[item.pk])


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


def test_review_page_escapes_script_in_title(central, agency, editor, reviewer):
    item = make_item(agency, editor)
    publish(item, editor, reviewer)
    workflow.edit(item, {"name_zh": SCRIPT_TITLE, "content_zh": "內容"}, editor)
    bring_to_review(item, editor, reviewer)

    response = central.get(review_url(item))

    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;護照" in body


def test_review_page_shows_changed_fields_only(central, agency, editor, reviewer):
    item = make_item(agency, editor, fees_zh="免費")
    publish(item, editor, reviewer)
    changed = {
        "name_zh": "護照申請",
        "content_zh": "申請普通護照。",
        "fees_zh": "1300元",
    }
    workflow.edit(item, changed, editor)
    bring_to_review(item, editor, reviewer)

    response = central.get(review_url(item))

    rows = response.context["rows"]
    assert [str(row.label) for row in rows] == ["fees (Chinese)"]
    assert (rows[0].old, rows[0].new) == ("免費", "1300元")


def test_admin_approve_publishes_shown_revision(
    central, agency, editor, reviewer, admin_user
):
    item = bring_to_review(make_item(agency, editor), editor, reviewer)

    response = central.post(
        review_url(item), {"action": "approve", "revision": "1"}, follow=True
    )

    stored = Service.objects.get(pk=item.pk)
    assert stored.state == State.PUBLISHED
    assert stored.published_revision.number == 1
    assert any("published" in text for text in page_messages(response))


def test_admin_approve_by_editor_rejected(central, agency, admin_user, reviewer):
    # The central administrator wrote the content, so cannot approve it.
    item = bring_to_review(make_item(agency, admin_user), admin_user, reviewer)

    response = central.post(
        review_url(item), {"action": "approve", "revision": "1"}, follow=True
    )

    assert Service.objects.get(pk=item.pk).state == State.IN_REVIEW
    assert any("Another reviewer" in text for text in page_messages(response))


def test_admin_stale_revision_rejected(central, agency, editor, reviewer):
    item = bring_to_review(make_item(agency, editor), editor, reviewer)
    workflow.edit(item, {"name_zh": "新名稱", "content_zh": "新內容"}, editor)
    workflow.submit(item, editor)
    workflow.start_review(item, reviewer)

    response = central.post(
        review_url(item), {"action": "approve", "revision": "1"}, follow=True
    )

    assert Service.objects.get(pk=item.pk).published_revision is None
    assert any("current revision is 2" in text for text in page_messages(response))


def test_admin_return_without_reason_rejected(central, agency, editor, reviewer):
    item = bring_to_review(make_item(agency, editor), editor, reviewer)

    response = central.post(
        review_url(item),
        {"action": "return", "revision": "1", "reason": " "},
        follow=True,
    )

    assert Service.objects.get(pk=item.pk).state == State.IN_REVIEW
    assert any("reason is required" in text for text in page_messages(response))


def test_admin_return_with_reason(central, agency, editor, reviewer):
    item = bring_to_review(make_item(agency, editor), editor, reviewer)

    central.post(
        review_url(item), {"action": "return", "revision": "1", "reason": "請補充"}
    )

    assert Service.objects.get(pk=item.pk).state == State.RETURNED


def test_admin_start_review_from_page(central, agency, editor):
    item = make_item(agency, editor)
    workflow.submit(item, editor)

    central.post(review_url(item), {"action": "start_review"})

    assert Service.objects.get(pk=item.pk).state == State.IN_REVIEW


def test_start_review_action_on_selection(central, agency, editor):
    item = make_item(agency, editor)
    workflow.submit(item, editor)
    url = reverse("admin:services_serviceinreview_changelist")

    central.post(url, {"action": "start_review_action", "_selected_action": [item.pk]})

    assert Service.objects.get(pk=item.pk).state == State.IN_REVIEW


def test_review_page_requires_review_permission(client, agency, editor):
    item = make_item(agency, editor)
    view = Permission.objects.get(codename="view_service")
    editor.user_permissions.add(view)
    client.force_login(editor)

    listing = client.get(reverse("admin:services_service_changelist"))
    response = client.get(review_url(item, model="service"))

    assert listing.status_code == 200
    assert response.status_code == 403


def test_queue_lists_only_waiting_services(central, agency, editor, reviewer):
    waiting = make_item(agency, editor, key="S-001")
    make_item(agency, editor, key="S-002")
    workflow.submit(waiting, editor)

    response = central.get(reverse("admin:services_serviceinreview_changelist"))

    listed = list(response.context["cl"].result_list)
    assert [service.pk for service in listed] == [waiting.pk]


def test_service_detail_page_renders(central, agency, editor):
    item = make_item(agency, editor, name_zh=SCRIPT_TITLE)

    response = central.get(reverse("admin:services_service_change", args=[item.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in body
    assert "&lt;script&gt;" in body


def test_transition_history_list_renders(central, agency, editor):
    make_item(agency, editor)

    response = central.get(reverse("admin:publishing_transition_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_admin_post_without_revision_rejected(central, agency, editor, reviewer):
    item = bring_to_review(make_item(agency, editor), editor, reviewer)

    response = central.post(review_url(item), {"action": "approve"}, follow=True)

    assert Service.objects.get(pk=item.pk).state == State.IN_REVIEW
    assert any("revision number" in text for text in page_messages(response))
