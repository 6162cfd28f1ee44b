"""Users and items for publishing tests: agency editors and central reviewers."""

from django.contrib.auth.models import Permission, User

from govportal.agencies.models import Agency
from govportal.publishing import workflow
from govportal.services.models import Service


def make_user(username: str, reviewer: bool = False) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    if reviewer:
        permission = Permission.objects.get(
            content_type__app_label="publishing", codename="review_content"
        )
        user.user_permissions.add(permission)
        # A fresh instance, because has_perm caches permissions on the object.
        user = User.objects.get(pk=user.pk)
    return user


def make_agency(code: str = "A15000000A", name: str = "內政部") -> Agency:
    return Agency.objects.create(code=code, name_zh=name)


def make_item(agency: Agency, author: User, key: str = "S-001", **content) -> Service:
    """Store a service in draft with a minimal snapshot, without validation."""
    service = Service(agency=agency, agency_service_id=key)
    snapshot = {"name_zh": "護照申請", "content_zh": "申請普通護照。", **content}
    workflow.create_draft(service, snapshot, author)
    return service


def bring_to_review(item: Service, submitter: User, reviewer: User) -> Service:
    workflow.submit(item, submitter)
    workflow.start_review(item, reviewer)
    return item


def publish(item: Service, submitter: User, reviewer: User) -> Service:
    bring_to_review(item, submitter, reviewer)
    workflow.approve(item, item.current_revision.number, reviewer)
    return item
