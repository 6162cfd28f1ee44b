"""Stream URL validation, including the hostile inputs for camera URLs."""

import pytest

from govportal.cameras.streams import (
    StreamURLError,
    secret_warnings,
    validate_stream_url,
)

APPROVED = {"cam.agency.test"}


def rejection_code(value: object, approved: set[str] | None = APPROVED) -> str:
    with pytest.raises(StreamURLError) as caught:
        validate_stream_url(value, approved_hosts=approved)
    return caught.value.code


def test_https_url_on_approved_host_passes():
    check = validate_stream_url(
        "https://cam.agency.test/live?camera=10", approved_hosts=APPROVED
    )

    assert check.url == "https://cam.agency.test/live?camera=10"
    assert check.host == "cam.agency.test"
    assert check.warnings == []


def test_javascript_url_rejected():
    # CAM-01
    assert rejection_code("javascript:alert(1)") == "scheme_not_allowed"


def test_data_url_rejected():
    # CAM-02
    value = "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
    assert rejection_code(value) == "scheme_not_allowed"


def test_plain_http_rejected_with_value():
    # CAM-03
    with pytest.raises(StreamURLError) as caught:
        validate_stream_url("http://cam.agency.test/live", approved_hosts=APPROVED)

    assert caught.value.code == "not_https"
    assert "'http://cam.agency.test/live'" in caught.value.message
    assert "https" in caught.value.message


def test_unapproved_host_rejected():
    # CAM-04
    with pytest.raises(StreamURLError) as caught:
        validate_stream_url("https://evil.test/player", approved_hosts=APPROVED)

    assert caught.value.code == "host_not_approved"
    assert "'evil.test'" in caught.value.message


def test_no_host_list_skips_host_check():
    check = validate_stream_url("https://evil.test/video.mjpg", approved_hosts=None)

    assert check.host == "evil.test"


@pytest.mark.parametrize(
    "value",
    [
        'https://cam.agency.test/live" onload="alert(1)',
        "https://cam.agency.test/live'><script>alert(1)</script>",
        "https://cam.agency.test/live`x",
        "https://cam.agency.test/a b",
    ],
)
def test_attribute_breakout_rejected(value):
    # CAM-06
    assert rejection_code(value) == "unsafe_characters"


def test_raw_iframe_rejected():
    # CAM-07
    value = '<iframe src="https://cam.agency.test/live" onmouseover="alert(1)">'
    with pytest.raises(StreamURLError) as caught:
        validate_stream_url(value, approved_hosts=APPROVED)

    assert caught.value.code == "raw_html"
    assert "not a URL" in caught.value.message


@pytest.mark.parametrize(
    "value",
    ["rtsp://admin:admin@10.0.0.5/", "https://user:pw@cam.agency.test/"],
)
def test_credentials_rejected_without_echo(value):
    # CAM-08
    with pytest.raises(StreamURLError) as caught:
        validate_stream_url(value, approved_hosts=APPROVED)

    assert caught.value.code == "credentials_in_url"
    assert "pw" not in caught.value.message
    assert "admin:admin" not in caught.value.message


def test_token_parameter_flagged():
    # CAM-08
    check = validate_stream_url(
        "https://cam.agency.test/live?token=abc&camera=3&api_key=x&sig=y",
        approved_hosts=APPROVED,
    )

    assert len(check.warnings) == 3
    assert "'token'" in check.warnings[0]
    assert "'api_key'" in check.warnings[1]
    assert "'sig'" in check.warnings[2]


def test_cache_buster_not_flagged():
    assert secret_warnings("https://a.example.tw/x?randhash=1&camera=2") == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("rtsp://cam.agency.test/stream", "scheme_not_allowed"),
        ("rtmp://cam.agency.test/stream", "scheme_not_allowed"),
        ("//evil.test/player", "not_absolute"),
        ("/live/1", "not_absolute"),
        ("https:/live/1", "not_absolute"),
        ("", "missing"),
        (None, "missing"),
        ("https://127.0.0.1/live", "invalid_url"),
        ("https://169.254.169.254/latest", "invalid_url"),
        ("https://cam.agency.test:8443/live", "invalid_url"),
    ],
)
def test_other_unusable_urls_rejected(value, code):
    assert rejection_code(value) == code
