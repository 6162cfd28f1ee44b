"""Checks that keep fetches of untrusted URLs away from internal networks.

Feed URLs come from agencies and admin forms, so a URL may point at the
portal's own services, the cloud metadata endpoint or a private network
(server-side request forgery). Two checks stop that:

- ``validate_url`` looks at the URL text only, without DNS: scheme, port,
  credentials, characters, and hosts written as IP addresses in any form.
- ``check_resolved_addresses`` judges every address DNS returned for a host
  name. The HTTP client connects only to addresses that passed it.

An address is allowed when it is globally reachable and outside the extra
deny list below, or when it falls inside one of the policy's
``allowed_networks``. That list is the only relaxation and is empty in
production. An allowed network also lifts the port limit (80 and 443) for
its own addresses, restricted to ``allowed_ports`` when the policy sets them.
"""

import re
import unicodedata
from collections.abc import Iterable
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from typing import Protocol

from yarl import URL

from govportal.lib.errors import SourceError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"http", "https"})
STANDARD_PORTS = frozenset({80, 443})

# Ranges that ipaddress (Python 3.13) reports as global, or that must never
# be reached even if a future Python changes its tables.
DENIED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT, not private but not global
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, includes cloud metadata endpoints
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
        "::/8",  # unspecified, loopback and IPv4-compatible addresses
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, includes Teredo
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4 can embed any IPv4 address
        "3fff::/20",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)

# The well-known NAT64 prefix maps the last 32 bits onto an IPv4 address,
# so such an address is judged by the IPv4 address it reaches.
NAT64_PREFIX = ip_network("64:ff9b::/96")

# Special-use and private-use name suffixes that never name a public feed
# host (RFC 6761, RFC 6762, RFC 8375, and ".internal" reserved by ICANN).
BLOCKED_NAME_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa")

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
# Percent-encoded NUL, CR and LF: harmless on the wire, but they turn into
# header injection wherever a later step decodes the URL.
_ENCODED_CONTROL = re.compile(r"%(?:00|0[aAdD])")


class AddressPolicy(Protocol):
    """The part of a fetch policy that decides which destinations are allowed."""

    @property
    def allowed_networks(self) -> tuple[IPNetwork, ...]: ...

    # None lets allowed networks use any port, a set limits them to those.
    @property
    def allowed_ports(self) -> frozenset[int] | None: ...


def validate_url(url: str, policy: AddressPolicy) -> str:
    """Check a URL without DNS and return it normalised, without fragment.

    Raises SourceError with code ``invalid_url``, ``scheme_not_allowed``,
    ``credentials_in_url``, ``port_not_allowed`` or ``blocked_target``. For a
    host name the address check happens later, in check_resolved_addresses.
    """
    return str(check_url(url, policy))


def check_url(url: str, policy: AddressPolicy) -> URL:
    """Check a URL like validate_url and return it as a yarl URL."""
    if not isinstance(url, str):
        raise SourceError("invalid_url", "URL is not a string")
    if len(url) > MAX_URL_LENGTH:
        raise SourceError(
            "invalid_url",
            f"URL is {len(url)} characters long, the maximum is {MAX_URL_LENGTH}",
            length=len(url),
        )
    if not url:
        raise SourceError("invalid_url", "URL is empty")
    _reject_unsafe_characters(url)

    scheme, colon, rest = url.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        raise SourceError(
            "invalid_url", "URL has no scheme; use an absolute http:// or https:// URL"
        )
    scheme = scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise SourceError(
            "scheme_not_allowed",
            f"scheme {scheme!r} is not allowed; use http or https",
            scheme=scheme,
        )
    if not rest.startswith("//"):
        raise SourceError("invalid_url", "URL has no host after the scheme")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        # The URL itself stays out of the message because it contains a secret.
        raise SourceError(
            "credentials_in_url",
            "URL contains a user name or password; remove them",
        )
    explicit_port = _parse_port(authority)

    try:
        parsed = URL(url)
    except ValueError as exc:
        raise SourceError("invalid_url", f"URL cannot be parsed: {exc}") from None
    host = parsed.raw_host
    if not host:
        raise SourceError("invalid_url", "URL has no host")
    if "%" in host:
        # Percent-escapes and IPv6 zone ids ("[fe80::1%25eth0]") both hide
        # what the host really is.
        raise SourceError("invalid_url", f"host {host!r} contains '%'", host=host)
    port = explicit_port or (443 if scheme == "https" else 80)
    if parsed.port != port:
        raise SourceError("invalid_url", "URL port cannot be parsed")

    address, canonical = _parse_address_literal(host)
    if address is not None:
        if not is_address_allowed(address, policy.allowed_networks):
            raise SourceError(
                "blocked_target",
                f"destination {address} is not a public address",
                host=host,
                address=str(address),
            )
        if not is_port_allowed(address, port, policy):
            raise _port_error(host, port)
        if not canonical:
            raise SourceError(
                "invalid_url",
                f"write the IPv4 address {host!r} as four decimal numbers ({address})",
                host=host,
            )
    else:
        _check_host_name(host)
        if port not in STANDARD_PORTS and not policy.allowed_networks:
            raise _port_error(host, port)
        # With allowed networks configured, a name on another port may still
        # resolve into them; check_resolved_addresses decides after DNS.
    return parsed.with_fragment(None)


def is_address_allowed(
    ip: IPAddress | str, allowed_networks: Iterable[IPNetwork] = ()
) -> bool:
    """Return whether a fetch may connect to ``ip``.

    True when the address is inside one of ``allowed_networks``, or when it
    is globally reachable and not in DENIED_NETWORKS. IPv4-mapped and NAT64
    IPv6 addresses are judged by the IPv4 address they embed.
    """
    address = _plain_address(ip)
    networks = tuple(allowed_networks)
    embedded = _embedded_ipv4(address)
    if _in_any(address, networks):
        return True
    if embedded is not None:
        return _in_any(embedded, networks) or _is_public(embedded)
    return _is_public(address)


def is_port_allowed(ip: IPAddress | str, port: int, policy: AddressPolicy) -> bool:
    """Return whether ``port`` may be used for a connection to ``ip``."""
    if port in STANDARD_PORTS:
        return True
    address = _plain_address(ip)
    embedded = _embedded_ipv4(address)
    networks = policy.allowed_networks
    inside = _in_any(address, networks) or (
        embedded is not None and _in_any(embedded, networks)
    )
    allowed_ports = policy.allowed_ports
    return inside and (allowed_ports is None or port in allowed_ports)


def check_resolved_addresses(
    host: str, port: int, addresses: Iterable[IPAddress | str], policy: AddressPolicy
) -> list[IPAddress]:
    """Check every address DNS returned for ``host`` and return them parsed.

    One disallowed address rejects the whole host, because the connection
    may go to any of them. Raises ``host_not_found`` for an empty list,
    ``blocked_target`` or ``port_not_allowed``.
    """
    parsed = [_plain_address(address) for address in addresses]
    if not parsed:
        raise SourceError(
            "host_not_found", f"host {host!r} has no addresses", host=host
        )
    blocked = [
        address
        for address in parsed
        if not is_address_allowed(address, policy.allowed_networks)
    ]
    if blocked:
        listed = ", ".join(str(address) for address in blocked)
        raise SourceError(
            "blocked_target",
            f"host {host!r} resolves to addresses that are not public: {listed}",
            host=host,
            addresses=[str(address) for address in blocked],
        )
    if not all(is_port_allowed(address, port, policy) for address in parsed):
        raise _port_error(host, port)
    return parsed


def _port_error(host: str, port: int) -> SourceError:
    return SourceError(
        "port_not_allowed",
        f"port {port} is not allowed for {host!r}; only ports 80 and 443 are",
        host=host,
        port=port,
    )


def _reject_unsafe_characters(url: str) -> None:
    if url != url.strip():
        raise SourceError("invalid_url", "URL has leading or trailing white space")
    for position, char in enumerate(url):
        category = unicodedata.category(char)
        # Categories C* (control, format, unassigned) and Z* (spaces, line
        # separators) hide or split text and have no place in a URL.
        if char.isspace() or category[0] in "CZ":
            raise SourceError(
                "invalid_url",
                f"URL contains the character U+{ord(char):04X} at position "
                f"{position}; control characters and white space are not allowed",
                position=position,
            )
        if char == "\\":
            # WHATWG parsers treat "\" as "/" and yarl does not; such
            # differences between parsers are how guards get bypassed.
            raise SourceError(
                "invalid_url", f"URL contains a backslash at position {position}"
            )
    match = _ENCODED_CONTROL.search(url)
    if match:
        raise SourceError(
            "invalid_url",
            f"URL contains an encoded control character {match.group()!r}",
            position=match.start(),
        )


def _parse_port(authority: str) -> int | None:
    if authority.startswith("["):
        _, bracket, after = authority.partition("]")
        if not bracket:
            raise SourceError("invalid_url", "URL has an unclosed IPv6 bracket")
    else:
        after = authority
    if ":" not in after:
        return None
    port_text = after.rsplit(":", 1)[1]
    if port_text == "":
        return None
    if not (port_text.isascii() and port_text.isdigit() and len(port_text) <= 5):
        raise SourceError("invalid_url", f"URL port {port_text!r} is not a number")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise SourceError("invalid_url", f"URL port {port} is out of range")
    return port


def _parse_address_literal(host: str) -> tuple[IPAddress | None, bool]:
    """Parse ``host`` as an IP address the way browsers and libc would.

    Returns the address (or None for a host name) and whether the text is
    the canonical form. Numeric IPv4 forms like ``2130706433``, ``0x7f.1``
    or ``0177.0.0.1`` reach real addresses through inet_aton, so they count
    as addresses here, following the WHATWG URL host parser.
    """
    if ":" in host:
        try:
            return IPv6Address(host), True
        except ValueError:
            raise SourceError(
                "invalid_url", f"{host!r} is not a valid IPv6 address"
            ) from None
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None, False
    address = _parse_numeric_ipv4(labels, host)
    return address, host == str(address)


def _parse_numeric_ipv4(labels: list[str], host: str) -> IPv4Address:
    invalid = SourceError("invalid_url", f"{host!r} is not a valid IPv4 address")
    if len(labels) > 4:
        raise invalid
    numbers = []
    for label in labels:
        if label[:2] in ("0x", "0X"):
            digits, base = label[2:] or "0", 16
        elif len(label) > 1 and label.startswith("0"):
            digits, base = label[1:], 8
        else:
            digits, base = label, 10
        try:
            numbers.append(int(digits, base))
        except ValueError:
            raise invalid from None
    if any(number > 255 for number in numbers[:-1]):
        raise invalid
    last_limit = 256 ** (5 - len(numbers))
    if numbers[-1] >= last_limit:
        raise invalid
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _check_host_name(host: str) -> None:
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise SourceError(
            "invalid_url", f"{host!r} is not a valid host name", host=host
        )
    for suffix in BLOCKED_NAME_SUFFIXES:
        if name == suffix or name.endswith("." + suffix):
            raise SourceError(
                "blocked_target",
                f"{host!r} is a local or private-use name",
                host=host,
            )
    if len(labels) == 1:
        # A single label resolves through the search domains of the
        # server's resolver, which usually means an internal host.
        raise SourceError(
            "blocked_target",
            f"{host!r} is not a fully qualified host name",
            host=host,
        )


def _plain_address(ip: IPAddress | str) -> IPAddress:
    if isinstance(ip, str):
        # Drop an IPv6 zone id such as "%eth0": it does not change which
        # range the address is in.
        return ip_address(ip.split("%", 1)[0])
    if isinstance(ip, IPv6Address) and ip.scope_id:
        return IPv6Address(str(ip).split("%", 1)[0])
    return ip


def _embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64_PREFIX:
            return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _in_any(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not _in_any(address, DENIED_NETWORKS)
