from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govportal.cameras.models import (
    ApprovedStreamHost,
    Camera,
    CameraAgreement,
    StreamKind,
)
from govportal.cameras.streams import StreamURLError, validate_stream_url
from govportal.feeds.ingest import fetch_policy
from govportal.publishing.workflow import edit


@admin.register(ApprovedStreamHost)
class ApprovedStreamHostAdmin(admin.ModelAdmin):
    list_display = ["host", "agency"]
    list_filter = ["agency"]
    search_fields = ["host", "agency__name_zh", "agency__code"]
    autocomplete_fields = ["agency"]


@admin.register(CameraAgreement)
class CameraAgreementAdmin(admin.ModelAdmin):
    list_display = ["agency", "signed_on", "valid_from", "valid_until"]
    list_filter = ["agency"]
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
        approved = None
        if cleaned.get("stream_kind") == StreamKind.EMBED_PAGE:
            approved = set(
                ApprovedStreamHost.objects.filter(
                    agency_id=self.instance.agency_id
                ).values_list("host", flat=True)
            )
        self.stream_warnings = []
        for name, hosts in (("stream_url", approved), ("snapshot_url", None)):
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
    list_filter = ["state", "health_state", "agency"]
    search_fields = ["source_id"]
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
