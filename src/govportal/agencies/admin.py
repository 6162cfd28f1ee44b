from django.contrib import admin

from govportal.agencies.models import Agency


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "oid", "name_zh", "name_en", "level", "abolished_on"]
    list_filter = ["level", "source"]
    search_fields = ["code", "oid", "name_zh", "name_en"]
    raw_id_fields = ["parent", "successor"]
    list_per_page = 50
    show_full_result_count = False
