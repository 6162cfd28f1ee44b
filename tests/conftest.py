import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import ConnectGuard, FakeDns, guarded_connections
from tests.support.fixture_server import FixtureServer


@pytest.fixture
def fixture_server() -> Iterator[FixtureServer]:
    """A scriptable HTTP server on 127.0.0.1 with a random port."""
    with FixtureServer() as server:
        yield server


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Replace socket.getaddrinfo with a table; unknown names do not resolve."""
    dns = FakeDns()
    monkeypatch.setattr("socket.getaddrinfo", dns.getaddrinfo)
    return dns


@pytest.fixture
def connect_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectGuard]:
    """Fail any TCP connect whose (host, port) is not in ``guard.allow``."""
    with guarded_connections(monkeypatch) as guard:
        yield guard


def _is_loopback_or_numeric(host: Any) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name.lower().rstrip(".") == "localhost":
        return True
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """Keep the whole suite on this machine: no DNS and no connection elsewhere.

    Names other than localhost fail to resolve unless a test installs its own
    table (``fake_dns``), and a TCP connect to an address outside loopback
    fails the test that made it.
    """
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback_or_numeric(host):
            raise socket.gaierror(
                socket.EAI_NONAME, f"tests resolve no names but localhost: {host!r}"
            )
        return real_getaddrinfo(host, *args, **kwargs)

    def check(address: Any) -> None:
        if isinstance(address, tuple) and address:
            ip = ipaddress.ip_address(str(address[0]).split("%")[0])
            if not ip.is_loopback:
                raise AssertionError(f"test tried to connect to {address!r}")

    def connect(self: socket.socket, address: Any) -> Any:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        check(address)
        return real_connect_ex(self, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        yield
