from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from govportal.agencies.management.commands.agencies import find_agency
from govportal.cameras.health import check_cameras
from govportal.cameras.importer import ImportReport, import_camera_list
from govportal.cameras.models import (
    Camera,
    CameraHealthEvent,
    CameraReport,
    HealthState,
    HostIncident,
    NoticeState,
)
from govportal.cameras.notices import local_time
from govportal.cameras.sources import CameraListError
from govportal.cameras.tasks import monitored_cameras

# Rejected records and warnings printed one by one; the rest are counted.
SHOWN_REJECTIONS = 50
SHOWN_WARNINGS = 20


class Command(BaseCommand):
    help = "Maintain camera records. Subcommands: import, check, status."

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

        checking = sub.add_parser(
            "check",
            help="Check cameras now and print each result and health state.",
        )
        checking.add_argument("camera_ids", nargs="*", type=int, help="camera ids")
        checking.add_argument(
            "--agency", help="check every camera of this agency (code or OID)"
        )
        sub.add_parser(
            "status",
            help="Print cameras per health state, open host incidents, mail "
            "waiting to be sent and reports not yet handled.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "check":
            self.check_now(options)
        elif options["action"] == "status":
            self.show_status()
        else:
            self.import_list(options)

    def check_now(self, options: dict[str, Any]) -> None:
        cameras = Camera.objects.select_related(
            "current_revision", "published_revision"
        ).order_by("id")
        if options["agency"]:
            cameras = cameras.filter(agency=find_agency(options["agency"]))
        elif options["camera_ids"]:
            cameras = cameras.filter(id__in=options["camera_ids"])
            missing = set(options["camera_ids"]) - {c.pk for c in cameras}
            if missing:
                raise CommandError(
                    f"No camera has the id {', '.join(map(str, sorted(missing)))}. "
                    "Camera ids are in the admin's camera list."
                )
        else:
            raise CommandError("Give camera ids or --agency CODE.")
        outcomes = {outcome.camera_id: outcome for outcome in check_cameras(cameras)}
        for camera in cameras:
            outcome = outcomes.get(camera.pk)
            if outcome is None:
                self.stdout.write(
                    f"{camera.pk}\t{camera.source_id}\tno stream to check"
                )
                continue
            result = outcome.result
            verdict = "ok" if result.ok else f"{result.problem_code}: {result.detail}"
            changed = " (changed)" if outcome.changed else ""
            self.stdout.write(
                f"{camera.pk}\t{camera.source_id}\t{verdict}\t"
                f"{result.elapsed_ms} ms\t{outcome.state}{changed}"
            )

    def show_status(self) -> None:
        states = dict(
            monitored_cameras()
            .values_list("health_state")
            .annotate(count=Count("id"))
            .values_list("health_state", "count")
        )
        counts = [f"{states.get(state, 0)} {state}" for state in HealthState.values]
        unpublished = Camera.objects.filter(published_revision__isnull=True).count()
        self.stdout.write(
            "published cameras: "
            + ", ".join(counts)
            + f"; not published (not checked): {unpublished}"
        )
        for incident in HostIncident.objects.filter(ended_at__isnull=True):
            self.stdout.write(
                f"open incident on {incident.host} since "
                f"{local_time(incident.started_at)} (Taiwan time)"
            )
        pending = CameraHealthEvent.objects.filter(notice=NoticeState.PENDING).count()
        reports = CameraReport.objects.filter(handled=False).count()
        self.stdout.write(f"changes waiting to be mailed: {pending}")
        self.stdout.write(f"visitor reports not handled: {reports}")

    def import_list(self, options: dict[str, Any]) -> None:
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
            self.stdout.write(f"{report.warnings} warnings about stream URLs:")
            for source_id, warning in report.warning_details[:SHOWN_WARNINGS]:
                self.stdout.write(f"  {source_id}\t{warning}")
            if report.warnings > SHOWN_WARNINGS:
                self.stdout.write(f"  and {report.warnings - SHOWN_WARNINGS} more")
        for key, name, count in report.other_agencies:
            self.stdout.write(
                f"Warning: {count} ids of this list are already cameras of "
                f"{name} ({key}). Check that --agency names the list's owner."
            )
        if report.same_stream:
            self.stdout.write(
                f"Warning: {len(report.same_stream)} records stream the same URL "
                "as a stored camera that this list does not name, which usually "
                "means the source changed the camera's id; the old camera is "
                "kept, so withdraw it if it is the same camera:"
            )
            for new_id, old_id in report.same_stream[:SHOWN_WARNINGS]:
                self.stdout.write(f"  {new_id}\tsame stream as {old_id}")
        if report.rejected:
            first = report.rejected[:SHOWN_REJECTIONS]
            if len(first) < len(report.rejected):
                self.stdout.write(f"First {len(first)} rejected records:")
            else:
                self.stdout.write("Rejected records:")
            for rejection in first:
                self.stdout.write(
                    f"  record {rejection.position}\t"
                    f"{rejection.source_id or '(no id)'}\t{rejection.reason}"
                )
            if len(first) < len(report.rejected):
                self.stdout.write(f"  and {len(report.rejected) - len(first)} more")
