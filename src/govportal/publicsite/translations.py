"""Compilation of the project's gettext catalogs (.po to .mo).

The .mo files are not kept in git, so ``govportal build`` compiles every catalog
under LOCALE_PATHS whose .mo file is missing or older than its .po file. It runs
GNU ``msgfmt``, as Django's ``compilemessages`` does, and writes to a temporary
file that replaces the .mo atomically, so a process loading catalogs at the same
time never reads half a file.
"""

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


class TranslationCompileError(Exception):
    """msgfmt rejected a catalog."""


def stale_catalogs(locale_dirs: list[Path]) -> list[Path]:
    """Return the .po files whose .mo file is missing or older."""
    stale: list[Path] = []
    for locale_dir in locale_dirs:
        for po_file in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
            mo_file = po_file.with_suffix(".mo")
            if (
                not mo_file.exists()
                or mo_file.stat().st_mtime < po_file.stat().st_mtime
            ):
                stale.append(po_file)
    return stale


def compile_translations(locale_dirs: list[Path] | None = None) -> list[Path]:
    """Compile stale catalogs and return the .mo files written.

    When msgfmt is not installed or a locale folder is read-only, this logs a
    warning and skips the catalog. The public site still builds, because its
    pages are in Chinese, the msgid language. Raises TranslationCompileError for
    a .po file that msgfmt rejects.
    """
    if locale_dirs is None:
        locale_dirs = [Path(path) for path in settings.LOCALE_PATHS]
    stale = stale_catalogs(locale_dirs)
    if not stale:
        return []

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        logger.warning(
            "msgfmt not found, so %d translation catalogs were not compiled. "
            "Install GNU gettext (Debian package gettext).",
            len(stale),
        )
        return []

    written: list[Path] = []
    for po_file in stale:
        mo_file = po_file.with_suffix(".mo")
        try:
            descriptor, temporary_name = tempfile.mkstemp(
                prefix=".django-", suffix=".mo.tmp", dir=po_file.parent
            )
        except OSError as error:
            # Such as a package installed read-only: the site is still built.
            logger.warning(
                "Cannot write %s, so it was not compiled: %s", mo_file, error
            )
            continue
        os.close(descriptor)
        try:
            result = subprocess.run(  # noqa: S603 (fixed program, no shell)
                [msgfmt, "--check-format", "-o", temporary_name, str(po_file)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise TranslationCompileError(
                    f"msgfmt failed on {po_file}: {result.stderr.strip()}"
                )
            os.replace(temporary_name, mo_file)
        finally:
            Path(temporary_name).unlink(missing_ok=True)
        logger.info("Compiled %s", mo_file)
        written.append(mo_file)
    return written
