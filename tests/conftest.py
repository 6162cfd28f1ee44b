from collections.abc import Iterator

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
