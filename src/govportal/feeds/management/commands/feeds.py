import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from govportal.agencies.management.commands.agencies import find_agency
from govportal.feeds.ingest import fetch_feeds
from govportal.feeds.messages import describe, describe_both
from govportal.feeds.models import Feed
from govportal.feeds.registration import (
    RegistrationError,
    approve_feed,
    check_feed_url,
    confirm_move,
    pause_feed,
    register_feed,
)


def feed_status(feed: Feed) -> dict[str, Any]:
    """Return the feed's state as operators and scripts read it."""
    problems = describe_both(feed.last_error_code, feed.last_error_params)
    return {
        "id": feed.id,
        "agency_code": feed.agency.key,
        "agency": feed.agency.name_zh,
        "url": feed.url,
        "state": feed.state,
        "last_fetch_at": _iso(feed.last_fetch_at),
        "last_success_at": _iso(feed.last_success_at),
        "next_fetch_at": _iso(feed.next_fetch_at),
        "consecutive_failures": feed.consecutive_failures,
        "problem_code": feed.last_error_code,
        "problem": describe(feed.last_error_code, feed.last_error_params),
        "problem_zh": problems.get("zh-hant", ""),
        "problem_en": problems.get("en", ""),
        "items_in_last_fetch": feed.last_item_count,
        "flags": feed.last_flags,
        "moved_to_url": feed.moved_to_url,
    }


def _iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


class Command(BaseCommand):
    help = (
        "Manage agency news feeds. Subcommands: add, check, approve, pause, "
        "fetch, list, confirm-move."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        add = sub.add_parser("add", help="Register a feed and check it now.")
        add.add_argument("agency", help="agency code (機關代碼) or OID")
        add.add_argument("url", help="the feed's http(s) address")
        add.add_argument(
            "--approve", action="store_true", help="switch it on if the check passes"
        )
        add.add_argument(
            "--interval",
            type=int,
            default=None,
            help="minutes between fetches, 5 to 1440 (default: "
            "GOVPORTAL_FEED_INTERVAL_MINUTES, 60)",
        )

        check = sub.add_parser("check", help="Check an address without storing it.")
        check.add_argument("url")

        for name, text in [
            ("approve", "Switch feeds on."),
            ("pause", "Stop fetching feeds until approved again."),
            ("confirm-move", "Store the new address of a permanently moved feed."),
        ]:
            command = sub.add_parser(name, help=text)
            command.add_argument(
                "ids", nargs="+", type=int, help="feed ids (see `feeds list`)"
            )

        fetch = sub.add_parser("fetch", help="Fetch feeds now and print their state.")
        fetch.add_argument(
            "ids", nargs="*", type=int, help="feed ids (see `feeds list`)"
        )
        fetch.add_argument(
            "--all", action="store_true", help="every active or failing feed"
        )

        listing = sub.add_parser("list", help="Print every feed with its state.")
        listing.add_argument(
            "--json", action="store_true", help="print a JSON array of feed states"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "add":
                self._add(options)
            elif action == "check":
                report = check_feed_url(options["url"])
                self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            elif action in {"approve", "pause", "confirm-move"}:
                for feed in self._feeds(options["ids"]):
                    if action == "approve":
                        self._warn_failed_check(feed)
                        feed = approve_feed(feed, "cli")
                    elif action == "pause":
                        feed = pause_feed(feed)
                    else:
                        feed = confirm_move(feed)
                    self.stdout.write(f"{feed.id}\t{feed.state}\t{feed.url}")
            elif action == "fetch":
                self._fetch(options)
            elif action == "list":
                self._list(options["json"])
        except RegistrationError as exc:
            raise CommandError(str(exc)) from exc

    def _warn_failed_check(self, feed: Feed) -> None:
        report = feed.check_report or {}
        if report and not report.get("ok") and feed.last_success_at is None:
            problem = report.get("error", {}).get("message_en", "the check failed")
            self.stderr.write(
                f"warning: feed {feed.id} failed its check at registration "
                f"({problem}); run `govportal feeds check {feed.url}` to see "
                "whether it works now."
            )

    def _feeds(self, ids: list[int]) -> list[Feed]:
        feeds = list(Feed.objects.filter(id__in=ids).select_related("agency"))
        missing = sorted(set(ids) - {f.id for f in feeds})
        if missing:
            raise CommandError(
                f"No feed has the id {', '.join(map(str, missing))}; "
                "`govportal feeds list` shows the ids."
            )
        return feeds

    def _add(self, options: dict[str, Any]) -> None:
        agency = find_agency(options["agency"])
        feed = register_feed(
            agency,
            options["url"],
            approve=options["approve"],
            interval_minutes=options["interval"],
        )
        report = feed.check_report
        if not report.get("ok"):
            problem = report.get("error", {})
            self.stderr.write(
                f"feed {feed.id} registered but its check failed: "
                f"{problem.get('message_zh', '')} / {problem.get('message_en', '')}"
            )
        self.stdout.write(str(feed.id))

    def _fetch(self, options: dict[str, Any]) -> None:
        if options["all"]:
            feeds = list(
                Feed.objects.filter(
                    state__in=[Feed.State.ACTIVE, Feed.State.FAILING]
                ).select_related("agency")
            )
        elif options["ids"]:
            feeds = self._feeds(options["ids"])
            pending = [f.id for f in feeds if not f.is_fetchable]
            if pending:
                raise CommandError(
                    f"Feed {', '.join(map(str, pending))} is not active; approve "
                    "it first (`govportal feeds approve ID`)."
                )
        else:
            raise CommandError("Give feed ids or --all.")
        outcomes = {o.feed_id: o for o in fetch_feeds(feeds)}
        for feed in feeds:
            outcome = outcomes[feed.id]
            line = (
                f"{feed.id}\t{feed.state}\t{feed.agency.key}\t"
                f"new={outcome.store.new} updated={outcome.store.updated} "
                f"seen={outcome.store.seen}"
            )
            if feed.last_error_code:
                line += f"\t{feed.last_error_code}: " + describe(
                    feed.last_error_code, feed.last_error_params
                )
            self.stdout.write(line)

    def _list(self, as_json: bool) -> None:
        feeds = Feed.objects.select_related("agency").order_by("id")
        rows = [feed_status(feed) for feed in feeds]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stderr.write("No feeds are registered; add one with `feeds add`.")
        for row in rows:
            notes = [row["problem"]] if row["problem"] else []
            if row["moved_to_url"]:
                notes.append(f"moved to {row['moved_to_url']} (feeds confirm-move)")
            self.stdout.write(
                f"{row['id']}\t{row['state']}\t{row['agency_code']}\t"
                f"{row['last_success_at'] or '-'}\t{row['url']}\t{'; '.join(notes)}"
            )
