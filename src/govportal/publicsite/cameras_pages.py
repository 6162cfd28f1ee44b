"""The camera pages (即時影像) of the public site.

The section has an index (cameras by region and by agency), one list per
region and per agency, one page per public camera and a status page with
each agency's availability. A camera that is down keeps its own page, which
states that the picture is temporarily unavailable. The build then contains
none of its stream or snapshot URLs, and no list links to it.

A picture is shown only from an https URL on a host that the agency has
approved. Approval already requires that, and the check here also covers
revisions approved before a host was removed from the list. Each camera
page carries its own Content-Security-Policy that allows exactly its
stream's origin.
"""

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext

from govportal.cameras.models import HealthState, StreamKind

from .cameras_content import (
    AVAILABILITY_WINDOWS_DAYS,
    AgencyCameraStatus,
    Availability,
    CameraContent,
    CameraEntry,
)
from .content import format_local_time
from .paths import is_safe_agency_key, is_web_url
from .render import (
    CAMERAS_FOLDER,
    CONTENT_SECURITY_POLICY,
    SiteRenderer,
    content_security_policy_with,
    page_label,
    pagination_links,
)

DEFAULT_PAGE_SIZE = 50
# Seconds between reloads of a JPEG snapshot by camera.js.
SNAPSHOT_REFRESH_SECONDS = 30
# The list of cameras whose snapshot names no region.
UNASSIGNED_REGION_SLUG = "unassigned"
STATUS_FOLDER = f"{CAMERAS_FOLDER}/status"

# Region names made of CJK ideographs, ASCII letters, digits and hyphens are
# used as their own slug, such as 臺北市 or 國道1號. A name with at least one
# ideograph can never equal an ASCII slug such as "unassigned" or "r-…".
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_READABLE_REGION = re.compile(f"[0-9A-Za-z{_CJK}-]{{1,40}}")
_HAS_IDEOGRAPH = re.compile(f"[{_CJK}]")
# A host name or IPv4 address, as urlsplit returns it (lower case).
_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
# Mileage as freeway lists write it, such as "12K+300" or "3.5K".
# Bounded repeats keep the search linear on a long string of digits.
_MILEAGE = re.compile(
    r"(\d{1,6}(?:\.\d{1,6})?)\s{0,3}[Kk]\s{0,3}(?:\+\s{0,3}(\d{1,6}))?"
)
# Longer mileage texts are not read: real ones such as "12K+300" are short.
MAX_MILEAGE_TEXT = 40

# Stream kinds that camera.js controls: snapshot reloads and MJPEG pausing.
SCRIPTED_KINDS = frozenset({StreamKind.JPEG_SNAPSHOT, StreamKind.MJPEG})


def region_slug(region: str) -> str:
    """Return the URL path segment of a region's camera list.

    Names that are not readable as a segment get ``r-`` and a hash of the
    name, which stays the same from build to build.
    """
    if not region:
        return UNASSIGNED_REGION_SLUG
    if _READABLE_REGION.fullmatch(region) and _HAS_IDEOGRAPH.search(region):
        return region
    return "r-" + hashlib.sha256(region.encode("utf-8")).hexdigest()[:12]


def https_origin(url: str) -> str | None:
    """Return ``https://host[:port]`` of an https URL, or None for any other URL.

    The origin goes into a Content-Security-Policy, so a host that is not a
    plain host name or IPv4 address, a URL with credentials, and a port that
    does not parse give None.
    """
    if not is_web_url(url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or "@" in parts.netloc:
        return None
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        return None
    if not _HOST.fullmatch(host):
        return None
    if port is None or port == 443:
        return f"https://{host}"
    return f"https://{host}:{port}"


@dataclass(frozen=True)
class Picture:
    """The stream a camera page embeds, with its kind and origin."""

    kind: str
    url: str
    origin: str
    # A still picture for the video player before it plays, or "".
    poster_url: str = ""


def camera_picture(
    entry: CameraEntry, approved_hosts: dict[int, frozenset[str]]
) -> Picture | None:
    """Return the picture a camera page may show, or None.

    None for a camera that is down, and a stream URL that is not https or
    whose host the agency has not approved.
    """
    if entry.is_down:
        return None
    origin = https_origin(entry.stream_url)
    if origin is None:
        return None
    host = (urlsplit(entry.stream_url).hostname or "").rstrip(".")
    if host not in approved_hosts.get(entry.agency_id, frozenset()):
        return None
    poster_url = ""
    if entry.stream_kind == StreamKind.HLS and entry.snapshot_url:
        if https_origin(entry.snapshot_url) == origin:
            poster_url = entry.snapshot_url
    return Picture(entry.stream_kind, entry.stream_url, origin, poster_url)


def picture_policy(picture: Picture) -> str:
    """Return the site's policy plus the picture's origin for its kind."""
    additions: dict[str, str] = {}
    if picture.kind in (StreamKind.JPEG_SNAPSHOT, StreamKind.MJPEG):
        additions["img-src"] = picture.origin
    elif picture.kind == StreamKind.HLS:
        additions["media-src"] = picture.origin
        if picture.poster_url:
            additions["img-src"] = picture.origin
    elif picture.kind == StreamKind.EMBED_PAGE:
        additions["frame-src"] = picture.origin
    if picture.kind in SCRIPTED_KINDS:
        additions["script-src"] = "'self'"
    return content_security_policy_with(CONTENT_SECURITY_POLICY, additions)


def mileage_metres(mileage: str) -> float:
    """Return a mileage such as "12K+300" in metres, or infinity if unreadable."""
    if len(mileage) > MAX_MILEAGE_TEXT:
        return math.inf
    match = _MILEAGE.search(mileage)
    if match is None:
        return math.inf
    return float(match.group(1)) * 1000 + float(match.group(2) or 0)


def list_order(entry: CameraEntry) -> tuple[str, str, float, str, int]:
    """Sort cameras along their road: road, direction, mileage, then name."""
    return (
        entry.road,
        entry.direction,
        mileage_metres(entry.mileage),
        entry.name,
        entry.pk,
    )


def direction_text(direction: str) -> str:
    """Return a direction code of the freeway lists (N, S, E, W) in words."""
    names = {
        "N": gettext("北向"),
        "S": gettext("南向"),
        "E": gettext("東向"),
        "W": gettext("西向"),
    }
    return names.get(direction.upper(), direction)


def format_coordinate(value: float) -> str:
    """Format a coordinate with at most the 7 decimals that the importer keeps."""
    return f"{value:.7f}".rstrip("0").rstrip(".")


def percent(availability: Availability) -> str:
    """Return the share of OK checks as a percentage, rounded down, or "—"."""
    share = availability.share
    if share is None:
        return "—"
    tenths = math.floor(share * 1000 + 1e-9)
    if tenths % 10 == 0:
        return f"{tenths // 10}%"
    return f"{tenths / 10:.1f}%"


@dataclass
class CameraGroup:
    """The cameras of one region or one agency, in list order."""

    # "region" or "agency".
    kind: str
    # The region's slug or the agency's key.
    key: str
    name: str
    cameras: list[CameraEntry]


class CameraPages:
    """Plans and renders the camera pages with a ``SiteRenderer``.

    Create within ``translation.override`` for the site language.
    """

    def __init__(self, renderer: SiteRenderer, content: CameraContent) -> None:
        self.renderer = renderer
        self.paths = renderer.paths
        self.content = content
        self.page_size = max(
            1, int(getattr(settings, "SITE_CAMERAS_PAGE_SIZE", DEFAULT_PAGE_SIZE))
        )
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.office_base_url = str(settings.OFFICE_BASE_URL).rstrip("/")
        ordered = sorted(content.cameras, key=list_order)
        self.regions = self._group_by_region(ordered)
        self.agencies = self._group_by_agency(ordered)
        self.pictures = {
            entry.pk: camera_picture(entry, content.approved_hosts)
            for entry in content.cameras
        }

    @property
    def has_cameras(self) -> bool:
        return bool(self.content.cameras)

    @staticmethod
    def _group_by_region(ordered: list[CameraEntry]) -> list[CameraGroup]:
        groups: dict[str, CameraGroup] = {}
        for entry in ordered:
            slug = region_slug(entry.region)
            group = groups.get(slug)
            if group is None:
                name = entry.region or gettext("未標示地區")
                group = CameraGroup("region", slug, name, [])
                groups[slug] = group
            group.cameras.append(entry)
        # Cameras without a region come last.
        return sorted(
            groups.values(),
            key=lambda group: (group.key == UNASSIGNED_REGION_SLUG, group.name),
        )

    @staticmethod
    def _group_by_agency(ordered: list[CameraEntry]) -> list[CameraGroup]:
        groups: dict[str, CameraGroup] = {}
        for entry in ordered:
            if not is_safe_agency_key(entry.agency_key):
                continue
            group = groups.get(entry.agency_key)
            if group is None:
                group = CameraGroup("agency", entry.agency_key, entry.agency_name, [])
                groups[entry.agency_key] = group
            group.cameras.append(entry)
        return sorted(groups.values(), key=lambda group: (group.name, group.key))

    # Folders and links.

    def url(self, folder: str) -> str:
        """Return the link of a folder, percent-encoding region names."""
        return self.paths.url(quote(folder, safe="/"))

    def list_folders(self, group: CameraGroup) -> list[str]:
        base = f"{CAMERAS_FOLDER}/{group.kind}/{group.key}"
        page_count = max(1, math.ceil(len(group.cameras) / self.page_size))
        return [
            base if number == 1 else f"{base}/page/{number}"
            for number in range(1, page_count + 1)
        ]

    @staticmethod
    def camera_folder(entry: CameraEntry) -> str:
        return f"{CAMERAS_FOLDER}/{entry.pk}"

    def agency_url(self, agency_key: str) -> str:
        """Return the link of an agency's camera list, or "" when it has none."""
        if not is_safe_agency_key(agency_key):
            return ""
        return self.url(f"{CAMERAS_FOLDER}/agency/{agency_key}")

    def report_url(self, entry: CameraEntry) -> str:
        return f"{self.office_base_url}/cameras/report/{entry.pk}/"

    def crumbs(self) -> list[tuple[str, str]]:
        return [
            self.renderer.home_crumb,
            (gettext("即時影像"), self.url(CAMERAS_FOLDER)),
        ]

    def local_time(self, moment: datetime | None) -> dict[str, str] | None:
        if moment is None:
            return None
        iso, display = format_local_time(moment, self.zone)
        return {"iso": iso, "display": display}

    # Rendering.

    def render_all(self) -> None:
        self.render_index()
        for group in self.regions:
            self.render_list(group)
        for group in self.agencies:
            self.render_list(group)
        for entry in self.content.cameras:
            self.render_detail(entry)
        self.render_status()

    def render_index(self) -> None:
        regions = [
            {
                "name": group.name,
                "url": self.url(self.list_folders(group)[0]),
                "count": len(group.cameras),
            }
            for group in self.regions
        ]
        agencies = [
            {
                "name": group.name,
                "url": self.url(self.list_folders(group)[0]),
                "count": len(group.cameras),
            }
            for group in self.agencies
        ]
        self.renderer.write_folder_page(
            CAMERAS_FOLDER,
            "publicsite/camera_index.html",
            {
                "regions": regions,
                "agencies": agencies,
                "camera_count": len(self.content.cameras),
                "status_url": self.url(STATUS_FOLDER),
                "breadcrumbs": self.crumbs(),
                "page_kind": "cameras",
            },
        )

    def status(self, entry: CameraEntry) -> dict[str, Any]:
        """Return the health of a camera as a label and the times behind it."""
        if entry.health_state == HealthState.DOWN:
            label = gettext("暫時無法提供")
        elif entry.health_state == HealthState.UP:
            label = gettext("正常")
        elif entry.last_checked_at is not None:
            # Checked, but too few checks yet to decide up or down.
            label = gettext("檢查中")
        else:
            label = gettext("尚未檢查")
        changed_at = None
        if entry.health_state != HealthState.UNKNOWN:
            changed_at = self.local_time(entry.health_changed_at)
        return {
            "label": label,
            "state": entry.health_state,
            "changed_at": changed_at,
            "checked_at": self.local_time(entry.last_checked_at),
        }

    def place_text(self, entry: CameraEntry) -> str:
        """Return the place for lists: road, direction and mileage, else the address."""
        parts = [entry.road, direction_text(entry.direction), entry.mileage]
        text = " ".join(part for part in parts if part)
        return text or entry.address

    def list_item(self, entry: CameraEntry) -> dict[str, Any]:
        return {
            "name": entry.name,
            # A camera that is down is listed without a link to its page.
            "url": "" if entry.is_down else self.url(self.camera_folder(entry)),
            "place": self.place_text(entry),
            "agency_name": entry.agency_name,
            "status": self.status(entry),
            "is_down": entry.is_down,
        }

    def render_list(self, group: CameraGroup) -> None:
        folders = self.list_folders(group)
        total = len(folders)

        def url_for(number: int) -> str:
            return self.url(folders[number - 1])

        breadcrumbs = [*self.crumbs(), (group.name, url_for(1))]
        for index, folder in enumerate(folders):
            number = index + 1
            start = index * self.page_size
            page_entries = group.cameras[start : start + self.page_size]
            self.renderer.write_folder_page(
                folder,
                "publicsite/camera_list.html",
                {
                    "title": group.name,
                    "is_agency": group.kind == "agency",
                    "items": [self.list_item(entry) for entry in page_entries],
                    "total_count": len(group.cameras),
                    **self._pagination(number, total, url_for),
                    "breadcrumbs": breadcrumbs,
                    "page_kind": "camera_list",
                },
            )

    @staticmethod
    def _pagination(
        number: int, total: int, url_for: Callable[[int], str]
    ) -> dict[str, Any]:
        position = ""
        if total > 1:
            position = gettext("（第 %(number)s 頁，共 %(total)s 頁）") % {
                "number": number,
                "total": total,
            }
        return {
            "page_position": position,
            "page_number": number,
            "page_label": page_label(number),
            "page_links": pagination_links(number, total, url_for) if total > 1 else [],
            "previous_url": url_for(number - 1) if number > 1 else "",
            "next_url": url_for(number + 1) if number < total else "",
        }

    def place_rows(self, entry: CameraEntry) -> list[dict[str, str]]:
        """Return the labelled place rows of a camera page, without empty ones."""
        coordinates = ""
        if entry.latitude is not None and entry.longitude is not None:
            coordinates = gettext("緯度 %(latitude)s，經度 %(longitude)s") % {
                "latitude": format_coordinate(entry.latitude),
                "longitude": format_coordinate(entry.longitude),
            }
        candidates = [
            (gettext("道路"), entry.road),
            (gettext("方向"), direction_text(entry.direction)),
            (gettext("里程"), entry.mileage),
            (gettext("路段"), entry.section),
            (gettext("地址"), entry.address),
            (gettext("座標"), coordinates),
        ]
        return [{"label": label, "text": text} for label, text in candidates if text]

    def render_detail(self, entry: CameraEntry) -> None:
        picture = self.pictures[entry.pk]
        region = region_slug(entry.region)
        region_name = entry.region or gettext("未標示地區")
        region_url = self.url(f"{CAMERAS_FOLDER}/region/{region}")
        folder = self.camera_folder(entry)
        is_scripted = picture is not None and picture.kind in SCRIPTED_KINDS
        context = {
            "name": entry.name,
            "agency_name": entry.agency_name,
            "agency_url": self.agency_url(entry.agency_key),
            "region_name": region_name,
            "region_url": region_url,
            "status": self.status(entry),
            "picture": picture,
            "picture_alt": gettext("「%(name)s」監視器的即時影像")
            % {"name": entry.name},
            # Not down, yet the stream cannot be shown: not https, or an
            # embedded page from a host the agency has not approved.
            "picture_blocked": picture is None and not entry.is_down,
            "refresh_seconds": SNAPSHOT_REFRESH_SECONDS,
            "script_url": self.renderer.static_url("camera.js") if is_scripted else "",
            "rows": self.place_rows(entry),
            "report_url": self.report_url(entry),
            "breadcrumbs": [
                *self.crumbs(),
                (region_name, region_url),
                (entry.name, self.url(folder)),
            ],
            "page_kind": "camera",
        }
        if picture is not None:
            context["content_security_policy"] = picture_policy(picture)
        template = "publicsite/camera_detail.html"
        if entry.is_down:
            # The page stays for bookmarks, but the sitemap leaves it out like
            # the lists do.
            self.renderer.write_page(
                self.paths.page_file(folder), template, context, None
            )
        else:
            self.renderer.write_folder_page(folder, template, context)

    def status_row(self, status: AgencyCameraStatus) -> dict[str, Any]:
        return {
            "name": status.agency_name,
            "url": self.agency_url(status.agency_key),
            "cameras": status.cameras,
            "up": status.up,
            "down": status.down,
            "unknown": status.unknown,
            "availability": [
                percent(status.availability[days]) for days in AVAILABILITY_WINDOWS_DAYS
            ],
        }

    def render_status(self) -> None:
        statuses = self.content.agencies
        totals = total_row(statuses)
        self.renderer.write_folder_page(
            STATUS_FOLDER,
            "publicsite/camera_status.html",
            {
                "rows": [self.status_row(status) for status in statuses],
                "totals": {
                    **totals,
                    "availability": [
                        percent(totals["availability"][days])
                        for days in AVAILABILITY_WINDOWS_DAYS
                    ],
                },
                "window_days": AVAILABILITY_WINDOWS_DAYS,
                "breadcrumbs": [
                    *self.crumbs(),
                    (gettext("影像服務狀態"), self.url(STATUS_FOLDER)),
                ],
                "page_kind": "camera_status",
            },
        )


def total_row(statuses: Sequence[AgencyCameraStatus]) -> dict[str, Any]:
    """Add up the counts and checks of all agencies."""
    availability = {days: Availability() for days in AVAILABILITY_WINDOWS_DAYS}
    for status in statuses:
        for days in AVAILABILITY_WINDOWS_DAYS:
            window = status.availability.get(days, Availability())
            availability[days].checks += window.checks
            availability[days].ok += window.ok
    return {
        "cameras": sum(status.cameras for status in statuses),
        "up": sum(status.up for status in statuses),
        "down": sum(status.down for status in statuses),
        "unknown": sum(status.unknown for status in statuses),
        "availability": availability,
    }
