from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govportal.publishing.models import Transition


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    """The portal-wide publishing history, read-only because it is an audit trail."""

    list_display = [
        "created_at",
        "agency",
        "content_type",
        "object_id",
        "action",
        "from_state",
        "to_state",
        "revision_number",
        "actor",
        "reason",
        "live_at",
        "seconds_to_live",
    ]
    list_filter = ["action", "to_state", "content_type"]
    search_fields = ["agency__name_zh", "agency__code", "reason", "actor__username"]
    list_select_related = ["agency", "content_type", "revision", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("revision number"))
    def revision_number(self, transition: Transition) -> int:
        return transition.revision.number

    @admin.display(description=_("seconds from approval to live"))
    def seconds_to_live(self, transition: Transition) -> str:
        if transition.live_at is None:
            return "-"
        seconds = (transition.live_at - transition.created_at).total_seconds()
        return f"{seconds:.1f}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
