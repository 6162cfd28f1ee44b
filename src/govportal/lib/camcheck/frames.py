"""Decode camera frames and find the first JPEG frame in an MJPEG stream.

Everything here is pure: bytes in, fingerprints or frames out.
"""

from io import BytesIO

from PIL import Image, UnidentifiedImageError

from govportal.lib.errors import SourceError

JPEG_SOI = b"\xff\xd8"
JPEG_EOI = b"\xff\xd9"
# SOI followed by the first marker's 0xFF; a lone FF D8 is common in noise.
_FRAME_START = b"\xff\xd8\xff"

# Side of the grayscale thumbnail that the average hash is taken from.
HASH_SIDE = 16
FINGERPRINT_PREFIX = "ahash16:"

# Errors Pillow raises for data that is not a decodable image.
_DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
)


def image_fingerprint(data: bytes, *, max_pixels: int) -> str:
    """Decode ``data`` as an image and return its average hash.

    The hash is taken from a 16x16 grayscale thumbnail: one bit per pixel,
    set when the pixel is brighter than the thumbnail's mean. A frame
    re-encoded at another JPEG quality usually keeps the same hash, and a
    few differing bits are expected, so compare with fingerprint_distance.
    Raises SourceError ``not_an_image`` when the data does not decode, and
    ``too_large`` when the image has more than ``max_pixels`` pixels.
    """
    try:
        with Image.open(BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise SourceError(
                    "too_large",
                    f"image is {width}x{height} pixels, the maximum is "
                    f"{max_pixels} pixels",
                    width=width,
                    height=height,
                )
            probe.verify()
        with Image.open(BytesIO(data)) as image:
            # For JPEG, draft() lets the decoder scale down by up to 8 in
            # the DCT, which makes the thumbnail several times cheaper.
            image.draft("L", (HASH_SIDE * 4, HASH_SIDE * 4))
            thumbnail = image.convert("L").resize(
                (HASH_SIDE, HASH_SIDE), Image.Resampling.BOX
            )
    except _DECODE_ERRORS as exc:
        raise SourceError(
            "not_an_image", f"data does not decode as an image: {exc}"[:300]
        ) from None
    pixels = thumbnail.tobytes()
    mean = sum(pixels) / len(pixels)
    bits = 0
    for value in pixels:
        bits = (bits << 1) | (value > mean)
    return f"{FINGERPRINT_PREFIX}{bits:0{HASH_SIDE * HASH_SIDE // 4}x}"


class FirstFrameFinder:
    """Find the first complete JPEG in a byte stream that arrives in pieces.

    Multipart headers and boundaries are skipped by scanning for the JPEG
    start (FF D8 FF) and end (FF D9) markers. The first candidate that
    decodes is the frame. An end marker inside the frame (such as the end
    of an embedded EXIF thumbnail) makes the candidate fail to decode, so
    the search goes on to the next end marker, at most ``max_candidates``
    times. Each byte is scanned about once, so the cost stays linear in
    the bytes fed.
    """

    def __init__(self, *, max_pixels: int, max_candidates: int = 8) -> None:
        self._max_pixels = max_pixels
        self._max_candidates = max_candidates
        self._buffer = bytearray()
        self._frame_started = False
        # Position in the buffer where the next marker search starts.
        self._search_from = 0
        self.candidates_tried = 0
        self.last_error: SourceError | None = None

    def feed(self, data: bytes) -> tuple[bytes, str] | None:
        """Add ``data`` and return (frame, fingerprint) once a frame decodes.

        Raises SourceError ``not_an_image`` after ``max_candidates``
        candidates failed to decode, and ``too_large`` for a frame with too
        many pixels.
        """
        self._buffer += data
        if not self._frame_started:
            start = self._buffer.find(_FRAME_START, self._search_from)
            if start < 0:
                # Keep the last two bytes: a marker may span two pieces.
                keep = len(_FRAME_START) - 1
                del self._buffer[: max(0, len(self._buffer) - keep)]
                self._search_from = 0
                return None
            del self._buffer[:start]
            self._frame_started = True
            self._search_from = len(_FRAME_START)
        while True:
            end = self._buffer.find(JPEG_EOI, self._search_from)
            if end < 0:
                self._search_from = max(len(_FRAME_START), len(self._buffer) - 1)
                return None
            self._search_from = end + len(JPEG_EOI)
            frame = bytes(self._buffer[: end + len(JPEG_EOI)])
            self.candidates_tried += 1
            try:
                return frame, image_fingerprint(frame, max_pixels=self._max_pixels)
            except SourceError as exc:
                if exc.code != "not_an_image":
                    raise
                self.last_error = exc
                if self.candidates_tried >= self._max_candidates:
                    raise SourceError(
                        "not_an_image",
                        f"none of the first {self.candidates_tried} JPEG "
                        f"candidates in the stream decodes ({exc.detail})",
                    ) from None
