from django.db import models
from django.utils.translation import gettext_lazy as _


class NewsItem(models.Model):
    """One news story, shown once however many feeds carry it.

    ``published_at`` is the date the site shows and sorts by: the feed's own
    date when it is believable, else the time the story was first seen.
    ``source_published_at`` stores the date the feed gave.
    """

    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="news",
    )
    origin_feed = models.ForeignKey(
        "feeds.Feed",
        verbose_name=_("first seen in feed"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    feeds = models.ManyToManyField(
        "feeds.Feed", through="FeedEntry", related_name="news_items"
    )
    title = models.CharField(_("title"), max_length=500)
    link = models.URLField(_("link"), max_length=2000, blank=True)
    # The link with tracking parameters removed: one story, one key.
    link_key = models.CharField(max_length=2000, blank=True, db_index=True)
    # Fallback identity for items with neither guid nor link.
    title_key = models.CharField(max_length=64, blank=True, db_index=True)
    summary_html = models.TextField(_("summary"), blank=True)
    published_at = models.DateTimeField(_("published at"), db_index=True)
    source_published_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen at"))
    updated_at = models.DateTimeField(_("updated at"))
    content_hash = models.CharField(max_length=64)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news items")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["agency", "-published_at"])]

    def __str__(self) -> str:
        return self.title


class FeedEntry(models.Model):
    """A story as carried by one feed, with that feed's own guid for it."""

    feed = models.ForeignKey("feeds.Feed", on_delete=models.CASCADE)
    item = models.ForeignKey(NewsItem, on_delete=models.CASCADE)
    guid = models.CharField(max_length=500, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feed", "item"], name="feedentry_unique"),
        ]
        indexes = [models.Index(fields=["feed", "guid"])]

    def __str__(self) -> str:
        return f"feed {self.feed_id} item {self.item_id}"
