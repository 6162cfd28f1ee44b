from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from govportal.agencies.management.commands.agencies import find_agency
from govportal.cameras.importer import ImportReport, import_camera_list
from govportal.cameras.sources import CameraListError

SHOWN_REJECTIONS = 10


class Command(BaseCommand):
    help = "Maintain camera records. Subcommands: import."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        importing = sub.add_parser(
            "import",
            help="Create or update an agency's cameras from a camera list file "
            "(TDX CCTVList XML, freeway v1.1 XML, Kaohsiung JSON, data.taipei JSON).",
        )
        importing.add_argument("file", type=Path, help="the camera list file")
        importing.add_argument(
            "--agency", required=True, help="code or OID of the agency that owns them"
        )
        importing.add_argument(
            "--user",
            required=True,
            help="user name recorded as the author of the new revisions",
        )
        importing.add_argument(
            "--dry-run",
            action="store_true",
            help="print the counts without writing anything",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        agency = find_agency(options["agency"])
        user_model = get_user_model()
        try:
            author = user_model._default_manager.get_by_natural_key(options["user"])
        except user_model.DoesNotExist:
            raise CommandError(
                f"No user has the user name {options['user']!r}. Give the user "
                "name of an existing staff account."
            ) from None
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            report = import_camera_list(
                data,
                agency,
                author,
                source_list=path.name,
                dry_run=options["dry_run"],
            )
        except CameraListError as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from None
        self.print_report(report)

    def print_report(self, report: ImportReport) -> None:
        prefix = "Dry run, nothing written: " if report.dry_run else ""
        self.stdout.write(
            f"{prefix}{report.source_list} ({report.format_name}): "
            f"{report.total} records, {report.created} created, "
            f"{report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected"
        )
        not_publishable = sum(report.not_publishable.values())
        if not_publishable:
            self.stdout.write(f"{not_publishable} stored but not publishable:")
            for reason, count in report.not_publishable.most_common():
                self.stdout.write(f"  {count}\t{reason}")
        if report.warnings:
            self.stdout.write(
                f"{report.warnings} warnings about stream URLs, such as "
                "token-like query parameters"
            )
        if report.rejected:
            first = report.rejected[:SHOWN_REJECTIONS]
            self.stdout.write(f"First {len(first)} rejected records:")
            for rejection in first:
                self.stdout.write(
                    f"  record {rejection.position}\t"
                    f"{rejection.source_id or '(no id)'}\t{rejection.reason}"
                )
