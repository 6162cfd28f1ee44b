from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govportal.feeds.messages import describe
from govportal.feeds.models import Feed, FetchLog
from govportal.feeds.registration import approve_feed, pause_feed


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "agency",
        "url",
        "state",
        "last_success_at",
        "consecutive_failures",
        "problem",
    ]
    list_filter = ["state"]
    search_fields = ["url", "agency__name_zh", "agency__code"]
    raw_id_fields = ["agency"]
    list_select_related = ["agency"]
    readonly_fields = [
        "check_report",
        "approved_at",
        "approved_by",
        "last_fetch_at",
        "last_success_at",
        "last_error_at",
        "problem",
        "last_flags",
        "moved_to_url",
        "etag",
        "last_modified",
    ]
    actions = ["approve", "pause"]

    @admin.display(description=_("problem"))
    def problem(self, feed: Feed) -> str:
        return describe(feed.last_error_code, feed.last_error_params)

    @admin.action(description=_("Approve the selected feeds"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        for feed in queryset:
            approve_feed(feed, request.user.get_username())
        self.message_user(request, _("Feeds approved."), messages.SUCCESS)

    @admin.action(description=_("Pause the selected feeds"))
    def pause(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        for feed in queryset:
            pause_feed(feed)
        self.message_user(request, _("Feeds paused."), messages.SUCCESS)


@admin.register(FetchLog)
class FetchLogAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "feed",
        "ok",
        "http_status",
        "error_code",
        "items_new",
        "duration_ms",
    ]
    list_filter = ["ok", "error_code"]
    raw_id_fields = ["feed"]
    list_select_related = ["feed"]
