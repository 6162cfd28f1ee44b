from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govportal.agencies.management.commands.agencies import find_agency
from govportal.api.keys import find_key, issue_key, revoke_key
from govportal.api.models import ApiKey, Environment

MAX_DAYS = 5 * 365


class Command(BaseCommand):
    help = (
        "Manage the API keys of agency integrations. Subcommands: issue, list, revoke."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser(
            "issue", help="Create a key and print it once; only its hash is stored."
        )
        issue.add_argument("agency", help="agency code (機關代碼) or OID")
        issue.add_argument(
            "--environment",
            required=True,
            choices=[env.value for env in Environment],
            help="test keys work only in the sandbox, production keys only in "
            "production",
        )
        issue.add_argument("--label", default="", help="what the key is for")
        issue.add_argument(
            "--days",
            type=int,
            default=365,
            help=f"days until the key expires (1 to {MAX_DAYS}, default 365)",
        )
        listing = sub.add_parser("list", help="Print keys without their secrets.")
        listing.add_argument("agency", nargs="?", help="only this agency's keys")
        revoke = sub.add_parser("revoke", help="Revoke a key from now on.")
        revoke.add_argument("key", help="the key's prefix, public ID or row ID")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "issue":
            self._issue(options)
        elif action == "list":
            self._list(options.get("agency"))
        elif action == "revoke":
            self._revoke(options["key"])

    def _issue(self, options: dict[str, Any]) -> None:
        days = options["days"]
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be from 1 to {MAX_DAYS}, not {days}.")
        agency = find_agency(options["agency"])
        issued = issue_key(
            agency,
            Environment(options["environment"]),
            label=options["label"],
            valid_for=timedelta(days=days),
        )
        key = issued.key
        self.stdout.write(issued.secret)
        self.stderr.write(
            f"Issued {key.prefix} for {agency.key}, expires {key.expires_at:%Y-%m-%d}. "
            "Store the key now: it is not shown again."
        )

    def _list(self, agency_reference: str | None) -> None:
        keys = ApiKey.objects.select_related("agency")
        if agency_reference:
            keys = keys.filter(agency=find_agency(agency_reference))
        self.stdout.write(
            "id\tprefix\tagency\tenvironment\tlabel\tcreated\texpires\tlast used\t"
            "revoked"
        )
        for key in keys:
            self.stdout.write(
                "\t".join(
                    [
                        str(key.pk),
                        key.prefix,
                        key.agency.key,
                        key.environment,
                        key.label or "-",
                        _date(key.created_at),
                        _date(key.expires_at),
                        _date(key.last_used_at),
                        _date(key.revoked_at),
                    ]
                )
            )

    def _revoke(self, reference: str) -> None:
        key = find_key(reference)
        if key is None:
            raise CommandError(
                "No API key has that prefix, public ID or row ID. Run "
                "`govportal apikeys list` to see the keys."
            )
        if revoke_key(key):
            self.stdout.write(f"Revoked {key.prefix} of {key.agency.key}.")
        else:
            self.stdout.write(f"{key.prefix} was already revoked at {key.revoked_at}.")


def _date(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value else "-"
