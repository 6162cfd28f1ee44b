"""Readers for the camera lists that agencies publish.

Four formats are known: the TDX ``CCTVList`` XML of the Freeway Bureau,
the older v1.1 ``XML_Head`` list (positions only), the Kaohsiung city JSON
array and the data.taipei JSON (positions only). ``read_camera_list`` detects
the format from the content and returns one ``SourceCamera`` per record,
without judging coordinates or URLs.
"""

import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

from govportal.cameras.models import StreamKind

MAX_LIST_BYTES = 50 * 1024 * 1024

TDX_NAMESPACE = "http://traffic.transportdata.tw/standard/traffic/schema/"
KAOHSIUNG = "高雄市"
TDX_DIRECTIONS = {"N": "北向", "S": "南向", "E": "東向", "W": "西向"}


class CameraListError(Exception):
    """A camera list that cannot be read at all, so nothing is imported."""


@dataclass
class SourceCamera:
    """One record of a camera list, as text taken from the source."""

    position: int  # 1-based position in the list, for error reports
    source_id: str
    name: str
    latitude: str
    longitude: str
    # The county or city, or the road for highway cameras: how the public
    # pages group cameras.
    region: str = ""
    road: str = ""
    direction: str = ""
    section: str = ""
    mileage: str = ""
    address: str = ""
    stream_kind: str = ""
    stream_url: str = ""
    snapshot_url: str = ""


@dataclass
class CameraList:
    """The records of one list and the name of its format."""

    format_name: str
    cameras: list[SourceCamera]


def read_camera_list(data: bytes) -> CameraList:
    """Detect the format of ``data`` and return its records.

    Raises ``CameraListError`` for a file that is empty, too large, not
    well-formed, declares a DTD, or has no known format.
    """
    if len(data) > MAX_LIST_BYTES:
        raise CameraListError(
            f"The file is {len(data)} bytes, the maximum is {MAX_LIST_BYTES}."
        )
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"<":
        return _read_xml(data)
    if start in (b"[", b"{"):
        return _read_json(data)
    if not start:
        raise CameraListError("The file is empty.")
    raise CameraListError(
        "The file is neither XML nor JSON. Known formats are the TDX CCTVList "
        "XML, the freeway v1.1 XML, the Kaohsiung JSON and the data.taipei JSON."
    )


def _read_xml(data: bytes) -> CameraList:
    # Entity expansion and DTDs are how XML files read local files, reach
    # the network or exhaust memory, and no camera list needs them.
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise CameraListError(
            "The XML file declares a DOCTYPE or entities, which are not accepted."
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CameraListError(f"The XML file is not well-formed: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise CameraListError(
            "The XML file declares a DOCTYPE or entities, which are not accepted."
        )
    if root.tag == f"{{{TDX_NAMESPACE}}}CCTVList":
        return CameraList("TDX CCTVList XML", _read_tdx(root))
    if root.tag == "XML_Head" and root.get("version") == "1.1":
        return CameraList("freeway v1.1 XML", _read_v11(root))
    raise CameraListError(
        f"The XML root element {root.tag!r} is not a known camera list. Expected "
        f"CCTVList in the namespace {TDX_NAMESPACE} or XML_Head version 1.1."
    )


def _text(element: Any, path: str) -> str:
    found = element.find(path, {"t": TDX_NAMESPACE})
    if found is None or found.text is None:
        return ""
    return str(found.text).strip()


def _read_tdx(root: Any) -> list[SourceCamera]:
    cameras = []
    for position, element in enumerate(
        root.iterfind("t:CCTVs/t:CCTV", {"t": TDX_NAMESPACE}), 1
    ):
        road = _text(element, "t:RoadName")
        direction = _text(element, "t:RoadDirection")
        mileage = _text(element, "t:LocationMile")
        start = _text(element, "t:RoadSection/t:Start")
        end = _text(element, "t:RoadSection/t:End")
        section = f"{start}–{end}" if start and end else start or end
        name = " ".join(
            part
            for part in (road, mileage, TDX_DIRECTIONS.get(direction, direction))
            if part
        )
        cameras.append(
            SourceCamera(
                position=position,
                source_id=_text(element, "t:CCTVID"),
                name=name,
                latitude=_text(element, "t:PositionLat"),
                longitude=_text(element, "t:PositionLon"),
                region=road,
                road=road,
                direction=direction,
                section=section,
                mileage=mileage,
                # The TDX schema defines VideoStreamURL as the camera's live
                # stream, which the Freeway Bureau serves as MJPEG.
                stream_kind=StreamKind.MJPEG,
                stream_url=_text(element, "t:VideoStreamURL"),
            )
        )
    return cameras


def _read_v11(root: Any) -> list[SourceCamera]:
    cameras = []
    for position, element in enumerate(root.iterfind("Infos/Info"), 1):
        section = (element.get("roadsection") or "").strip()
        cameras.append(
            SourceCamera(
                position=position,
                source_id=(element.get("cctvid") or "").strip(),
                name=section,
                latitude=(element.get("py") or "").strip(),
                longitude=(element.get("px") or "").strip(),
                region=section.split("(", 1)[0],
                road=section.split("(", 1)[0],
                section=section,
            )
        )
    return cameras


def _read_json(data: bytes) -> CameraList:
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CameraListError(f"The JSON file is not valid JSON: {exc}") from None
    if isinstance(document, list):
        return CameraList("Kaohsiung JSON", _read_kaohsiung(document))
    results = document.get("result", {}) if isinstance(document, dict) else None
    if isinstance(results, dict) and isinstance(results.get("results"), list):
        return CameraList("data.taipei JSON", _read_taipei(results["results"]))
    raise CameraListError(
        "The JSON file is not a known camera list. Expected an array of cameras "
        "(Kaohsiung) or an object with result.results (data.taipei)."
    )


def _string(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    return str(value).strip()


def _read_kaohsiung(document: list[Any]) -> list[SourceCamera]:
    cameras = []
    for position, record in enumerate(document, 1):
        if not isinstance(record, dict):
            cameras.append(SourceCamera(position, "", "", "", ""))
            continue
        place = record.get("position")
        place = place if isinstance(place, dict) else {}
        # "videoUrl" is the stream and "url" the camera's page. About 50
        # records have an http videoUrl but an https url, so https wins.
        candidates = [_string(record, "videoUrl"), _string(record, "url")]
        candidates = [url for url in candidates if url]
        secure = [url for url in candidates if url.lower().startswith("https:")]
        stream_url = (secure or candidates or [""])[0]
        cameras.append(
            SourceCamera(
                position=position,
                source_id=_string(record, "id"),
                name=_string(record, "name"),
                latitude=_string(place, "lat"),
                longitude=_string(place, "lng"),
                # The list is the city's, so every camera is in Kaohsiung,
                # the freeway ones of its "org" NFB included.
                region=KAOHSIUNG,
                stream_kind=guess_stream_kind(stream_url),
                stream_url=stream_url,
                snapshot_url=_string(record, "imageUrl"),
            )
        )
    return cameras


def _read_taipei(results: list[Any]) -> list[SourceCamera]:
    cameras = []
    for position, record in enumerate(results, 1):
        if not isinstance(record, dict):
            cameras.append(SourceCamera(position, "", "", "", ""))
            continue
        source_id = _string(record, "攝影機編號")
        # The id is "<number>-<place>", such as "001-市民快承德".
        name = source_id.split("-", 1)[1] if "-" in source_id else source_id
        cameras.append(
            SourceCamera(
                position=position,
                source_id=source_id,
                name=name,
                latitude=_string(record, "wgsy"),
                longitude=_string(record, "wgsx"),
                region=_string(record, "縣市"),
                address=_string(record, "縣市"),
            )
        )
    return cameras


def guess_stream_kind(url: str) -> str:
    """Guess the kind of stream from its URL, for lists without a kind field.

    Returns "" for an empty URL and ``embed_page`` when nothing matches.
    """
    # NOTE: a guess from common URL shapes. A new revision that corrects
    # the kind is overwritten by the next import of the same list.
    lowered = url.lower()
    path = lowered.split("?", 1)[0]
    if not url:
        return ""
    if path.endswith(".m3u8"):
        return StreamKind.HLS
    if "mjpg" in lowered or "mjpeg" in lowered or path.endswith("video.cgi"):
        return StreamKind.MJPEG
    if path.endswith((".jpg", ".jpeg")) or path.endswith("/snapshot"):
        return StreamKind.JPEG_SNAPSHOT
    return StreamKind.EMBED_PAGE
