from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from govportal.publicsite.build import build_site_and_mark_live


class Command(BaseCommand):
    help = (
        "Render the public site from the database into a new build folder and "
        "switch SITE_DIR to it atomically. Also compiles stale translation "
        "catalogs (.po to .mo)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--site-dir",
            type=Path,
            help="the site symlink to publish to (default: the SITE_DIR setting)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = build_site_and_mark_live(site_dir=options["site_dir"])
        self.stdout.write(f"Site folder: {report.site_dir} -> {report.build_dir}")
        self.stdout.write(
            f"Pages written: {report.pages_written} "
            f"({report.files_written} files in all)"
        )
        self.stdout.write(f"Seconds: {report.seconds:.2f}")
