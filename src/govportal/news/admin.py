from django.contrib import admin

from govportal.news.models import NewsItem


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):
    list_display = ["published_at", "agency", "title", "origin_feed"]
    search_fields = ["title", "agency__name_zh"]
    raw_id_fields = ["agency", "origin_feed"]
    list_select_related = ["agency", "origin_feed"]
    date_hierarchy = "published_at"
    show_full_result_count = False
