"""Validation of camera stream and snapshot URLs before they reach the public page.

The public page embeds these URLs in ``src`` attributes, so a URL must be
an absolute ``https`` URL without credentials or characters that could end
the attribute, and it must come from a host the agency has approved.
``validate_stream_url`` is the one check for the importer and the admin. It
raises ``StreamURLError`` for an unusable URL and returns warnings for query
parameters that look like secrets, because the public page would show them
to everyone.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from urllib.parse import parse_qsl, urlsplit

from govportal.lib.errors import SourceError
from govportal.lib.netguard import AddressPolicy, validate_url

# Characters that would end or extend an HTML attribute value, or that no
# URL written by hand contains: quotes, angle brackets, backtick, space.
UNSAFE_CHARACTERS = frozenset("\"'<>` \t\r\n")

# Query parameter names that usually carry a credential or a signature.
SECRET_PARAMETER = re.compile(
    r"(?:^|[_-])(?:token|key|apikey|auth|authorization|sig|signature|secret"
    r"|password|passwd|pwd|session|sessionid|credential|credentials)$",
    re.IGNORECASE,
)

MAX_SHOWN_VALUE = 80

# Error codes the importer turns into "stored, but not publishable" instead
# of a rejected record, because an agency can fix them without a new list.
FIXABLE_CODES = frozenset({"not_https", "host_not_approved"})


class StreamURLError(ValueError):
    """A stream or snapshot URL that must not be stored as given."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StreamCheck:
    """A validated URL (stripped, otherwise as entered), its host and warnings."""

    url: str
    host: str
    warnings: list[str] = field(default_factory=list)


class _PublicOnly:
    """A netguard address policy that allows public addresses only."""

    @property
    def allowed_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return ()

    @property
    def allowed_ports(self) -> frozenset[int] | None:
        return None


def shown(value: str) -> str:
    """Return a value quoted and shortened for an error message."""
    if len(value) > MAX_SHOWN_VALUE:
        value = value[: MAX_SHOWN_VALUE - 3] + "..."
    return repr(value)


def validate_stream_url(
    value: object,
    *,
    approved_hosts: Collection[str] | None = None,
    address_policy: AddressPolicy | None = None,
) -> StreamCheck:
    """Check a URL that the public page embeds and return it with warnings.

    ``approved_hosts`` is the agency's list of approved host names. When it
    is given, the URL's host must be on it, which the importer and the admin
    require for every stream and snapshot URL; None skips the host check
    (the demo's own checks of its loopback URLs). Raises ``StreamURLError``
    with the codes ``missing``, ``raw_html``, ``unsafe_characters``,
    ``not_absolute``, ``credentials_in_url``, ``not_https``,
    ``scheme_not_allowed``, ``invalid_url`` and ``host_not_approved``.
    """
    if not isinstance(value, str) or not value.strip():
        raise StreamURLError("missing", "The stream address is missing.")
    url = value.strip()
    if url.startswith("<"):
        raise StreamURLError(
            "raw_html",
            f"{shown(url)} is HTML, not a URL. Enter only the address, for "
            "example the value of the iframe's src attribute.",
        )
    unsafe = sorted({char for char in url if char in UNSAFE_CHARACTERS})
    if unsafe:
        listed = " ".join(repr(char) for char in unsafe)
        raise StreamURLError(
            "unsafe_characters",
            f"{shown(url)} contains characters that are not allowed in a stream "
            f"URL: {listed}. Quotes, spaces and angle brackets must be "
            "percent-encoded or removed.",
        )
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # The value stays out of the message because it contains a secret.
        raise StreamURLError(
            "credentials_in_url",
            "The stream URL contains a user name or password. Remove them, "
            "because the public page would show them to everyone.",
        )
    scheme = parts.scheme.lower()
    if not scheme:
        raise _not_absolute(url)
    if scheme == "http":
        raise StreamURLError(
            "not_https",
            f"{shown(url)} uses plain http. The public page is served over "
            "https and browsers block http content on it, so use https.",
        )
    if scheme != "https":
        raise StreamURLError(
            "scheme_not_allowed",
            f"{shown(url)} uses the scheme {scheme!r}. Only https URLs are allowed.",
        )
    if not parts.netloc:
        raise _not_absolute(url)
    try:
        normalised = validate_url(url, address_policy or _PublicOnly())
    except SourceError as exc:
        raise StreamURLError(
            "invalid_url", f"{shown(url)} is not a valid stream URL: {exc.detail}."
        ) from None
    host = (urlsplit(normalised).hostname or "").rstrip(".")
    if approved_hosts is not None and host not in approved_hosts:
        raise StreamURLError(
            "host_not_approved",
            f"The host {host!r} of {shown(url)} is not approved for this agency. "
            "An agency or central administrator can add it to the approved "
            "stream hosts.",
        )
    # The URL is stored as entered, because a normalised form may encode the
    # path or query differently and break the camera's server.
    return StreamCheck(url=url, host=host, warnings=secret_warnings(url))


def _not_absolute(url: str) -> StreamURLError:
    return StreamURLError(
        "not_absolute",
        f"{shown(url)} is not an absolute URL. Use a full https:// address.",
    )


def secret_warnings(url: str) -> list[str]:
    """Return a warning for each query parameter that looks like a secret."""
    names = [name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    return [
        f"The query parameter {name!r} looks like a token or key. The public "
        "page would show it to everyone, so ask the source for a URL without it."
        for name in dict.fromkeys(names)
        if SECRET_PARAMETER.search(name)
    ]
