from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from govportal.agencies.models import Agency
from govportal.cameras.models import (
    ApprovedStreamHost,
    Camera,
    CameraAgreement,
    CameraCheck,
    CameraContact,
    CameraHealthEvent,
    CameraReport,
    HostIncident,
    MaintenanceWindow,
    StreamKind,
)
from govportal.cameras.notices import local_time
from govportal.cameras.streams import StreamURLError, validate_stream_url
from govportal.feeds.ingest import fetch_policy
from govportal.publishing.workflow import edit

# Rows of checks and changes shown on a camera's page.
RECENT_ROWS = 10


class CameraAgencyFilter(admin.SimpleListFilter):
    """Agencies that own rows of this list, rather than all twenty thousand."""

    title = _("agency")
    parameter_name = "agency"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        owners = model_admin.model.objects.values("agency_id")
        agencies = Agency.objects.filter(pk__in=owners).order_by("name_zh")
        return [(agency.pk, agency.name_zh) for agency in agencies]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(agency_id=self.value())
        return queryset


@admin.register(ApprovedStreamHost)
class ApprovedStreamHostAdmin(admin.ModelAdmin):
    list_display = ["host", "agency"]
    list_filter = [CameraAgencyFilter]
    search_fields = ["host", "agency__name_zh", "agency__code"]
    autocomplete_fields = ["agency"]


@admin.register(CameraAgreement)
class CameraAgreementAdmin(admin.ModelAdmin):
    list_display = ["agency", "signed_on", "valid_from", "valid_until"]
    list_filter = [CameraAgencyFilter]
    search_fields = ["agency__name_zh", "agency__code", "scope"]
    autocomplete_fields = ["agency"]


class CameraStreamForm(forms.ModelForm):
    """Edit of a camera's stream, stored as a new revision of its content."""

    stream_kind = forms.ChoiceField(
        label=_("kind of stream"), choices=StreamKind.choices
    )
    stream_url = forms.CharField(label=_("stream URL"), max_length=2048)
    snapshot_url = forms.CharField(
        label=_("snapshot URL"), max_length=2048, required=False
    )

    class Meta:
        model = Camera
        fields = ["agreement"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        revision = self.instance.current_revision
        snapshot = revision.snapshot if revision else {}
        for name in ("stream_kind", "stream_url", "snapshot_url"):
            self.initial.setdefault(name, snapshot.get(name, ""))
        self.stream_warnings: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        approved = set(
            ApprovedStreamHost.objects.filter(
                agency_id=self.instance.agency_id
            ).values_list("host", flat=True)
        )
        self.stream_warnings = []
        for name, hosts in (("stream_url", approved), ("snapshot_url", approved)):
            value = cleaned.get(name)
            if not value:
                continue
            try:
                check = validate_stream_url(
                    value, approved_hosts=hosts, address_policy=fetch_policy()
                )
            except StreamURLError as exc:
                self.add_error(name, exc.message)
                continue
            cleaned[name] = check.url
            self.stream_warnings.extend(check.warnings)
        return cleaned


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    """Cameras come from imports. Staff can correct the stream and agreement."""

    form = CameraStreamForm
    list_display = [
        "source_id",
        "name",
        "agency",
        "state",
        "stream_problem",
        "health_state",
    ]
    list_filter = ["state", "health_state", CameraAgencyFilter]
    search_fields = ["source_id", "current_revision__snapshot__name"]
    list_select_related = ["agency", "current_revision"]
    readonly_fields = [
        "agency",
        "source_id",
        "source_list",
        "state",
        "stream_problem",
        "stream_warnings",
        "health_state",
        "health_changed_at",
        "recent_checks",
        "recent_events",
    ]
    fields = [
        *readonly_fields,
        "agreement",
        "stream_kind",
        "stream_url",
        "snapshot_url",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("recent checks"))
    def recent_checks(self, obj: Camera) -> str:
        checks = obj.checks.order_by("-checked_at", "-id")[:RECENT_ROWS]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    local_time(check.checked_at),
                    _("OK") if check.ok else check.problem_code,
                    check.detail,
                    check.elapsed_ms,
                    check.fingerprint[:24],
                )
                for check in checks
            ),
        )
        if not rows:
            return str(_("No checks yet."))
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("checked at"),
            _("result"),
            _("detail"),
            _("elapsed time (ms)"),
            _("frame fingerprint"),
            rows,
        )

    @admin.display(description=_("recent changes of health state"))
    def recent_events(self, obj: Camera) -> str:
        events = obj.health_events.order_by("-at", "-id")[:RECENT_ROWS]
        items = format_html_join(
            "",
            "<li>{}: {} → {} ({})</li>",
            (
                (
                    local_time(event.at),
                    event.get_from_state_display(),
                    event.get_to_state_display(),
                    event.reason,
                )
                for event in events
            ),
        )
        if not items:
            return str(_("No changes yet."))
        return format_html("<ul>{}</ul>", items)

    def save_model(
        self, request: HttpRequest, obj: Camera, form: Any, change: bool
    ) -> None:
        revision = obj.current_revision
        snapshot = dict(revision.snapshot) if revision else {}
        for name in ("stream_kind", "stream_url", "snapshot_url"):
            snapshot[name] = form.cleaned_data[name]
        obj.stream_problem = ""
        obj.stream_warnings = form.stream_warnings
        obj.save(update_fields=["agreement", "stream_problem", "stream_warnings"])
        edit(obj, snapshot, request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that the system writes and people only read."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CameraCheck)
class CameraCheckAdmin(ReadOnlyAdmin):
    list_display = ["camera", "checked_at", "ok", "problem_code", "elapsed_ms"]
    list_filter = ["ok", "problem_code"]
    search_fields = ["camera__source_id"]
    date_hierarchy = "checked_at"
    list_select_related = ["camera"]
    show_full_result_count = False


@admin.register(CameraHealthEvent)
class CameraHealthEventAdmin(ReadOnlyAdmin):
    list_display = [
        "camera",
        "at",
        "from_state",
        "to_state",
        "reason",
        "host",
        "host_level",
        "incident",
        "notice",
    ]
    list_filter = ["to_state", "host_level", "notice"]
    search_fields = ["camera__source_id", "host"]
    date_hierarchy = "at"
    list_select_related = ["camera", "incident"]


@admin.register(HostIncident)
class HostIncidentAdmin(ReadOnlyAdmin):
    list_display = ["host", "started_at", "ended_at", "camera_count"]
    search_fields = ["host"]
    date_hierarchy = "started_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(cameras=Count("events__camera", distinct=True))
        )

    @admin.display(description=_("cameras"), ordering="cameras")
    def camera_count(self, obj: Any) -> int:
        return int(obj.cameras)


@admin.register(CameraReport)
class CameraReportAdmin(admin.ModelAdmin):
    list_display = ["camera", "reported_at", "description", "check_outcome", "handled"]
    list_filter = ["handled"]
    search_fields = ["camera__source_id", "description"]
    date_hierarchy = "reported_at"
    list_select_related = ["camera", "check_result"]
    readonly_fields = ["camera", "reported_at", "description", "check_result"]
    fields = [*readonly_fields, "handled"]
    actions = ["mark_handled"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("re-check"))
    def check_outcome(self, obj: CameraReport) -> str:
        check = obj.check_result
        if check is None:
            return str(_("waiting"))
        return str(_("OK")) if check.ok else check.problem_code

    @admin.action(description=_("Mark the selected reports handled"))
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        queryset.update(handled=True)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["agency", "camera", "starts_at", "ends_at", "reason"]
    search_fields = ["agency__name_zh", "agency__code", "reason"]
    autocomplete_fields = ["agency", "camera"]
    date_hierarchy = "starts_at"


@admin.register(CameraContact)
class CameraContactAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "agency"]
    search_fields = ["email", "name", "agency__name_zh", "agency__code"]
    autocomplete_fields = ["agency"]
