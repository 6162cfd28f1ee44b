"""Helpers shared by tests: a loopback HTTP(S) server and network stubs.

Nothing here sends traffic anywhere but 127.0.0.1.
"""

import errno
import ipaddress
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest


class FakeDns:
    """A table of host names to addresses that replaces ``socket.getaddrinfo``.

    Names missing from the table fail with ``EAI_NONAME``, so no query ever
    reaches a real resolver. Numeric hosts resolve to themselves.
    """

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def add(self, name: str, addresses: Iterable[str]) -> None:
        self.table[name.lower().rstrip(".")] = list(addresses)

    def getaddrinfo(
        self,
        host: Any,
        port: Any,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        try:
            addresses = [str(ipaddress.ip_address(name))]
        except ValueError:
            key = name.lower().rstrip(".")
            if key not in self.table:
                raise socket.gaierror(
                    socket.EAI_NONAME, "Name or service not known"
                ) from None
            addresses = self.table[key]
        port_number = int(port or 0)
        results = []
        for address in addresses:
            ip = ipaddress.ip_address(address)
            if ip.version == 6:
                if family == socket.AF_INET:
                    continue
                sockaddr: tuple[Any, ...] = (address, port_number, 0, 0)
                results.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", sockaddr))
            else:
                if family == socket.AF_INET6:
                    continue
                sockaddr = (address, port_number)
                results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", sockaddr))
        if not results:
            raise socket.gaierror(socket.EAI_NODATA, "No address associated")
        return results


class ConnectGuard:
    """Records every outgoing TCP connect and fails those not in ``allow``.

    A blocked attempt raises ``AssertionError`` inside the client and is also
    kept in ``blocked``, so a test can assert on it even when the client
    swallows the exception.
    """

    def __init__(self) -> None:
        self.allow: set[tuple[str, int]] = set()
        self.attempts: list[tuple[str, int]] = []
        self.blocked: list[tuple[str, int]] = []

    def check(self, address: Any) -> None:
        host, port = str(address[0]), int(address[1])
        self.attempts.append((host, port))
        if (host, port) not in self.allow:
            self.blocked.append((host, port))
            raise AssertionError(f"unexpected connect to {host}:{port}")


@contextmanager
def guarded_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectGuard]:
    """Patch ``socket.socket.connect`` and ``connect_ex`` with a ConnectGuard.

    The asyncio selector loop and aiohttp connect through these methods.
    """
    guard = ConnectGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                guard.check(address)
            except AssertionError:
                return errno.ECONNREFUSED
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield guard
