"""The record of a build's service pages, which the incremental publish reads.

A full build and every incremental publish write ``.build-manifest.json`` into
the build folder. ``govportal serve`` refuses paths with a segment starting
with ".", so it never serves the file. Other web servers should deny dotfiles
too, although the file lists only public pages.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from .services_content import ServiceContent

MANIFEST_FILE = ".build-manifest.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class ServiceRecord:
    """A service as a build showed it."""

    key: str
    agency_key: str
    categories: list[str]


@dataclass(frozen=True)
class BuildManifest:
    # Sitemap folders of the pages outside the services section, in order.
    other_folders: list[str]
    # Folders of every service page, in sitemap order.
    service_folders: list[str]
    # Published services by primary key.
    services: dict[int, ServiceRecord]


def manifest_for(
    other_folders: list[str], service_folders: list[str], content: ServiceContent
) -> BuildManifest:
    services = {
        entry.pk: ServiceRecord(entry.key, entry.agency_key, list(entry.categories))
        for entry in content.services
    }
    return BuildManifest(other_folders, service_folders, services)


def manifest_json(manifest: BuildManifest) -> str:
    data = {
        "format": MANIFEST_FORMAT,
        "other_folders": manifest.other_folders,
        "service_folders": manifest.service_folders,
        "services": {
            str(pk): {
                "key": record.key,
                "agency_key": record.agency_key,
                "categories": record.categories,
            }
            for pk, record in manifest.services.items()
        },
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def read_manifest(build_dir: Path) -> BuildManifest | None:
    """Return a build's manifest, or None when it is missing or of another format."""
    try:
        data = json.loads((build_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    services = {
        int(pk): ServiceRecord(
            record["key"], record["agency_key"], list(record["categories"])
        )
        for pk, record in data["services"].items()
    }
    return BuildManifest(
        list(data["other_folders"]), list(data["service_folders"]), services
    )
