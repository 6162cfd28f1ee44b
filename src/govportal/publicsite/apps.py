from typing import Any

from django.apps import AppConfig
from django.conf import settings


class PublicsiteConfig(AppConfig):
    name = "govportal.publicsite"
    label = "publicsite"

    def ready(self) -> None:
        from govportal.publishing.signals import public_version_changed

        public_version_changed.connect(
            queue_public_change, dispatch_uid="publicsite-follow-changes"
        )


def queue_public_change(sender: Any, item: Any, **kwargs: Any) -> None:
    """Queue the site update for an approved or withdrawn item."""
    from govportal.publicsite.tasks import publish_service_change_task
    from govportal.services.models import Service

    if not settings.PUBLISH_ON_APPROVAL:
        return
    if isinstance(item, Service):
        publish_service_change_task.enqueue(item.pk)
