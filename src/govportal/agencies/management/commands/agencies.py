from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govportal.agencies.importer import import_agencies
from govportal.agencies.models import Agency


class Command(BaseCommand):
    help = "Manage the agency registry (機關). Subcommands: import, show."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "import",
            help="Load the DGPA agency code list and the OID directory shipped "
            "with govportal; safe to run again.",
        )
        show = sub.add_parser("show", help="Print one agency by code or OID.")
        show.add_argument("key", help="agency code (機關代碼) or OID")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            report = import_agencies()
            self.stdout.write(
                f"agencies: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged; OIDs matched to codes: "
                f"{report.oid_matched}, OID only: {report.oid_only}; "
                f"{Agency.objects.count()} in the registry"
            )
        elif options["action"] == "show":
            agency = find_agency(options["key"])
            self.stdout.write(
                f"{agency.key}\t{agency.name_zh}\t{agency.name_en}\t"
                f"oid={agency.oid or '-'}\tlevel={agency.level or '-'}"
            )


def find_agency(key: str) -> Agency:
    key = key.strip()
    agency = (
        Agency.objects.filter(code=key.upper()).first()
        or Agency.objects.filter(oid=key).first()
    )
    if agency is None:
        raise CommandError(
            f"No agency has the code or OID {key!r}. Run `govportal agencies "
            "import` first, or check the code in the DGPA code list."
        )
    return agency
