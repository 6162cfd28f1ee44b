"""Parse HLS playlists (RFC 8216) far enough to check a live stream.

Pure functions: text in, URIs and the media sequence out. Nothing here
resolves or fetches a URI.
"""

import re
from dataclasses import dataclass, field

from govportal.lib.errors import SourceError

# URI="..." attribute of tags such as EXT-X-KEY, EXT-X-MAP and EXT-X-MEDIA.
_URI_ATTRIBUTE = re.compile(r'(?:^|,)URI="([^"]*)"')
# Tags whose URI attribute names a resource a player would fetch.
_TAGS_WITH_URI = (
    "#EXT-X-KEY:",
    "#EXT-X-MAP:",
    "#EXT-X-MEDIA:",
    "#EXT-X-SESSION-KEY:",
    "#EXT-X-I-FRAME-STREAM-INF:",
    "#EXT-X-PART:",
    "#EXT-X-PRELOAD-HINT:",
)


@dataclass(frozen=True)
class Playlist:
    """URIs and sequence number of one playlist, URIs as written in it."""

    # Variant stream URIs in order, non-empty only for a master playlist.
    variants: list[str] = field(default_factory=list)
    # Media segment URIs in order.
    segments: list[str] = field(default_factory=list)
    # URIs from tag attributes (keys, init sections, renditions).
    attribute_uris: list[str] = field(default_factory=list)
    # #EXT-X-MEDIA-SEQUENCE, 0 when absent (RFC 8216, section 4.3.3.2).
    media_sequence: int = 0
    ended: bool = False

    @property
    def is_master(self) -> bool:
        return bool(self.variants)

    def all_uris(self) -> list[str]:
        return [*self.variants, *self.segments, *self.attribute_uris]


def parse_playlist(text: str) -> Playlist:
    """Parse an M3U8 playlist. Raises SourceError ``playlist_invalid``."""
    lines = [line.strip() for line in text.splitlines()]
    if not lines or lines[0].lstrip("\ufeff") != "#EXTM3U":
        raise SourceError("playlist_invalid", "playlist does not start with #EXTM3U")
    variants: list[str] = []
    segments: list[str] = []
    attribute_uris: list[str] = []
    media_sequence = 0
    ended = False
    # The tag that the next URI line belongs to.
    pending: str | None = None
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#EXT-X-STREAM-INF:"):
                pending = "variant"
            elif line.startswith("#EXTINF:"):
                pending = "segment"
            elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                media_sequence = _parse_sequence(line)
            elif line == "#EXT-X-ENDLIST":
                ended = True
            elif line.startswith(_TAGS_WITH_URI):
                attribute_uris.extend(_URI_ATTRIBUTE.findall(line.split(":", 1)[1]))
            continue
        if pending == "variant":
            variants.append(line)
        elif pending == "segment":
            segments.append(line)
        else:
            raise SourceError(
                "playlist_invalid",
                f"URI line {line[:100]!r} follows neither #EXTINF nor "
                "#EXT-X-STREAM-INF",
            )
        pending = None
    if variants and segments:
        raise SourceError(
            "playlist_invalid", "playlist lists both variant streams and segments"
        )
    if not variants and not segments:
        raise SourceError(
            "playlist_invalid", "playlist lists no variant streams and no segments"
        )
    return Playlist(
        variants=variants,
        segments=segments,
        attribute_uris=attribute_uris,
        media_sequence=media_sequence,
        ended=ended,
    )


def _parse_sequence(line: str) -> int:
    value = line.split(":", 1)[1].strip()
    # RFC 8216 makes it a decimal-integer: at most 20 digits, 0 to 2**64-1.
    if not (value.isascii() and value.isdigit() and len(value) <= 20):
        raise SourceError(
            "playlist_invalid",
            f"#EXT-X-MEDIA-SEQUENCE {value[:40]!r} is not a decimal integer",
        )
    return int(value)
