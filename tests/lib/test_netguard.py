"""URL and address checks of govportal.lib.netguard, without any network."""

import ipaddress
import time

import pytest

from govportal.lib.errors import SourceError
from govportal.lib.httpfetch import FetchPolicy
from govportal.lib.netguard import (
    check_resolved_addresses,
    is_address_allowed,
    validate_url,
)
from tests.lib import LOOPBACK

DEFAULT = FetchPolicy()
LOOPBACK_POLICY = FetchPolicy(allowed_networks=(LOOPBACK,))


def rejection(url: str, policy: FetchPolicy = DEFAULT) -> SourceError:
    with pytest.raises(SourceError) as caught:
        validate_url(url, policy)
    return caught.value


# -- policy defaults ---------------------------------------------------------------


def test_default_policy_allows_no_private_network():
    policy = FetchPolicy()
    assert policy.allowed_networks == ()
    assert policy.allowed_ports is None


def test_policy_parses_network_strings():
    policy = FetchPolicy(allowed_networks=("127.0.0.1/32",), allowed_ports=[8080])
    assert policy.allowed_networks == (ipaddress.ip_network("127.0.0.1/32"),)
    assert policy.allowed_ports == frozenset({8080})


# -- accepted URLs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.gov.tw/rss/news.xml", None),
        ("HTTP://WWW.Example.GOV.TW/rss", "http://www.example.gov.tw/rss"),
        ("https://www.example.gov.tw:443/rss", "https://www.example.gov.tw/rss"),
        (
            "http://www.example.gov.tw:80/rss?n=12&s=3",
            "http://www.example.gov.tw/rss?n=12&s=3",
        ),
        ("https://www.example.gov.tw/rss#top", "https://www.example.gov.tw/rss"),
        ("https://政府.tw/新聞", "https://xn--mxtq1m.tw/%E6%96%B0%E8%81%9E"),
        ("http://8.8.8.8/rss", None),
    ],
)
def test_validate_url_accepts_public_http_urls(url, expected):
    assert validate_url(url, DEFAULT) == (expected or url)


# -- 3.1 feed URL submission ------------------------------------------------------


def test_fu01_file_scheme_rejected():
    """FU-01"""
    error = rejection("file:///etc/passwd")
    assert error.code == "scheme_not_allowed"
    assert error.params["scheme"] == "file"


@pytest.mark.parametrize(
    "url",
    [
        "/etc/passwd",
        "C:\\Windows\\win.ini",
        "../../settings.py",
        "www.example.gov.tw/rss",
    ],
)
def test_fu02_schemeless_strings_rejected(url):
    """FU-02"""
    assert rejection(url).code == "invalid_url"


@pytest.mark.parametrize(
    "url",
    [
        "gopher://127.0.0.1:6379/_INFO",
        "dict://127.0.0.1:11211/stat",
        "ftp://x.test/f",
        "ldap://x.test/",
        "jar:http://x.test/a!/b",
        "data:text/xml,<rss/>",
        "feed:http://x.test/",
        "javascript:alert(1)",
    ],
    ids=["gopher", "dict", "ftp", "ldap", "jar", "data", "feed", "javascript"],
)
def test_fu03_other_schemes_rejected(url):
    """FU-03"""
    assert rejection(url).code == "scheme_not_allowed"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://localhost./rss",
        "http://app.localhost/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://0/",
    ],
)
def test_fu04_local_destinations_blocked(url):
    """FU-04"""
    assert rejection(url).code == "blocked_target"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
    ],
)
def test_fu05_metadata_endpoints_blocked(url):
    """FU-05"""
    assert rejection(url).code == "blocked_target"


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "192.168.1.1",
        "172.16.0.1",
        "100.64.0.1",
        "198.18.0.1",
        "fc00::1",
        "fe80::1",
        "2001:db8::1",
    ],
)
def test_fu07_private_addresses_not_allowed(address):
    """FU-07: DNS answers in private, CGNAT, benchmark and documentation ranges."""
    assert not is_address_allowed(address)
    with pytest.raises(SourceError) as caught:
        check_resolved_addresses("gov-feed.test", 443, [address], DEFAULT)
    assert caught.value.code == "blocked_target"


def test_fu07_cgnat_needs_the_deny_list():
    """FU-07: ipaddress does not call 100.64.0.0/10 private."""
    assert not ipaddress.ip_address("100.64.0.1").is_private
    assert not is_address_allowed("100.64.0.1")


def test_fu08_one_private_answer_rejects_host():
    """FU-08: 203.0.113.10 is allowed by this policy, 127.0.0.1 is not."""
    policy = FetchPolicy(allowed_networks=("203.0.113.0/24",))
    addresses = ["203.0.113.10", "127.0.0.1"]
    with pytest.raises(SourceError) as caught:
        check_resolved_addresses("mixed.test", 80, addresses, policy)
    assert caught.value.code == "blocked_target"
    assert caught.value.params["addresses"] == ["127.0.0.1"]


def test_fu10_empty_answer_is_host_not_found():
    """FU-10"""
    with pytest.raises(SourceError) as caught:
        check_resolved_addresses("nxdomain.test", 80, [], DEFAULT)
    assert caught.value.code == "host_not_found"


@pytest.mark.parametrize(
    "url",
    [
        "https://agent007:s3cr3t@gov-feed.test/rss",
        "https://agent007@gov-feed.test/rss",
        "https://:s3cr3t@gov-feed.test/rss",
        "https://@gov-feed.test/rss",
    ],
)
def test_fu12_credentials_rejected_without_echo(url):
    """FU-12"""
    error = rejection(url)
    assert error.code == "credentials_in_url"
    assert "s3cr3t" not in str(error)
    assert "agent007" not in str(error)
    assert error.params == {}


@pytest.mark.parametrize("port", [6379, 22, 25, 8080])
def test_fu13_other_ports_rejected(port):
    """FU-13"""
    error = rejection(f"http://gov-feed.test:{port}/rss")
    assert error.code == "port_not_allowed"
    assert error.params["port"] == port


def test_fu13_port_checked_after_dns():
    """FU-13: with allowed networks set, the port check waits for the DNS result."""
    policy = FetchPolicy(
        allowed_networks=(LOOPBACK, "198.51.100.0/24"), allowed_ports={8443}
    )
    assert validate_url("http://gov-feed.test:6379/rss", policy)
    with pytest.raises(SourceError) as caught:
        check_resolved_addresses("gov-feed.test", 6379, ["198.51.100.7"], policy)
    assert caught.value.code == "port_not_allowed"


def test_fu14_long_url_rejected_quickly():
    """FU-14"""
    url = "https://gov-feed.test/" + "a" * 100_000
    started = time.perf_counter()
    error = rejection(url)
    assert time.perf_counter() - started < 0.05
    assert error.code == "invalid_url"
    assert error.params["length"] == len(url)


def test_fu14_url_at_length_limit_accepted():
    """FU-14: 2048 characters is still allowed."""
    url = "https://gov-feed.test/"
    url += "a" * (2048 - len(url))
    assert validate_url(url, DEFAULT) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://gov-feed.test/rss%0d%0aX-Injected:%201",
        "https://gov-feed.test/rss%0D%0AX-Injected: 1",
        "https://gov-feed.test/rss\r\nX-Injected: 1",
        "https://gov-feed.test/rss\nx",
        "https://gov-feed.test/rss\x00",
        "https://gov-feed.test/r\tss",
        "https://gov-feed.test/r ss",
        " https://gov-feed.test/rss",
        "https://gov-feed.test/rss ",
        "https://gov-feed.test/rss%00",
        "https://gov-feed.test/\u202erss",
        "https://gov\u200b-feed.test/rss",
        "https://gov-feed.test/rss\u3000",
    ],
    ids=[
        "encoded-crlf",
        "encoded-crlf-space",
        "raw-crlf",
        "raw-lf",
        "nul",
        "tab",
        "space",
        "leading-space",
        "trailing-space",
        "encoded-nul",
        "bidi-override",
        "zero-width-space",
        "ideographic-space",
    ],
)
def test_fu14_control_and_space_characters_rejected(url):
    """FU-14"""
    assert rejection(url).code == "invalid_url"


# -- case 51: every spelling of an internal address -------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080/rss", "127.0.0.1"),
        ("http://[::1]/rss", "::1"),
        ("http://[::ffff:127.0.0.1]/rss", "::ffff:127.0.0.1"),
        ("http://2130706433/rss", "127.0.0.1"),
        ("http://0x7f.0.0.1/rss", "127.0.0.1"),
        ("http://0x7f000001/rss", "127.0.0.1"),
        ("http://0177.0.0.1/rss", "127.0.0.1"),
        ("http://127.1/rss", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://10.0.0.5/rss", "10.0.0.5"),
        ("http://192.168.1.1/rss", "192.168.1.1"),
        ("http://100.64.0.1/rss", "100.64.0.1"),
        ("http://[64:ff9b::a00:5]/rss", "64:ff9b::a00:5"),
        ("http://[::127.0.0.1]/rss", "::7f00:1"),
        ("http://[2002:7f00:1::]/rss", "2002:7f00:1::"),
    ],
)
def test_case51_address_literals_blocked_without_dns(url, address):
    error = rejection(url)
    assert error.code == "blocked_target"
    assert error.params["address"] == address


@pytest.mark.parametrize(
    "url",
    ["http://1.2.3.4.5/", "http://256.1.1.1/", "http://0x100.1.1.1/", "http://[::1:/"],
)
def test_malformed_address_literals_rejected(url):
    assert rejection(url).code == "invalid_url"


@pytest.mark.parametrize(
    "url",
    ["http://127%2e0.0.1/", "http://[fe80::1%25eth0]/", "http://[2001:4860::1%25x]/"],
)
def test_percent_in_host_rejected(url):
    assert rejection(url).code == "invalid_url"


def test_noncanonical_public_address_rejected_as_invalid():
    # 0x08080808 is 8.8.8.8: public, but no feed URL is written this way.
    assert rejection("http://0x08080808/").code == "invalid_url"


# -- address judgement --------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::808:808", True),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("192.0.0.9", False),
        ("192.88.99.1", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("255.255.255.255", False),
        ("3fff::1", False),
        ("2001::1", False),
        ("fe80::1%eth0", False),
    ],
)
def test_is_address_allowed(address, allowed):
    assert is_address_allowed(address) is allowed


def test_allowed_networks_are_the_only_relaxation():
    networks = (ipaddress.ip_network(LOOPBACK),)
    assert is_address_allowed("127.0.0.1", networks)
    assert is_address_allowed("::ffff:127.0.0.1", networks)
    assert not is_address_allowed("127.0.0.2", networks)
    assert not is_address_allowed("::1", networks)
    assert not is_address_allowed("10.0.0.5", networks)


def test_allowed_network_lifts_port_limit():
    assert validate_url("http://127.0.0.1:8080/rss", LOOPBACK_POLICY)
    assert rejection("http://127.0.0.2:8080/rss", LOOPBACK_POLICY).code == (
        "blocked_target"
    )


def test_allowed_ports_restrict_the_lifted_limit():
    policy = FetchPolicy(allowed_networks=(LOOPBACK,), allowed_ports={8080})
    assert validate_url("http://127.0.0.1:8080/rss", policy)
    assert rejection("http://127.0.0.1:6379/rss", policy).code == "port_not_allowed"


def test_name_port_needs_allowed_networks():
    assert rejection("http://gov-feed.test:8080/rss").code == "port_not_allowed"
    # With allowed networks, the decision waits for the DNS answer.
    assert validate_url("http://gov-feed.test:8080/rss", LOOPBACK_POLICY)


def test_resolved_loopback_port_lifted():
    addresses = check_resolved_addresses(
        "www.example.gov.tw", 8080, ["127.0.0.1"], LOOPBACK_POLICY
    )
    assert addresses == [ipaddress.ip_address("127.0.0.1")]
