import os
from datetime import timedelta
from pathlib import Path

import pytest

from govportal.publicsite.build import build_site
from govportal.publicsite.publish import (
    KEEP_PREVIOUS_BUILDS,
    PublishError,
    builds_dir_for,
)
from govportal.publicsite.render import SiteRenderer

from .conftest import read_text
from .personas import BUILD_TIME, EXECUTIVE_YUAN, make_agency, make_news

pytestmark = pytest.mark.django_db


def build_folders(site_dir: Path) -> list[Path]:
    return sorted(path for path in builds_dir_for(site_dir).iterdir() if path.is_dir())


def test_site_dir_becomes_relative_symlink(site_dir):
    report = build_site(now=BUILD_TIME)

    assert site_dir.is_symlink()
    assert site_dir.resolve() == report.build_dir
    assert report.build_dir.parent == builds_dir_for(site_dir)
    assert not os.readlink(site_dir).startswith("/")
    assert (site_dir / "index.html").is_file()


def test_old_build_served_until_swap(site_dir, monkeypatch):
    agency = make_agency(EXECUTIVE_YUAN)
    make_news(agency, "第一版新聞", BUILD_TIME - timedelta(hours=2))
    first = build_site(now=BUILD_TIME)
    make_news(agency, "第二版新聞", BUILD_TIME - timedelta(hours=1))

    real_replace = os.replace
    seen_before_swap = []

    def checking_replace(source, destination):
        if Path(destination) == site_dir:
            # The new build is complete, but SITE_DIR still shows the old one.
            new_build = Path(site_dir.parent, os.readlink(source)).resolve()
            seen_before_swap.append(
                {
                    "target": site_dir.resolve(),
                    "old_home": read_text(site_dir, "index.html"),
                    "new_home": (new_build / "index.html").read_text("utf-8"),
                }
            )
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", checking_replace)
    second = build_site(now=BUILD_TIME)

    assert len(seen_before_swap) == 1
    state = seen_before_swap[0]
    assert state["target"] == first.build_dir
    assert "第二版新聞" not in state["old_home"]
    assert "第二版新聞" in state["new_home"]
    assert site_dir.resolve() == second.build_dir
    assert "第二版新聞" in read_text(site_dir, "index.html")
    assert first.build_dir.is_dir()


def test_old_builds_pruned(site_dir):
    reports = [build_site(now=BUILD_TIME) for _ in range(5)]

    kept = build_folders(site_dir)
    expected = [report.build_dir for report in reports[-(KEEP_PREVIOUS_BUILDS + 1) :]]
    assert kept == expected
    assert site_dir.resolve() == reports[-1].build_dir


def test_unknown_folders_not_pruned(site_dir):
    build_site(now=BUILD_TIME)
    keep_me = builds_dir_for(site_dir) / "operator-notes"
    keep_me.mkdir()

    for _ in range(4):
        build_site(now=BUILD_TIME)

    assert keep_me.is_dir()


def test_crashed_partial_build_removed(site_dir):
    build_site(now=BUILD_TIME)
    leftover = builds_dir_for(site_dir) / "20260101T000000000000Z-deadbeef.partial"
    leftover.mkdir()
    (leftover / "index.html").write_text("half a page")

    build_site(now=BUILD_TIME)

    assert not leftover.exists()


def test_failed_build_keeps_current_site(site_dir, monkeypatch):
    first = build_site(now=BUILD_TIME)

    def failing_render(self):
        (self.output_dir / "index.html").write_text("partial")
        raise RuntimeError("template error")

    monkeypatch.setattr(SiteRenderer, "render_all", failing_render)
    with pytest.raises(RuntimeError, match="template error"):
        build_site(now=BUILD_TIME)

    assert site_dir.resolve() == first.build_dir
    assert build_folders(site_dir) == [first.build_dir]


def test_existing_site_folder_left_alone(site_dir):
    site_dir.mkdir()
    (site_dir / "index.html").write_text("someone's folder", encoding="utf-8")

    with pytest.raises(PublishError, match="is an existing folder"):
        build_site(now=BUILD_TIME)

    assert not site_dir.is_symlink()
    assert (site_dir / "index.html").read_text(encoding="utf-8") == "someone's folder"
    assert not build_folders(site_dir)


def test_empty_site_folder_path_rejected(site_dir):
    with pytest.raises(PublishError, match="empty"):
        build_site(site_dir="", now=BUILD_TIME)


def test_site_dir_file_rejected(site_dir):
    site_dir.write_text("not a site")

    with pytest.raises(PublishError, match="is an existing file"):
        build_site(now=BUILD_TIME)

    assert site_dir.read_text() == "not a site"
    assert not [path for path in build_folders(site_dir)]


def test_explicit_site_dir_argument(site_dir, tmp_path):
    other = tmp_path / "elsewhere" / "public"
    other.parent.mkdir()

    report = build_site(site_dir=other, now=BUILD_TIME)

    assert report.site_dir == other
    assert other.is_symlink()
    assert (other / "news/index.html").is_file()
    assert not site_dir.exists()
