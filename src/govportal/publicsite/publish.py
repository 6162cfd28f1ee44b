"""Build folders of the public site and the atomic switch between them.

Layout, for SITE_DIR = ``var/site``::

    var/site          -> site.builds/20260720T031500123456Z-3fa9c1d2  (symlink)
    var/site.builds/  one folder per build, plus ``.lock``

A build is written into ``<name>.partial``, renamed to ``<name>`` when complete,
and published by pointing a new temporary symlink at it and renaming that symlink
over SITE_DIR with ``os.replace``. The rename is atomic on POSIX file systems, so
a web server following SITE_DIR serves either the whole old build or the whole new
one. The current build and the previous two are kept.
"""

import fcntl
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

BUILDS_SUFFIX = ".builds"
PARTIAL_SUFFIX = ".partial"
# The current build plus this many earlier ones stay on disk, so a rollback is a
# symlink change and requests still reading an old build can finish.
KEEP_PREVIOUS_BUILDS = 2

_BUILD_NAME_RE = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-z]{1,16}")


class PublishError(Exception):
    """The site folder is in a state that the builder will not overwrite."""


def builds_dir_for(site_dir: Path) -> Path:
    return site_dir.with_name(site_dir.name + BUILDS_SUFFIX)


def new_build_name() -> str:
    """Return a build folder name that sorts by creation time (UTC)."""
    timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{timestamp}-{secrets.token_hex(4)}"


@contextmanager
def build_lock(builds_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so that two builds never publish or prune at once."""
    builds_dir.mkdir(parents=True, exist_ok=True)
    with open(builds_dir / ".lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def start_build(builds_dir: Path) -> tuple[Path, Path]:
    """Create an empty partial build folder and return (partial, final) paths."""
    name = new_build_name()
    final_dir = builds_dir / name
    partial_dir = builds_dir / (name + PARTIAL_SUFFIX)
    partial_dir.mkdir(parents=True)
    return partial_dir, final_dir


def finish_build(partial_dir: Path, final_dir: Path) -> None:
    os.rename(partial_dir, final_dir)


def check_site_dir(site_dir: Path) -> None:
    """Raise PublishError unless SITE_DIR is missing or a symlink to a build.

    The builder replaces SITE_DIR with a symlink, so an existing folder or
    file there is never touched: it may be anything, even the data folder.
    """
    if site_dir.is_symlink() or not site_dir.exists():
        return
    kind = "folder" if site_dir.is_dir() else "file"
    raise PublishError(
        f"SITE_DIR {site_dir} is an existing {kind}, not a symlink to a site "
        "build; govportal does not replace it. Set SITE_DIR to a path that does "
        "not exist yet (the default is var/site), or move the "
        f"{kind} away."
    )


def publish_build(site_dir: Path, build_dir: Path) -> Path | None:
    """Point SITE_DIR at ``build_dir`` atomically and return the previous build."""
    check_site_dir(site_dir)
    previous = current_build(site_dir)

    # A relative target keeps the link valid when the var folder is moved.
    target = os.path.relpath(build_dir, site_dir.parent)
    temporary_link = site_dir.with_name(f".{site_dir.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.symlink(target, temporary_link)
        os.replace(temporary_link, site_dir)
    except OSError:
        temporary_link.unlink(missing_ok=True)
        raise
    return previous


def current_build(site_dir: Path) -> Path | None:
    """Return the build folder that SITE_DIR points to, or None."""
    if not site_dir.is_symlink():
        return None
    try:
        return site_dir.resolve(strict=True)
    except OSError:
        return None


def prune_builds(builds_dir: Path, keep: set[Path]) -> list[Path]:
    """Delete old builds and leftover partial folders, returning what was removed.

    ``keep`` (the current and previous builds) is never removed. Of the other
    complete builds, the newest are kept until KEEP_PREVIOUS_BUILDS + 1 builds
    remain. Folders whose names the builder did not make are left alone.
    Call this only while holding ``build_lock``, because a partial folder of a
    running build would otherwise look like one left by a crash.
    """
    keep_resolved = {path.resolve() for path in keep}
    builds: list[Path] = []
    removed: list[Path] = []
    for entry in sorted(builds_dir.iterdir()):
        if entry.is_symlink() or not entry.is_dir():
            continue
        name = entry.name
        if name.endswith(PARTIAL_SUFFIX) and _BUILD_NAME_RE.fullmatch(
            name.removesuffix(PARTIAL_SUFFIX)
        ):
            removed.append(entry)
        elif _BUILD_NAME_RE.fullmatch(name):
            builds.append(entry)

    kept_count = len(keep_resolved)
    for build in reversed(builds):
        if build.resolve() in keep_resolved:
            continue
        if kept_count < KEEP_PREVIOUS_BUILDS + 1:
            kept_count += 1
            continue
        removed.append(build)

    for path in removed:
        shutil.rmtree(path)
        logger.info("Removed old site build %s", path)
    return removed
