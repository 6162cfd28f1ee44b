"""Parse the date formats that Taiwanese agency feeds actually use.

Accepted forms (full-width digits and punctuation are accepted too):

* RFC 822 / RFC 2822: ``Thu, 02 May 2024 09:00:00 +0800``, with or without the
  weekday, two-digit years (``< 50`` means 20xx), and zones ``GMT``, ``UT``,
  ``UTC``, ``Z``, ``+0800``, ``+08:00``, ``GMT+8``, ``GMT+08:00`` or a common
  abbreviation. ``CST`` is China/Taiwan Standard Time (+08:00) here, not US
  Central time.
* JavaScript ``Date.toString``: ``Thu May 02 2024 09:00:00 GMT+0800 (台北標準時間)``.
* ISO 8601 and its relatives: ``2024-05-02T09:00:00.123+08:00``, a space for
  ``T``, no zone, ``2024/5/2 14:30:00``, ``2024-5-2``, ``2024.05.02``.
* Minguo (ROC) years: ``113/05/02 09:15``, ``113/4/30``, ``115-09-28``,
  ``民國113年5月1日``, ``113年5月1日 下午 3:00``. A two- or three-digit year in these
  numeric forms is a Minguo year, and 1911 is added to it.
* 上午/下午 (a.m./p.m.): ``2017/11/25 上午 12:00:00`` is 00:00, ``下午 12:30`` stays
  12:30, ``下午 04:48`` is 16:48. English ``AM``/``PM`` work the same way.
* ASP.NET JSON dates: ``/Date(1714611600000+0800)/``.

A time without a zone is local time in ``default_tz``. Every returned datetime
is aware. Anything else, including impossible dates (Feb 30), four-digit years
before 1900, an empty string or a zone beyond ±14:00, gives ``value=None`` and
the flag ``"unparseable date"``. Year 9999 is valid and returned as is, because
deciding what a future date means needs a clock, and this module has none.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

UNPARSEABLE = "unparseable date"
UNKNOWN_ZONE = "unknown time zone"

# Two- and three-digit years in numeric dates count from the founding of the
# Republic of China (民國元年 = 1912).
MINGUO_OFFSET = 1911
# Four-digit years before this are typos or placeholders such as 0001-01-01.
MIN_YEAR = 1900
# Longer strings are rejected unread: the longest accepted form, a
# JavaScript date with a zone name in brackets, is well under this.
MAX_DATE_CHARS = 200
# Real UTC offsets range from -12:00 to +14:00.
MAX_OFFSET = timedelta(hours=14)


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """The result of ``parse_date``."""

    value: datetime | None
    # True when the text named GMT, UT, UTC or Z, or gave a zero offset. Some
    # CMSs write Taiwan local time and label it GMT, and the caller decides per
    # feed whether to trust the label.
    says_gmt: bool = False
    flags: tuple[str, ...] = ()


_FAILED = ParsedDate(None, False, (UNPARSEABLE,))

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

# Offsets in hours. The list is short on purpose: abbreviations are ambiguous,
# and these are the ones seen in feeds read from Taiwan. CST is +08:00 because
# Taiwanese servers mean 中原標準時間 (Chungyuan/China Standard Time) by it.
_ZONE_ABBREVIATIONS = {
    "cst": 8,
    "tst": 8,
    "hkt": 8,
    "sgt": 8,
    "awst": 8,
    "jst": 9,
    "kst": 9,
    "est": -5,
    "edt": -4,
    "cdt": -5,
    "mst": -7,
    "mdt": -6,
    "pst": -8,
    "pdt": -7,
    "bst": 1,
    "cet": 1,
    "cest": 2,
    "eet": 2,
    "eest": 3,
}
_GMT_NAMES = {"gmt", "ut", "utc", "z", "zulu"}

# Morning and afternoon markers, Chinese and English.
_MORNING = {"上午", "am", "a.m.", "凌晨", "早上", "清晨"}
_AFTERNOON = {"下午", "pm", "p.m.", "晚上", "傍晚"}
_NOON = "中午"

_PARENTHESES_RE = re.compile(r"\([^)]*\)")
_CHINESE_WEEKDAY_RE = re.compile(r"(?:星期|週|周|禮拜)[一二三四五六日天]")

# Shared tail: optional time (24-hour or with a.m./p.m. marker) and zone.
_TIME = (
    r"(?:\s*(?:T|\s)\s*|\s*)"
    r"(?:(?P<ap1>上午|下午|中午|晚上|凌晨|早上|清晨|傍晚|a\.?m\.?|p\.?m\.?)\s*)?"
    r"(?:(?P<hour>\d{1,2})\s*(?::|時|点|點)\s*"
    r"(?:(?P<minute>\d{1,2})\s*分?"
    r"(?:\s*:\s*(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?\s*秒?)?)?)?"
    r"\s*(?P<ap2>上午|下午|a\.?m\.?|p\.?m\.?)?"
    r"\s*(?P<zone>[a-z+\-].*)?$"
)
_NUMERIC_RE = re.compile(
    r"^(?P<year>\d{2,4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
    + _TIME,
    re.IGNORECASE,
)
_CHINESE_RE = re.compile(
    r"^(?:民國|中華民國)?\s*(?P<year>\d{2,4})\s*年\s*(?P<month>\d{1,2})\s*月"
    r"\s*(?P<day>\d{1,2})\s*日?" + _TIME,
    re.IGNORECASE,
)
_COMPACT_RE = re.compile(
    r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
    r"(?:T?(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?)?"
    r"\s*(?P<zone>[a-z+\-].*)?$",
    re.IGNORECASE,
)
_RFC822_RE = re.compile(
    r"^(?:[a-z]+\.?,?\s*)?(?P<day>\d{1,2})[\s\-]+(?P<month>[a-z]{3,9})\.?,?[\s\-]+"
    r"(?P<year>\d{2,4})"
    r"(?:[\s,T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<ap2>a\.?m\.?|p\.?m\.?)?"
    r"\s*(?P<zone>[a-z+\-].*)?$",
    re.IGNORECASE,
)
# Month first: JavaScript's Date.toString() and "May 2, 2024 9:00 AM".
_MONTH_FIRST_RE = re.compile(
    r"^(?:[a-z]+\.?,?\s+)?(?P<month>[a-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+"
    r"(?P<year>\d{4})"
    r"(?:[\s,]+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<ap2>a\.?m\.?|p\.?m\.?)?"
    r"\s*(?P<zone>[a-z+\-].*)?$",
    re.IGNORECASE,
)
# "Thu, 02 May 2024 09:00:00 +0800", the form most feeds use, takes a short
# path. Anything unusual about it falls through to the general patterns.
_COMMON_RFC822_RE = re.compile(
    r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) "
    r"([+-]\d{4}|GMT|UTC|UT|Z)"
)
_ASPNET_RE = re.compile(r"^/?Date\((?P<millis>-?\d{1,15})(?P<offset>[+-]\d{4})?\)/?$")
_ZONE_RE = re.compile(
    r"^(?P<name>[a-z]{1,5})?\s*"
    r"(?:(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?)?"
    r"\s*(?P<name2>[a-z]{1,5})?$",
    re.IGNORECASE,
)


@lru_cache(maxsize=32)
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def parse_date(text: str | None, default_tz: str = "Asia/Taipei") -> ParsedDate:
    """Parse a feed date string into an aware datetime.

    ``default_tz`` is an IANA zone name used when the text gives no zone.
    Raises ``zoneinfo.ZoneInfoNotFoundError`` only for an unknown ``default_tz``.
    """
    local_zone = _zone(default_tz)
    if not text or len(text) > MAX_DATE_CHARS:
        return _FAILED
    match = _COMMON_RFC822_RE.fullmatch(text)
    if match:
        parsed = _from_common_rfc822(match)
        if parsed is not None:
            return parsed
    match = _ASPNET_RE.match(text.strip())
    if match:
        return _from_aspnet(match, local_zone)
    text = _normalize(text)
    if not text:
        return _FAILED

    for pattern, two_digit_rule in (
        (_RFC822_RE, "rfc822"),
        (_NUMERIC_RE, "minguo"),
        (_CHINESE_RE, "minguo"),
        (_MONTH_FIRST_RE, "rfc822"),
        (_COMPACT_RE, "minguo"),
    ):
        match = pattern.match(text)
        if match:
            return _from_match(match, two_digit_rule, local_zone)
    return _FAILED


def _from_common_rfc822(match: re.Match[str]) -> ParsedDate | None:
    """Build the result for the common RFC 822 form, or None to use the full path."""
    day, month_name, year, hour, minute, second, zone_text = match.groups()
    month = _MONTHS.get(month_name.lower())
    zone = _parse_zone(zone_text)
    if month is None or zone is None or zone[0] is None or int(year) < MIN_YEAR:
        return None
    explicit_zone, says_gmt, _known = zone
    try:
        value = datetime(
            int(year),
            month,
            int(day),
            int(hour),
            int(minute),
            int(second),
            0,
            explicit_zone,
        )
    except ValueError:
        return None
    return ParsedDate(value, says_gmt)


def _normalize(text: str) -> str:
    if not text.isascii():
        # NFKC turns full-width digits, colons, slashes and spaces into ASCII.
        text = unicodedata.normalize("NFKC", text)
        text = _CHINESE_WEEKDAY_RE.sub(" ", text)
    if "(" in text:
        # "(CST)", "(台北標準時間)" and "(四)" are comments, not part of the date.
        text = _PARENTHESES_RE.sub(" ", text)
    return " ".join(text.split())


def _from_aspnet(match: re.Match[str], local_zone: tzinfo) -> ParsedDate:
    try:
        instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            milliseconds=int(match["millis"])
        )
    except OverflowError:
        return _FAILED
    zone: tzinfo = local_zone
    if match["offset"]:
        offset = _offset(match["offset"][0], match["offset"][1:3], match["offset"][3:])
        if offset is None:
            return _FAILED
        zone = _fixed_zone(offset)
    try:
        return ParsedDate(instant.astimezone(zone))
    except OverflowError:
        return _FAILED


def _from_match(
    match: re.Match[str], two_digit_rule: str, local_zone: tzinfo
) -> ParsedDate:
    groups = match.groupdict()
    year = _year(groups["year"], two_digit_rule)
    month = _month(groups["month"])
    if year is None or month is None:
        return _FAILED
    day = int(groups["day"])
    hour = int(groups["hour"] or 0)
    minute = int(groups.get("minute") or 0)
    second = int(groups.get("second") or 0)
    fraction = groups.get("fraction") or ""
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0

    marker = groups.get("ap1") or groups.get("ap2")
    if marker:
        hour = _apply_half_day(hour, marker.lower())
    if second == 60:  # a leap second, which datetime cannot hold
        second = 59

    zone_text = groups.get("zone")
    flags: tuple[str, ...] = ()
    says_gmt = False
    zone: tzinfo = local_zone
    if zone_text:
        parsed_zone = _parse_zone(zone_text)
        if parsed_zone is None:
            return _FAILED
        explicit_zone, says_gmt, known = parsed_zone
        if explicit_zone is not None:
            zone = explicit_zone
        if not known:
            flags = (UNKNOWN_ZONE,)

    try:
        value = datetime(year, month, day, hour, minute, second, microsecond, zone)
    except ValueError:
        return _FAILED
    return ParsedDate(value, says_gmt, flags)


def _year(text: str, two_digit_rule: str) -> int | None:
    year = int(text)
    if len(text) == 4:
        return year if year >= MIN_YEAR else None
    if len(text) == 2 and two_digit_rule == "rfc822":
        # RFC 2822 section 4.3: 00-49 are 2000-2049, 50-99 are 1950-1999.
        return 2000 + year if year < 50 else 1900 + year
    if year == 0:
        return None
    return year + MINGUO_OFFSET


def _month(text: str) -> int | None:
    if text.isdigit():
        month = int(text)
        return month if 1 <= month <= 12 else None
    return _MONTHS.get(text[:3].lower())


def _apply_half_day(hour: int, marker: str) -> int:
    if marker in _MORNING:
        return 0 if hour == 12 else hour
    if marker in _AFTERNOON:
        return hour + 12 if hour < 12 else hour
    if marker == _NOON:
        # 中午 covers roughly 11:00 to 13:59, so "中午1點" is 13:00.
        return hour + 12 if hour < 6 else hour
    return hour


@lru_cache(maxsize=256)
def _parse_zone(text: str) -> tuple[tzinfo | None, bool, bool] | None:
    """Parse a zone suffix into (zone or None for local time, says_gmt, known).

    Returns None when the suffix is not a zone at all, or an impossible offset.
    Feeds repeat the same few suffixes, hence the cache.
    """
    match = _ZONE_RE.match(text.strip())
    if match is None:
        return None
    name = (match["name"] or "").lower()
    if match["sign"]:
        if name and name not in _GMT_NAMES and name not in _ZONE_ABBREVIATIONS:
            return None
        offset = _offset(match["sign"], match["hours"], match["minutes"] or "0")
        if offset is None:
            return None
        return _fixed_zone(offset), offset == timedelta(0), True
    if not name:
        return None
    if name in _GMT_NAMES:
        return UTC, True, True
    if name in _ZONE_ABBREVIATIONS:
        return _fixed_zone(timedelta(hours=_ZONE_ABBREVIATIONS[name])), False, True
    # An unknown abbreviation: read the time as local time and flag it.
    return None, False, False


def _fixed_zone(offset: timedelta) -> tzinfo:
    return UTC if offset == timedelta(0) else timezone(offset)


def _offset(sign: str, hours: str, minutes: str) -> timedelta | None:
    hour_count, minute_count = int(hours), int(minutes)
    if minute_count >= 60:
        return None
    offset = timedelta(hours=hour_count, minutes=minute_count)
    if offset > MAX_OFFSET:
        return None
    return -offset if sign == "-" else offset
