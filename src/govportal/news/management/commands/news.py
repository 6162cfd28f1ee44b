import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from govportal.agencies.management.commands.agencies import find_agency
from govportal.news.models import FeedEntry, NewsItem
from govportal.news.store import purge_expired


def news_record(item: NewsItem, feed_ids: list[int]) -> dict[str, Any]:
    return {
        "title": item.title,
        "link": item.link,
        "published_at": timezone.localtime(item.published_at).isoformat(),
        "agency_code": item.agency.key,
        "agency": item.agency.name_zh,
        "feed_ids": feed_ids,
        "summary_html": item.summary_html,
        "flags": item.flags,
    }


class Command(BaseCommand):
    help = "Read and maintain stored news. Subcommands: list, purge."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Print stored news, newest first.")
        listing.add_argument("--json", action="store_true", help="a JSON array")
        listing.add_argument("--agency", help="only this agency code or OID")
        listing.add_argument(
            "--limit", type=int, default=0, help="at most this many items (0: all)"
        )
        sub.add_parser("purge", help="Delete news older than the retention period now.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "purge":
            deleted = purge_expired(timezone.now())
            self.stdout.write(f"{deleted} expired news items deleted")
            return

        if options["limit"] < 0:
            raise CommandError(
                f"--limit {options['limit']} is negative; give 0 for all items "
                "or a positive number."
            )
        query = NewsItem.objects.select_related("agency").order_by(
            "-published_at", "-id"
        )
        if options["agency"]:
            agency = find_agency(options["agency"])
            query = query.filter(agency=agency)
        if options["limit"] > 0:
            query = query[: options["limit"]]
        items = list(query)
        feed_ids: dict[int, list[int]] = {}
        through = FeedEntry.objects.filter(item_id__in=[i.id for i in items]).order_by(
            "feed_id"
        )
        for item_id, feed_id in through.values_list("item_id", "feed_id"):
            feed_ids.setdefault(item_id, []).append(feed_id)

        records = [news_record(item, feed_ids.get(item.id, [])) for item in items]
        if options["json"]:
            self.stdout.write(json.dumps(records, ensure_ascii=False, indent=2))
            return
        for record in records:
            self.stdout.write(
                f"{record['published_at']}\t{record['agency_code']}\t"
                f"{record['title']}\t{record['link']}"
            )
