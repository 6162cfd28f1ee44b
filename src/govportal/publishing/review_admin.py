"""Admin pages for the central review team, shared by every publishable model.

A content model's ``ModelAdmin`` subclasses ``ReviewModelAdmin`` to get a
review page per item: what changed since the published revision, field by
field, and buttons that approve or return exactly the revision shown. The
page calls the workflow functions, so the four-eyes rule and the revision
check are enforced there and not in the admin.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from govportal.publishing.errors import PublishingError
from govportal.publishing.history import item_history
from govportal.publishing.models import Publishable
from govportal.publishing.snapshot import LineChange, Snapshot, diff_snapshots
from govportal.publishing.states import State
from govportal.publishing.workflow import (
    REVIEW_PERMISSION,
    Actor,
    approve,
    return_for_changes,
    start_review,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiffRow:
    """One changed field as the review page shows it, values as plain text."""

    label: str | Promise
    kind: str
    old: str
    new: str
    lines: list[LineChange]


def build_diff_rows(
    model: type[Publishable], published: Snapshot, current: Snapshot
) -> list[DiffRow]:
    """Return the fields changed from ``published`` to ``current``, labelled."""
    rows = []
    for change in diff_snapshots(published, current, model.snapshot_fields):
        rows.append(
            DiffRow(
                label=model.snapshot_label(change.key),
                kind=change.kind,
                old=model.snapshot_display(change.key, change.old),
                new=model.snapshot_display(change.key, change.new),
                lines=change.lines,
            )
        )
    return rows


class ReviewModelAdmin(admin.ModelAdmin):
    """Model admin with a review page and a "start review" action per item."""

    review_template = "admin/publishing/review.html"
    actions = ["start_review_action"]

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        review = path(
            "<path:object_id>/review/",
            self.admin_site.admin_view(self.review_view),
            name="{}_{}_review".format(*info),
        )
        return [review, *cast(list[URLPattern], super().get_urls())]

    def review_url(self, item: Publishable) -> str:
        info = self.opts.app_label, self.opts.model_name
        name = "admin:{}_{}_review".format(*info)
        return reverse(name, args=[item.pk], current_app=self.admin_site.name)

    @admin.display(description=_("review"))
    def review_link(self, item: Publishable) -> str:
        return format_html('<a href="{}">{}</a>', self.review_url(item), _("review"))

    @admin.display(description=_("current revision"))
    def current_number(self, item: Publishable) -> int | None:
        revision = item.current_revision
        return revision.number if revision else None

    @admin.display(description=_("published revision"))
    def published_number(self, item: Publishable) -> int | None:
        revision = item.published_revision
        return revision.number if revision else None

    @admin.action(description=_("Start central review of the selected items"))
    def start_review_action(
        self, request: HttpRequest, queryset: QuerySet[Publishable]
    ) -> None:
        self._require_reviewer(request)
        started = 0
        actor = _actor(request)
        for item in queryset:
            if _report_error(request, partial(start_review, item, actor)):
                started += 1
        if started:
            messages.success(
                request, _("Central review started: %(count)d.") % {"count": started}
            )

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        item = self.get_object(request, unquote(object_id))
        if item is None:
            raise Http404(f"{self.opts.verbose_name} {object_id} not found")
        self._require_reviewer(request, item)
        if request.method == "POST":
            self._decide(request, item)
            return HttpResponseRedirect(self._next_url(request, item))
        return TemplateResponse(
            request, self.review_template, self._review_context(request, item)
        )

    def _next_url(self, request: HttpRequest, item: Publishable) -> str:
        """Stay on the review page unless the item left this admin's list."""
        if self.get_queryset(request).filter(pk=item.pk).exists():
            return request.path
        info = self.opts.app_label, self.opts.model_name
        name = "admin:{}_{}_changelist".format(*info)
        return reverse(name, current_app=self.admin_site.name)

    def _require_reviewer(self, request: HttpRequest, item: Any = None) -> None:
        allowed = self.has_view_permission(request, item)
        if not allowed or not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied

    def _decide(self, request: HttpRequest, item: Publishable) -> None:
        operation = self._operation(request, item)
        if operation is None:
            return
        if _report_error(request, operation):
            messages.success(
                request,
                _("Saved: the item is now %(state)s.")
                % {"state": State(item.state).label},
            )

    def _operation(
        self, request: HttpRequest, item: Publishable
    ) -> Callable[[], object] | None:
        """Return the workflow call a review form requests, or None if invalid."""
        action = request.POST.get("action", "")
        actor = _actor(request)
        if action == "start_review":
            return partial(start_review, item, actor)
        try:
            number = int(request.POST.get("revision", ""))
        except ValueError:
            messages.error(
                request,
                _("The form sent no valid revision number. Reload the page and retry."),
            )
            return None
        if action == "approve":
            return partial(approve, item, number, actor)
        if action == "return":
            reason = request.POST.get("reason", "")
            return partial(return_for_changes, item, number, actor, reason)
        messages.error(request, _("Unknown review action. Reload the page and retry."))
        return None

    def _review_context(self, request: HttpRequest, item: Any) -> dict[str, Any]:
        current = item.current_revision
        published = item.published_revision
        rows = build_diff_rows(
            type(item),
            published.snapshot if published else {},
            current.snapshot if current else {},
        )
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Review %(item)s") % {"item": item},
            "item": item,
            "state_label": State(item.state).label,
            "current": current,
            "published": published,
            "rows": rows,
            "history": list(item_history(item)),
            "can_decide": item.state == State.IN_REVIEW,
            "can_start": item.state == State.SUBMITTED,
        }


def _actor(request: HttpRequest) -> Actor:
    return cast(Actor, request.user)


def _report_error(request: HttpRequest, operation: Callable[[], object]) -> bool:
    """Run a workflow operation and show its error to the reviewer, not a 500 page."""
    try:
        operation()
    except PublishingError as error:
        logger.info(
            "review rejected code=%s user=%s item=%s",
            error.code,
            request.user.pk,
            error.params.get("item", ""),
        )
        messages.error(request, str(error))
        return False
    return True
