from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govportal.api.keys import revoke_key
from govportal.api.models import ApiKey

KEY_FIELDS: list[Any] = [
    "prefix",
    "agency",
    "environment",
    "label",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued with ``govportal apikeys issue``, which shows the secret once.

    The admin shows no hash and cannot create keys, only revoke them.
    """

    list_display = KEY_FIELDS
    list_filter = ["environment"]
    list_select_related = ["agency"]
    search_fields = ["public_id", "label", "agency__code", "agency__name_zh"]
    fields = KEY_FIELDS
    readonly_fields = KEY_FIELDS
    actions = ["revoke"]

    @admin.display(description=_("key prefix"))
    def prefix(self, key: ApiKey) -> str:
        return key.prefix

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            revoke_key(key)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
