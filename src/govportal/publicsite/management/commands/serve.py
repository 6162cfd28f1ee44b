import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from govportal.publicsite.paths import base_path_of
from govportal.publicsite.server import SiteServer

logger = logging.getLogger("govportal.publicsite.server")


class Command(BaseCommand):
    help = (
        "Serve the built public site over HTTP. The SITE_DIR symlink is followed "
        "at every request, so a new build is served as soon as it is published."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="address to listen on (default: 127.0.0.1, this machine only)",
        )
        parser.add_argument(
            "--port", type=int, default=8000, help="TCP port (default: 8000)"
        )
        parser.add_argument(
            "--site-dir",
            type=Path,
            help="the site folder or symlink to serve (default: SITE_DIR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        site_dir = Path(options["site_dir"] or settings.SITE_DIR).absolute()
        base_path = base_path_of(settings.SITE_BASE_URL)
        try:
            server = SiteServer((options["host"], options["port"]), site_dir, base_path)
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error}. "
                "Choose another --port or --host."
            ) from error

        host, port = options["host"], server.server_address[1]
        self.stdout.write(
            f"Serving {site_dir} at http://{host}:{port}{base_path}/ "
            "(press Ctrl+C to stop)"
        )
        logger.info("Site server started on %s:%s for %s", host, port, site_dir)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            logger.info("Site server stopped")
