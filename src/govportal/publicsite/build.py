"""The static public site: a build from the database, published atomically.

``build_site`` renders every page into a new build folder next to SITE_DIR and
then switches SITE_DIR to it (see ``publish``), so readers never see a half
written site.
"""

import logging
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation

from govportal.publishing.live import mark_live

from . import publish
from .cameras_content import load_cameras
from .cameras_pages import CameraPages
from .content import load_content
from .manifest import MANIFEST_FILE, manifest_for, manifest_json
from .paths import SitePaths
from .render import SITE_LANGUAGE, SiteRenderer
from .services_content import load_services
from .services_pages import ServicePages
from .translations import compile_translations

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    site_dir: Path
    build_dir: Path
    # HTML pages, including 404.html.
    pages_written: int
    # Every file written: pages, the RSS feed, the sitemap and static assets.
    files_written: int
    seconds: float


def build_site(
    site_dir: Path | None = None, now: datetime | None = None
) -> BuildReport:
    """Render the site from the database into a new build and publish it.

    ``site_dir`` defaults to settings.SITE_DIR and becomes a symlink to the new
    build. ``now`` is the update time shown on the pages. Also compiles stale
    translation catalogs first. The report's seconds cover the whole build,
    including the swap and the pruning of old builds.
    """
    started = time.perf_counter()
    if site_dir is not None and not str(site_dir).strip():
        raise publish.PublishError(
            "The site folder is empty; give a path such as var/site."
        )
    site_dir = Path(site_dir or settings.SITE_DIR).absolute()
    now = now or timezone.now()
    compile_translations()

    builds_dir = publish.builds_dir_for(site_dir)
    paths = SitePaths(settings.SITE_BASE_URL)
    with publish.build_lock(builds_dir), translation.override(SITE_LANGUAGE):
        publish.check_site_dir(site_dir)
        partial_dir, build_dir = publish.start_build(builds_dir)
        try:
            content = load_content(paths)
            services = load_services()
            cameras = load_cameras(now)
            renderer = SiteRenderer(partial_dir, content, paths, now)
            service_pages = ServicePages(renderer, services)
            camera_pages = CameraPages(renderer, cameras)
            # A site without published services has no services section, so the
            # navigation does not link to an empty one. The same goes for cameras.
            if services.services:
                renderer.enable_services()
                renderer.sections.append(service_pages.render_all)
            if camera_pages.has_cameras:
                renderer.enable_cameras()
                renderer.sections.append(camera_pages.render_all)
            renderer.render_all()
            service_folders = service_pages.all_folders() if services.services else []
            in_services = set(service_folders)
            other_folders = [
                folder for folder in renderer.page_folders if folder not in in_services
            ]
            manifest = manifest_for(other_folders, service_folders, services)
            (partial_dir / MANIFEST_FILE).write_text(
                manifest_json(manifest), encoding="utf-8"
            )
            publish.finish_build(partial_dir, build_dir)
            previous = publish.publish_build(site_dir, build_dir)
        except BaseException:
            # publish_build raises only before the swap, so neither folder is live.
            shutil.rmtree(partial_dir, ignore_errors=True)
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        keep = {build_dir} if previous is None else {build_dir, previous}
        publish.prune_builds(builds_dir, keep)

    seconds = time.perf_counter() - started
    logger.info(
        "Built the public site in %s: %d pages, %d files, %.2f s",
        build_dir,
        renderer.pages_written,
        renderer.files_written,
        seconds,
    )
    return BuildReport(
        site_dir=site_dir,
        build_dir=build_dir,
        pages_written=renderer.pages_written,
        files_written=renderer.files_written,
        seconds=seconds,
    )


def build_site_and_mark_live(site_dir: Path | None = None) -> BuildReport:
    """Build the whole site and record when the approvals it shows went live."""
    started = timezone.now()
    report = build_site(site_dir=site_dir, now=started)
    mark_live(approved_before=started, live_at=timezone.now())
    return report
