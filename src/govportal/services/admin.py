from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from govportal.publishing.review_admin import ReviewModelAdmin
from govportal.publishing.states import REVIEW_QUEUE_STATES
from govportal.services.fields import FIELDS, FIELDS_BY_KEY
from govportal.services.models import Service, ServiceInReview
from govportal.services.records import service_english_gaps
from govportal.services.staleness import Gap

DETAIL_FIELDS: list[Any] = [
    "agency",
    "agency_service_id",
    "state",
    "current_number",
    "published_number",
    "approved_at",
    "updated_at",
    "english_gaps",
    "content",
]
GAP_LABELS = {Gap.MISSING: _("missing"), Gap.STALE: _("older than the Chinese")}


class ServiceReadOnlyAdmin(ReviewModelAdmin):
    """Services are written by agencies through the workflow, not in the admin."""

    list_display = [
        "agency_service_id",
        "name",
        "agency",
        "state",
        "current_number",
        "published_number",
        "updated_at",
        "review_link",
    ]
    list_select_related = ["agency", "current_revision", "published_revision"]
    search_fields = ["agency_service_id", "agency__name_zh", "agency__code"]
    raw_id_fields = ["agency"]
    show_full_result_count = False
    fields = DETAIL_FIELDS
    readonly_fields = DETAIL_FIELDS

    @admin.display(description=_("Chinese name"))
    def name(self, service: Service) -> str:
        return service.name_zh

    @admin.display(description=_("missing or outdated English"))
    def english_gaps(self, service: Service) -> str:
        gaps = service_english_gaps(service)
        return "; ".join(
            f"{FIELDS_BY_KEY[gap.english_key].label}: {GAP_LABELS[gap.gap]}"
            for gap in gaps
        )

    @admin.display(description=_("content of the current revision"))
    def content(self, service: Service) -> SafeString:
        snapshot = service.current_revision.snapshot if service.current_revision else {}
        rows = format_html_join(
            "",
            '<tr><th scope="row">{}</th><td style="white-space: pre-wrap">{}</td></tr>',
            (
                (spec.label, Service.snapshot_display(spec.key, snapshot.get(spec.key)))
                for spec in FIELDS
            ),
        )
        return format_html("<table>{}</table>", rows)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(ServiceReadOnlyAdmin):
    list_filter = ["state"]


@admin.register(ServiceInReview)
class ServiceInReviewAdmin(ServiceReadOnlyAdmin):
    """The central team's queue: submitted or in review, oldest change first."""

    list_filter = ["state"]
    ordering = ["updated_at", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        return super().get_queryset(request).filter(state__in=REVIEW_QUEUE_STATES)
