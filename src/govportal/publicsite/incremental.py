"""Publishing one service's approval or withdrawal without a full rebuild.

``publish_service_change`` makes a new build folder whose files are hard links
to the current build's files, re-renders only the pages that show the service
(its detail pages in both languages, its life-event and agency lists, the
services index and the sitemap), and swaps the folder in with ``publish``, as a
full build does. Files are unlinked before they are rewritten, so the current
build, which shares their inodes, never changes while readers use it.
"""

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation

from govportal.publishing.live import mark_live
from govportal.services.models import Service

from . import publish
from .build import build_site
from .content import SiteContent
from .manifest import (
    MANIFEST_FILE,
    BuildManifest,
    manifest_for,
    manifest_json,
    read_manifest,
)
from .paths import SitePaths
from .render import CAMERAS_FOLDER, SITE_LANGUAGE, SiteRenderer
from .services_content import ServiceContent, load_services
from .services_pages import PageKey, ServicePages, touched_keys

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishReport:
    build_dir: Path
    seconds: float
    # Page files written, relative to the build folder. Empty after a full build.
    pages_written: list[str] = field(default_factory=list)
    # Page files of pages that no longer exist, such as a withdrawn service's.
    pages_removed: list[str] = field(default_factory=list)
    # True when a full build ran instead, because the current build has no
    # manifest or the services section appeared or disappeared.
    full_build: bool = False
    # Approvals whose Transition.live_at this publish set.
    approvals_marked_live: int = 0


def publish_service_change(
    service: Service, site_dir: Path | None = None, now: datetime | None = None
) -> PublishReport:
    """Publish the current published state of ``service`` to the public site.

    Call after an approval or a withdrawal has been committed. ``site_dir``
    and ``now`` are as for ``build_site``. Records the time the approval went
    live with ``mark_live``.
    """
    started = time.perf_counter()
    site_dir = Path(site_dir or settings.SITE_DIR).absolute()
    now = now or timezone.now()
    builds_dir = publish.builds_dir_for(site_dir)
    paths = SitePaths(settings.SITE_BASE_URL)

    with publish.build_lock(builds_dir), translation.override(SITE_LANGUAGE):
        publish.check_site_dir(site_dir)
        current = publish.current_build(site_dir)
        manifest = read_manifest(current) if current is not None else None
        # Approvals up to this moment are in what load_services reads next.
        approved_before = timezone.now()
        services = load_services()
        incremental = (
            current is not None
            and manifest is not None
            and bool(manifest.services)
            and bool(services.services)
        )
        if incremental:
            assert current is not None and manifest is not None
            build_dir, written, removed = _publish_incrementally(
                service, current, manifest, services, site_dir, paths, now
            )

    if not incremental:
        # build_site takes the build lock itself.
        build_dir = build_site(site_dir, now).build_dir
        written, removed = [], []
    marked = mark_live(approved_before, timezone.now())
    seconds = time.perf_counter() - started
    logger.info(
        "Published service id=%s in %s (%s): %d pages written, %d removed, "
        "%d approvals marked live, %.3f s",
        service.pk,
        build_dir,
        "incremental" if incremental else "full build",
        len(written),
        len(removed),
        marked,
        seconds,
    )
    return PublishReport(
        build_dir=build_dir,
        seconds=seconds,
        pages_written=written,
        pages_removed=removed,
        full_build=not incremental,
        approvals_marked_live=marked,
    )


def _publish_incrementally(
    service: Service,
    current: Path,
    manifest: BuildManifest,
    services: ServiceContent,
    site_dir: Path,
    paths: SitePaths,
    now: datetime,
) -> tuple[Path, list[str], list[str]]:
    """Build from hard links to ``current``, publish it and prune old builds.

    Call while holding the build lock. Returns the build folder and the page
    files written and removed.
    """
    builds_dir = publish.builds_dir_for(site_dir)
    partial_dir, build_dir = publish.start_build(builds_dir)
    try:
        link_tree(current, partial_dir)
        renderer = SiteRenderer(partial_dir, SiteContent([], [], []), paths, now)
        renderer.unlink_before_write = True
        renderer.use_built_css(current)
        renderer.enable_services()
        # Pages rendered here keep the camera link of the full build.
        if (current / CAMERAS_FOLDER / "index.html").exists():
            renderer.enable_cameras()
        pages = ServicePages(renderer, services)

        previous = manifest.services.get(service.pk)
        present = services.by_pk().get(service.pk)
        keys = touched_keys([previous, present])
        old_folders = set(manifest.service_folders)
        new_folders: list[str] = []
        to_render: list[PageKey] = []
        for key in pages.keys():
            folders = pages.folders(key)
            new_folders += folders
            # A key with a folder the old build lacks (a new page of a list)
            # is rendered even if the change does not touch it.
            if key in keys or not old_folders.issuperset(folders):
                to_render.append(key)

        removed = sorted(old_folders - set(new_folders))
        for folder in removed:
            remove_page(partial_dir, paths.page_file(folder))
        for key in to_render:
            pages.render_key(key)
        renderer.write_sitemap(manifest.other_folders + new_folders)
        new_manifest = manifest_for(manifest.other_folders, new_folders, services)
        manifest_path = partial_dir / MANIFEST_FILE
        manifest_path.unlink(missing_ok=True)
        manifest_path.write_text(manifest_json(new_manifest), encoding="utf-8")

        publish.finish_build(partial_dir, build_dir)
        previous_build = publish.publish_build(site_dir, build_dir)
    except BaseException:
        # publish_build raises only before the swap, so neither folder is live.
        shutil.rmtree(partial_dir, ignore_errors=True)
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    keep = {build_dir} if previous_build is None else {build_dir, previous_build}
    publish.prune_builds(builds_dir, keep)
    written = [paths.page_file(folder) for folder in renderer.page_folders]
    return build_dir, written, [paths.page_file(folder) for folder in removed]


def link_tree(source: Path, target: Path) -> None:
    """Recreate ``source``'s folders in ``target`` with hard links to its files."""
    for folder, dir_names, file_names in os.walk(source):
        relative = os.path.relpath(folder, source)
        target_folder = target if relative == "." else target / relative
        for name in dir_names:
            (target_folder / name).mkdir()
        for name in file_names:
            os.link(
                os.path.join(folder, name),
                target_folder / name,
                follow_symlinks=False,
            )


def remove_page(build_dir: Path, page_file: str) -> None:
    """Delete a page file and the folders it leaves empty below the build root."""
    path = build_dir / page_file
    path.unlink(missing_ok=True)
    folder = path.parent
    while folder != build_dir and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
