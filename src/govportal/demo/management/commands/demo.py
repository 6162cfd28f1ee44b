import ipaddress
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.admin import site as admin_site
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from govportal.agencies.models import Agency
from govportal.cameras.models import CameraHealthEvent
from govportal.demo.cameras import (
    DEFAULT_LOOPBACK_CAMERAS,
    CameraRuntime,
    CameraSetupReport,
    HealthWatch,
    set_up_cameras,
    start_camera_runtime,
)
from govportal.demo.catalogue import demo_reviewer, load_catalogue
from govportal.demo.replay import DEMO_FEEDS
from govportal.demo.server import AgencySitesServer, start_agency_sites
from govportal.feeds.ingest import fetch_feeds
from govportal.feeds.messages import describe
from govportal.feeds.models import Feed
from govportal.feeds.registration import approve_feed, register_feed
from govportal.news.models import NewsItem
from govportal.news.tasks import rebuild_site_if_changed
from govportal.publishing.states import State
from govportal.services.models import Service


class Command(BaseCommand):
    help = (
        "Run the demo: import agencies, play agency sites on loopback from "
        "real saved feeds, register and fetch them, build and serve the site, "
        "and run the worker until interrupted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--site-port",
            type=int,
            default=8000,
            help="port on 127.0.0.1 for the public site (default 8000)",
        )
        parser.add_argument(
            "--feeds-port",
            type=int,
            default=8061,
            help="port on 127.0.0.1 for the replayed agency sites (default 8061; "
            "a free port is used when it is busy)",
        )
        parser.add_argument(
            "--office-port",
            type=int,
            default=8002,
            help="port on 127.0.0.1 for the admin site and the integration API "
            "(default 8002)",
        )
        parser.add_argument(
            "--cameras",
            type=int,
            default=DEFAULT_LOOPBACK_CAMERAS,
            help="freeway cameras played by the loopback camera server and "
            f"checked by the worker (default {DEFAULT_LOOPBACK_CAMERAS}; 0 skips "
            "the cameras)",
        )
        parser.add_argument(
            "--cameras-port",
            type=int,
            default=8443,
            help="port on 127.0.0.1 for the HTTPS camera server (default 8443; "
            "a free port is used when it is busy)",
        )
        parser.add_argument(
            "--mail-port",
            type=int,
            default=8025,
            help="port on 127.0.0.1 for the demo mailbox, an SMTP server "
            "(default 8025; a free port is used when it is busy)",
        )
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="stop after the first fetch and build (for scripts)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._require_loopback_allowed()
        if not options["no_serve"]:
            self._require_free_port(options["site_port"])
        self._require_free_port(options["office_port"])
        # Links between the public site and the office follow the chosen
        # ports, here and in the worker and office processes started below.
        os.environ["SITE_BASE_URL"] = f"http://127.0.0.1:{options['site_port']}"
        os.environ["OFFICE_BASE_URL"] = f"http://127.0.0.1:{options['office_port']}"
        settings.SITE_BASE_URL = os.environ["SITE_BASE_URL"]
        settings.OFFICE_BASE_URL = os.environ["OFFICE_BASE_URL"]
        call_command("migrate", verbosity=0)
        if not Agency.objects.exists() or options.get("verbosity", 1) > 1:
            call_command("agencies", "import", stdout=self.stdout)

        sites = self._start_agency_sites(options["feeds_port"])
        self.stdout.write(f"agency sites played at {sites.base_url}")
        feeds = self._register_demo_feeds(sites)

        for outcome in fetch_feeds(feeds):
            feed = next(f for f in feeds if f.id == outcome.feed_id)
            problem = describe(feed.last_error_code, feed.last_error_params)
            self.stdout.write(
                f"  feed {feed.id} {feed.agency.name_zh}: {feed.state}, "
                f"{outcome.store.new} new, {outcome.store.updated} updated"
                + (f" ({problem})" if problem else "")
            )
        office = self._start_back_office(options["office_port"])
        cameras: CameraRuntime | None = None
        try:
            self._load_catalogue(options["office_port"])
            if options["cameras"] > 0:
                cameras = self._set_up_cameras(options)
        except BaseException:
            if cameras is not None:
                cameras.stop()
            _stop(office)
            sites.shutdown()
            raise

        rebuild_site_if_changed(force=True)
        agencies = NewsItem.objects.values("agency").distinct().count()
        self.stdout.write(
            f"{NewsItem.objects.count()} news items from {agencies} agencies, "
            f"{Service.objects.filter(state=State.PUBLISHED).count()} services "
            f"published; site built in {settings.SITE_DIR}"
        )
        if options["no_serve"]:
            if cameras is not None:
                cameras.stop()
            _stop(office)
            sites.shutdown()
            return
        self._serve(
            options["site_port"], options["office_port"], sites, office, cameras
        )

    operator_password: str | None = None

    def _password_note(self) -> str:
        if self.operator_password:
            return f", password {self.operator_password}"
        return "; `govportal changepassword operator` sets its password"

    def _require_loopback_allowed(self) -> None:
        loopback = ipaddress.ip_address("127.0.0.1")
        allowed = [
            ipaddress.ip_network(n, strict=False)
            for n in settings.FETCH_ALLOWED_NETWORKS
        ]
        if not any(loopback in network for network in allowed):
            raise CommandError(
                "The demo's agency sites run on 127.0.0.1, which the fetcher "
                "refuses by default. Run it with "
                "GOVPORTAL_FETCH_ALLOWED_NETWORKS=127.0.0.1/32 (as `make demo` does)."
            )

    def _start_back_office(self, port: int) -> subprocess.Popen[bytes]:
        """Start the admin site and the API under gunicorn, and wait for it."""
        log = (settings.VAR_DIR / "back-office.log").open("ab")
        environment = os.environ.copy()
        # One agency's system sends all its services at once in the demo.
        environment["GOVPORTAL_API_RATE_LIMIT_PER_MINUTE"] = "5000"
        office = subprocess.Popen(  # noqa: S603  (fixed program and arguments)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "govportal.demo.wsgi:application",
            ],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if office.poll() is not None:
                raise CommandError(
                    "The back office server stopped at start; see "
                    f"{settings.VAR_DIR / 'back-office.log'}."
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return office
            except OSError:
                time.sleep(0.3)
        _stop(office)
        raise CommandError(f"The back office did not start on port {port} in 30 s.")

    def _load_catalogue(self, port: int) -> None:
        reviewer, password = demo_reviewer()
        if password:
            self.operator_password = password
        if Service.objects.exists():
            return
        # The full build that follows publishes every approval at once, so
        # the demo queues no publish per approval.
        publish_on_approval = settings.PUBLISH_ON_APPROVAL
        settings.PUBLISH_ON_APPROVAL = False
        try:
            report = load_catalogue(f"http://127.0.0.1:{port}", reviewer)
        finally:
            settings.PUBLISH_ON_APPROVAL = publish_on_approval
        self.stdout.write(
            f"services: {report.sent} sent through the API, "
            f"{report.sandbox_checked} checked in the sandbox, "
            f"{report.approved} approved by the operator"
        )
        for problem in report.failed[:5]:
            self.stderr.write(f"  not loaded: {problem}")

    def _set_up_cameras(self, options: dict[str, Any]) -> CameraRuntime:
        """Start the camera server and mailbox, then import and point cameras."""
        started = time.monotonic()
        folder = settings.VAR_DIR / "demo-cameras"
        folder.mkdir(parents=True, exist_ok=True)
        runtime = start_camera_runtime(
            folder,
            options["cameras_port"],
            options["mail_port"],
            settings.VAR_DIR / "demo-mail",
            self._report_mail,
        )
        try:
            reviewer, _ = demo_reviewer()
            # The full build that follows publishes every approval at once.
            publish_on_approval = settings.PUBLISH_ON_APPROVAL
            settings.PUBLISH_ON_APPROVAL = False
            # Thousands of approvals would each log a line here. The
            # transitions stay in the database, where the admin shows them.
            workflow_logger = logging.getLogger("govportal.publishing.workflow")
            workflow_level = workflow_logger.level
            workflow_logger.setLevel(logging.WARNING)
            try:
                report = set_up_cameras(
                    reviewer, runtime.server.base_url, options["cameras"]
                )
            finally:
                settings.PUBLISH_ON_APPROVAL = publish_on_approval
                workflow_logger.setLevel(workflow_level)
        except BaseException:
            runtime.stop()
            raise
        self._print_camera_report(report, runtime, time.monotonic() - started)
        return runtime

    def _print_camera_report(
        self, report: CameraSetupReport, runtime: CameraRuntime, seconds: float
    ) -> None:
        for imported in report.imports:
            self.stdout.write(
                f"cameras: {imported.source_list}: {imported.total} records, "
                f"{imported.created} created, {sum(imported.not_publishable.values())}"
                f" not publishable, {len(imported.rejected)} rejected"
            )
        if report.skipped_lists:
            self.stdout.write(
                f"cameras: {len(report.skipped_lists)} lists were imported by an "
                "earlier run and are not imported again"
            )
        loopback = sum(report.loopback.values())
        self.stdout.write(
            f"cameras: {loopback} freeway cameras play from "
            f"{runtime.server.base_url} and are published by the operator "
            f"({report.repointed} newly pointed there, {report.restored} given "
            "back their real address and withdrawn)"
        )
        for played, count in sorted(report.loopback.items()):
            self.stdout.write(f"  {count:4d}  {played}")
        self.stdout.write(
            "cameras: the other imported cameras keep their real stream "
            "addresses, which this machine cannot reach, and stay in draft, "
            "so they are neither public nor checked"
        )
        self.stdout.write(
            f"cameras: notices go to {', '.join(report.contacts)}; the demo "
            f"mailbox on port {runtime.mailbox.port} keeps them in "
            f"{runtime.mailbox.folder}"
        )
        self.stdout.write(f"cameras: set up in {seconds:.1f} s")

    def _report_mail(self, subject: str, path: Path) -> None:
        self.stdout.write(f"mail: {subject} ({path.name})")

    def _require_free_port(self, port: int) -> None:
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise CommandError(
                f"Port {port} on 127.0.0.1 is in use ({exc.strerror}), so the demo "
                "cannot serve the site there. Stop what uses it, or choose another "
                "port with --site-port."
            ) from exc
        finally:
            probe.close()

    def _start_agency_sites(self, port: int) -> AgencySitesServer:
        try:
            return start_agency_sites(port=port)
        except OSError:
            self.stderr.write(f"port {port} is busy; using a free port instead")
            return start_agency_sites(port=0)

    def _register_demo_feeds(self, sites: AgencySitesServer) -> list[Feed]:
        feeds = []
        current = {sites.base_url + demo.path for demo in DEMO_FEEDS}
        # Feeds of an earlier demo run on another port would fail for ever.
        for stale in Feed.objects.filter(url__startswith="http://127.0.0.1:").exclude(
            url__in=current
        ):
            stale.state = Feed.State.PAUSED
            stale.save(update_fields=["state"])
        for demo in DEMO_FEEDS:
            agency = Agency.objects.get(code=demo.agency_code)
            url = sites.base_url + demo.path
            feed = Feed.objects.filter(agency=agency, url=url).first()
            if feed is None:
                feed = register_feed(agency, url, approve=True, approved_by="demo")
            elif not feed.is_fetchable:
                feed = approve_feed(feed, "demo")
            feeds.append(Feed.objects.select_related("agency").get(pk=feed.pk))
        return feeds

    def _serve(
        self,
        site_port: int,
        office_port: int,
        sites: AgencySitesServer,
        office: "subprocess.Popen[bytes]",
        cameras: CameraRuntime | None,
    ) -> None:
        server = threading.Thread(
            target=call_command,
            args=("serve", "--port", str(site_port)),
            daemon=True,
        )
        server.start()
        worker_log_path = settings.VAR_DIR / "worker.log"
        worker_log = worker_log_path.open("ab")
        command = [sys.executable, "-m", "govportal", "worker"]
        environment = os.environ.copy()
        if cameras is not None:
            environment = cameras.worker_environment(environment)
            # Outage cameras are good for a few minutes after this moment,
            # so the demo shows them come up, go down and come back.
            cameras.server.started_at = time.time()
            # Camera checks wait on the network, so more threads keep a
            # round of checks within its minute.
            command += ["--workers", "4"]
        worker = subprocess.Popen(  # noqa: S603  (fixed program and arguments)
            command,
            env=environment,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        time.sleep(1)
        self.stdout.write(
            "\nThe demo is running:\n"
            f"  public site:   http://127.0.0.1:{site_port}/\n"
            f"  agency sites:  {sites.base_url}/ (the replayed feeds)\n"
            f"  admin site:    http://127.0.0.1:{office_port}/admin/ (user "
            f"operator{self._password_note()})\n"
            f"  API v2:        http://127.0.0.1:{office_port}/api/v2/docs\n"
            f"  site files:    {settings.SITE_DIR}\n"
            "  worker:        fetches due feeds every minute, rebuilds on change;\n"
            f"                 its log is {worker_log_path}\n"
            "  feed states:   .venv/bin/govportal feeds list\n"
            + (self._camera_lines(site_port, office_port, cameras) if cameras else "")
            + "Press Ctrl-C to stop.\n"
        )
        watch = HealthWatch() if cameras is not None else None
        # A plain `kill` must stop the worker too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        next_watch = time.monotonic() + CAMERA_WATCH_SECONDS
        try:
            while worker.poll() is None:
                time.sleep(1)
                if watch is not None and time.monotonic() >= next_watch:
                    for line in watch.new_lines():
                        self.stdout.write(line)
                    next_watch = time.monotonic() + CAMERA_WATCH_SECONDS
        except KeyboardInterrupt:
            pass
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
            worker_log.close()
            if cameras is not None:
                cameras.stop()
            _stop(office)
            sites.shutdown()

    def _camera_lines(
        self, site_port: int, office_port: int, cameras: CameraRuntime
    ) -> str:
        admin = f"http://127.0.0.1:{office_port}/admin/cameras"
        lines = [
            f"  camera server: {cameras.server.base_url}/ (demo CA in "
            f"{cameras.server.ca_file})",
            f"  cameras:       {admin}/camera/ (the admin's camera list)",
        ]
        if admin_site.is_registered(CameraHealthEvent):
            lines.append(f"  health events: {admin}/camerahealthevent/")
        if (settings.SITE_DIR / "cameras").is_dir():
            lines.append(f"  camera pages:  http://127.0.0.1:{site_port}/cameras/")
        lines += [
            "  camera checks: every 60 s; a camera goes down after 3 failed "
            "checks and comes\n"
            "                 back after 2 good ones. Changes are printed below "
            "and logged as\n"
            "                 'camera health changed' in the worker log.",
            f"  demo mailbox:  {cameras.mailbox.folder} (notices to agencies)",
        ]
        return "\n".join(lines) + "\n"


# Seconds between two looks for camera health changes to print.
CAMERA_WATCH_SECONDS = 5


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(process: "subprocess.Popen[bytes]") -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
