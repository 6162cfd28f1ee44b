"""Unit tests for govportal.lib.dates.parse_date, one row per accepted form."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfoNotFoundError

import pytest

from govportal.lib.dates import UNKNOWN_ZONE, UNPARSEABLE, parse_date
from tests.feedparse.helpers import taipei

UTC_PLUS_9 = timezone(timedelta(hours=9))
UTC_MINUS_5 = timezone(timedelta(hours=-5))

VALID = [
    # RFC 822 / RFC 2822
    ("Thu, 02 May 2024 09:00:00 +0800", taipei(2024, 5, 2, 9, 0), False),
    ("02 May 2024 09:00:00 +0800", taipei(2024, 5, 2, 9, 0), False),
    ("Thu, 2 May 2024 09:00 +0800", taipei(2024, 5, 2, 9, 0), False),
    ("Thu, 02 May 24 09:00:00 +0800", taipei(2024, 5, 2, 9, 0), False),
    ("Sat, 02 May 98 09:00:00 +0800", taipei(1998, 5, 2, 9, 0), False),
    ("Thu, 02 May 2024 01:00:00 GMT", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), True),
    ("Thu, 02 May 2024 01:00:00 UT", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), True),
    ("Thu, 02 May 2024 01:00:00 UTC", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), True),
    ("Thu, 02 May 2024 01:00:00 Z", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), True),
    ("Thu, 02 May 2024 01:00:00 +0000", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), True),
    ("Thu, 02 May 2024 01:00:00 -0000", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), True),
    ("Thu, 02 May 2024 09:00:00 GMT+8", taipei(2024, 5, 2, 9, 0), False),
    ("Thu, 02 May 2024 09:00:00 GMT+08:00", taipei(2024, 5, 2, 9, 0), False),
    ("Thu, 02 May 2024 09:00:00 +08:00", taipei(2024, 5, 2, 9, 0), False),
    ("Thu, 02 May 2024 09:00:00 CST", taipei(2024, 5, 2, 9, 0), False),
    ("Thu, 02 May 2024 09:00:00 +0800 (CST)", taipei(2024, 5, 2, 9, 0), False),
    (
        "Thu, 02 May 2024 10:00:00 JST",
        datetime(2024, 5, 2, 10, 0, tzinfo=UTC_PLUS_9),
        False,
    ),
    (
        "Thu, 02 May 2024 20:00:00 EST",
        datetime(2024, 5, 2, 20, 0, tzinfo=UTC_MINUS_5),
        False,
    ),
    ("Thu, 02 May 2024 09:00:00", taipei(2024, 5, 2, 9, 0), False),
    ("Thursday, 02-May-2024 09:00:00 +0800", taipei(2024, 5, 2, 9, 0), False),
    # JavaScript Date.toString and month-first English
    (
        "Thu May 02 2024 09:00:00 GMT+0800 (台北標準時間)",
        taipei(2024, 5, 2, 9, 0),
        False,
    ),
    ("May 2, 2024 9:00 PM", taipei(2024, 5, 2, 21, 0), False),
    # ISO 8601
    ("2024-05-02T09:00:00+08:00", taipei(2024, 5, 2, 9, 0), False),
    ("2024-05-02T01:00:00Z", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), True),
    ("2024-05-02T09:00:00", taipei(2024, 5, 2, 9, 0), False),
    ("2024-05-02 09:00:00", taipei(2024, 5, 2, 9, 0), False),
    ("2024-05-02 09:00", taipei(2024, 5, 2, 9, 0), False),
    ("2024-05-02T09:00:00.123+08:00", taipei(2024, 5, 2, 9, 0, 0, 123000), False),
    ("2024-05-02T09:00:00,5+0800", taipei(2024, 5, 2, 9, 0, 0, 500000), False),
    ("2024-05-02T09:00:00.1234567Z", datetime(2024, 5, 2, 9, 0, 0, 123456, UTC), True),
    ("2024-05-02", taipei(2024, 5, 2, 0, 0), False),
    ("20240502T090000", taipei(2024, 5, 2, 9, 0), False),
    # Slash, dash and dot numeric dates
    ("2024/5/2 14:30:00", taipei(2024, 5, 2, 14, 30), False),
    ("2024/04/29", taipei(2024, 4, 29, 0, 0), False),
    ("2024-5-2", taipei(2024, 5, 2, 0, 0), False),
    ("2024.05.02 08:00", taipei(2024, 5, 2, 8, 0), False),
    # Minguo years
    ("113/05/02 09:15", taipei(2024, 5, 2, 9, 15), False),
    ("113/4/30", taipei(2024, 4, 30, 0, 0), False),
    ("115-09-28", taipei(2026, 9, 28, 0, 0), False),
    ("99/12/31", taipei(2010, 12, 31, 0, 0), False),
    ("民國113年5月1日", taipei(2024, 5, 1, 0, 0), False),
    ("中華民國113年5月1日", taipei(2024, 5, 1, 0, 0), False),
    ("113年5月1日 下午 3:00", taipei(2024, 5, 1, 15, 0), False),
    ("113年5月1日(三) 上午9時30分", taipei(2024, 5, 1, 9, 30), False),
    ("2024年5月1日 星期三 10:05", taipei(2024, 5, 1, 10, 5), False),
    # 上午/下午 and AM/PM
    ("2017/11/25 上午 12:00:00", taipei(2017, 11, 25, 0, 0), False),
    ("2017/11/25 上午 11:59:59", taipei(2017, 11, 25, 11, 59, 59), False),
    ("2017/11/25 下午 12:30:00", taipei(2017, 11, 25, 12, 30), False),
    ("2026/7/17 下午 04:48:00", taipei(2026, 7, 17, 16, 48), False),
    ("2026/7/17 下午 16:48:00", taipei(2026, 7, 17, 16, 48), False),
    ("2026/7/17 04:48:00 PM", taipei(2026, 7, 17, 16, 48), False),
    ("2026/7/17 12:10:00 AM", taipei(2026, 7, 17, 0, 10), False),
    ("2026/7/17 中午 12:10", taipei(2026, 7, 17, 12, 10), False),
    # Full-width digits and punctuation
    ("２０２４／５／２　１４：３０", taipei(2024, 5, 2, 14, 30), False),
    ("１１３年５月２日", taipei(2024, 5, 2, 0, 0), False),
    # ASP.NET JSON
    ("/Date(1714611600000)/", taipei(2024, 5, 2, 9, 0), False),
    ("/Date(1714611600000+0800)/", taipei(2024, 5, 2, 9, 0), False),
    # Valid but far in the future: returned as is.
    ("Fri, 31 Dec 9999 23:59:59 +0800", taipei(9999, 12, 31, 23, 59, 59), False),
    ("Thu, 02 May 2024 09:00:60 +0800", taipei(2024, 5, 2, 9, 0, 59), False),
]


@pytest.mark.parametrize(("text", "expected", "says_gmt"), VALID)
def test_parse_date_valid(text, expected, says_gmt):
    parsed = parse_date(text, "Asia/Taipei")

    assert parsed.value == expected
    assert parsed.value.tzinfo is not None
    assert parsed.says_gmt is says_gmt
    assert parsed.flags == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        "garbage",
        "Sun, 30 Feb 2024 09:00:00 +0800",
        "2024-02-30",
        "Sat, 01 Jan 0001 00:00:00 +0000",
        "0001-01-01T00:00:00",
        "0113/05/02",
        "Thu, 02 May 2024 09:00:00 +2500",
        "Thu, 02 May 2024 09:00:00 +0860",
        "2024-05-02T25:00:00",
        "2024-13-02",
        "113/13/01",
        "Thu, 02 Foo 2024 09:00:00 +0800",
        "2024-05-02 09:00:00 not a zone at all",
    ],
)
def test_parse_date_invalid(text):
    parsed = parse_date(text, "Asia/Taipei")

    assert parsed.value is None
    assert parsed.flags == (UNPARSEABLE,)


def test_minguo_year_never_becomes_year_0113():
    parsed = parse_date("113/05/02 09:15")

    assert parsed.value is not None
    assert parsed.value.year == 2024


def test_no_zone_uses_default_tz():
    parsed = parse_date("2024-05-02 09:00", "Asia/Tokyo")

    assert parsed.value == datetime(2024, 5, 2, 9, 0, tzinfo=UTC_PLUS_9)


def test_unknown_zone_abbreviation_read_as_local():
    parsed = parse_date("Thu, 02 May 2024 09:00:00 XYZ")

    assert parsed.value == taipei(2024, 5, 2, 9, 0)
    assert parsed.flags == (UNKNOWN_ZONE,)


def test_unknown_default_tz_raises():
    with pytest.raises(ZoneInfoNotFoundError):
        parse_date("2024-05-02", "Mars/Olympus_Mons")
