"""Result and limits of one camera stream check."""

from dataclasses import dataclass
from datetime import datetime

MiB = 1024 * 1024

# Kinds of camera source that check_stream can read.
KINDS = frozenset({"jpeg_snapshot", "mjpeg", "hls", "embed_page"})


@dataclass(frozen=True)
class CheckLimits:
    """Time and size limits of one check. Times are in seconds."""

    # Wall-clock time for the whole check, every request included.
    deadline: float = 20.0
    # Body of a JPEG snapshot, and of a single image served on an MJPEG URL.
    max_image_bytes: int = 5 * MiB
    # Bytes of an MJPEG stream read while looking for the first frame.
    max_mjpeg_bytes: int = 5 * MiB
    # Time to wait for the first complete MJPEG frame.
    frame_timeout: float = 10.0
    max_playlist_bytes: int = 1 * MiB
    # A segment that declares a larger Content-Length fails as too_large.
    max_segment_bytes: int = 64 * MiB
    # Bytes of one segment read to prove that it is served. Reading stops
    # there, so an endless segment costs at most this much.
    segment_probe_bytes: int = 256 * 1024
    # An HLS media sequence that stays the same this long means the
    # playlist is stale.
    stale_after: float = 120.0
    # Images with more pixels are rejected before they are decoded.
    max_image_pixels: int = 40_000_000
    # With a previous result, a frame whose fingerprint stayed within
    # frozen_max_distance bits for this long fails as frozen_frame. None
    # turns the check off.
    # NOTE: a 16x16 average hash ignores small changes such as an overlaid
    # clock, so a live camera on a still scene looks frozen. Keep this long.
    frozen_after: float | None = None
    # A re-encoded identical frame differs in up to about 1 bit of 256.
    frozen_max_distance: int = 4

    def __post_init__(self) -> None:
        for name in ("deadline", "frame_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"CheckLimits.{name} must be positive")
        if self.stale_after < 0:
            raise ValueError("CheckLimits.stale_after must not be negative")
        if self.frozen_after is not None and self.frozen_after < 0:
            raise ValueError("CheckLimits.frozen_after must not be negative")
        if self.frozen_max_distance < 0:
            raise ValueError("CheckLimits.frozen_max_distance must not be negative")
        for name in (
            "max_image_bytes",
            "max_mjpeg_bytes",
            "max_playlist_bytes",
            "max_segment_bytes",
            "segment_probe_bytes",
            "max_image_pixels",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"CheckLimits.{name} must be at least 1")


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check of one camera stream."""

    ok: bool
    # "" when ok, else a problem code such as "timeout" or "not_an_image".
    problem_code: str
    detail: str
    elapsed_ms: int
    # Average hash of the frame ("ahash16:" and 64 hex digits), for
    # jpeg_snapshot and mjpeg checks that decoded a frame.
    fingerprint: str | None
    # #EXT-X-MEDIA-SEQUENCE of the media playlist, for hls checks.
    media_sequence: int | None
    # Time the check started, timezone-aware UTC.
    checked_at: datetime
    # Number of media segments in the playlist, for hls checks.
    segment_count: int | None = None
    # Time at which the current fingerprint (or HLS position) was first
    # seen, carried over from the previous result while it stays the same.
    unchanged_since: datetime | None = None
