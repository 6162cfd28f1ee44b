"""A scriptable HTTP(S) server on 127.0.0.1 for tests that need a real peer.

Register a route per path, then point a client at ``server.url(path)``::

    with FixtureServer() as server:
        server.route("/rss/news.xml", Response(200, {"ETag": '"v1"'}, body))
        server.route("/slow", slow_drip(head, body, interval=1.0))
        ...
        assert server.hits("/rss/news.xml") == 1

A route is one of:

- a ``Response`` or a ``(status, headers, body)`` tuple;
- a callable that takes the ``Request`` and returns one of those;
- a list of route specs played in order, the last repeating once the list
  is used up;
- a ``Raw`` handler that owns the socket, for responses that break HTTP
  (never responding, dripping bytes, endless chunks, a false Content-Length).

Every response closes its connection, so each client request is a new TCP
connection and hit counts equal request counts. The server returns 404 for
unrouted paths and keeps those requests in ``unrouted``.
"""

import contextlib
import datetime
import http
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_REQUEST_HEAD = 64 * 1024
MAX_REQUEST_BODY = 1024 * 1024


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    # Request target as sent: path plus query string.
    target: str
    path: str
    # Header names lower-cased, repeated headers joined with ", ".
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Response:
    status: int = 200
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = ()
    body: bytes = b""


# A raw handler gets the connected socket (after the request head was read),
# the request and the server's stop event, which is set at shutdown. It may
# return the number of body bytes it sent, which the server stores.
RawHandler = Callable[[socket.socket, Request, threading.Event], int | None]


@dataclass(frozen=True)
class Raw:
    handler: RawHandler


ResponseSpec = Response | tuple[int, Any, bytes]
RouteSpec = ResponseSpec | Callable[[Request], ResponseSpec] | Raw | list[Any]


class _Route:
    def __init__(self, spec: RouteSpec) -> None:
        self._lock = threading.Lock()
        if isinstance(spec, list):
            if not spec:
                raise ValueError("a response sequence needs at least one response")
            self._sequence: list[Any] | None = list(spec)
        else:
            self._sequence = None
            self._spec = spec
        self._next = 0

    def next_spec(self) -> Any:
        if self._sequence is None:
            return self._spec
        with self._lock:
            index = min(self._next, len(self._sequence) - 1)
            self._next += 1
            return self._sequence[index]


class FixtureServer:
    """HTTP/1.1 server on a random loopback port, served from background threads.

    Pass ``ssl_context`` (a server-side context) for HTTPS. Use it as a
    context manager, or call ``start()`` and ``close()``.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = "127.0.0.1"
        self.ssl_context = ssl_context
        self.scheme = "https" if ssl_context else "http"
        self.stop = threading.Event()
        self.requests: list[Request] = []
        self.unrouted: list[Request] = []
        self.tls_failures: list[str] = []
        # Body bytes sent by raw handlers, per path.
        self.raw_bytes_sent: dict[str, int] = {}
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._listener = socket.create_server((self.host, 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name="fixture-server-accept", daemon=True
        )

    # -- public API -----------------------------------------------------

    def start(self) -> "FixtureServer":
        self._accept_thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        # On Linux, shutdown() wakes a thread blocked in accept() at once.
        # Elsewhere the accept timeout ends the loop.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        if self._accept_thread.is_alive():
            self._accept_thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> "FixtureServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str, host: str | None = None) -> str:
        """Return the URL of ``path`` on this server, optionally under a name."""
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def route(self, path: str, spec: RouteSpec) -> None:
        """Register the response for ``path`` (the target without the query)."""
        with self._lock:
            self._routes[path] = _Route(spec)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for request in self.requests if request.path == path)

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # -- serving ----------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(
                target=self._serve_connection,
                args=(connection,),
                name="fixture-server-connection",
                daemon=True,
            )
            with self._lock:
                self._threads.append(thread)
                self._connections.add(connection)
            thread.start()

    def _serve_connection(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(10)
            if self.ssl_context is not None:
                try:
                    connection = self.ssl_context.wrap_socket(
                        connection, server_side=True
                    )
                except (ssl.SSLError, OSError) as exc:
                    with self._lock:
                        self.tls_failures.append(str(exc))
                    return
                with self._lock:
                    self._connections.add(connection)
            request = _read_request(connection)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
                route = self._routes.get(request.target) or self._routes.get(
                    request.path
                )
                if route is None:
                    self.unrouted.append(request)
            if route is None:
                _send_response(connection, request, Response(404, {}, b"not found"))
                return
            spec = route.next_spec()
            if isinstance(spec, Raw):
                sent = spec.handler(connection, request, self.stop)
                if sent is not None:
                    with self._lock:
                        self.raw_bytes_sent[request.path] = (
                            self.raw_bytes_sent.get(request.path, 0) + sent
                        )
                return
            if callable(spec):
                spec = spec(request)
            _send_response(connection, request, _as_response(spec))
        except OSError:
            # The client went away mid-response: expected when it aborts a
            # huge or slow body on purpose.
            pass
        finally:
            with contextlib.suppress(OSError):
                connection.close()
            with self._lock:
                self._connections.discard(connection)


def _as_response(spec: ResponseSpec) -> Response:
    if isinstance(spec, Response):
        return spec
    status, headers, body = spec
    return Response(status, headers, body)


def _read_request(connection: socket.socket) -> Request | None:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_REQUEST_HEAD:
            return None
        chunk = connection.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")

    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    raw_headers: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        raw_headers.append((name, value))
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value

    length = min(int(headers.get("content-length", "0") or 0), MAX_REQUEST_BODY)
    body = rest
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(
        method=method,
        target=target,
        path=target.split("?", 1)[0],
        headers=headers,
        raw_headers=raw_headers,
        body=body[:length],
    )


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _send_response(
    connection: socket.socket, request: Request, response: Response
) -> None:
    items = (
        list(response.headers.items())
        if isinstance(response.headers, Mapping)
        else list(response.headers)
    )
    names = {name.lower() for name, _ in items}
    bodyless = response.status in (204, 304) or 100 <= response.status < 200
    if not bodyless and not names & {"content-length", "transfer-encoding"}:
        items.append(("Content-Length", str(len(response.body))))
    if "connection" not in names:
        items.append(("Connection", "close"))
    head = f"HTTP/1.1 {response.status} {_reason(response.status)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in items) + "\r\n"
    payload = head.encode("latin-1")
    if request.method != "HEAD" and not bodyless:
        payload += response.body
    connection.sendall(payload)


def response_head(status: int, headers: Mapping[str, str]) -> bytes:
    """Build a status line and header block for raw handlers."""
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# -- raw handlers for broken servers ----------------------------------------


def never_answer() -> Raw:
    """Accept the request, then send nothing until the client or server quits."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> int:
        conn.settimeout(0.2)
        while not stop.is_set():
            try:
                if conn.recv(1024) == b"":
                    break
            except TimeoutError:
                continue
        return 0

    return Raw(handler)


def slow_drip(head: bytes, body: bytes, interval: float) -> Raw:
    """Send ``head`` at once, then one byte of ``body`` every ``interval`` s."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> int:
        conn.sendall(head)
        sent = 0
        for index in range(len(body)):
            if stop.wait(interval):
                break
            try:
                conn.sendall(body[index : index + 1])
            except OSError:
                break
            sent += 1
        return sent

    return Raw(handler)


def endless_chunked(head: bytes, first: bytes, repeated: bytes) -> Raw:
    """Send a chunked body: ``first``, then ``repeated`` until the client quits.

    ``head`` must carry ``Transfer-Encoding: chunked``.
    """

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> int:
        conn.sendall(head)
        conn.sendall(b"%x\r\n%s\r\n" % (len(first), first))
        sent = len(first)
        frame = b"%x\r\n%s\r\n" % (len(repeated), repeated)
        while not stop.is_set():
            try:
                conn.sendall(frame)
            except OSError:
                break
            sent += len(repeated)
        return sent

    return Raw(handler)


def lying_content_length(
    declared: int, total: int, filler: bytes, pause: float = 0.0
) -> Raw:
    """Declare ``Content-Length: declared``, then stream ``total`` body bytes.

    With ``pause``, the server sends the head and the declared bytes, waits
    that many seconds, and only then sends the surplus.
    """

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> int:
        head = response_head(
            200,
            {
                "Content-Type": "application/rss+xml; charset=utf-8",
                "Content-Length": str(declared),
            },
        )
        block = (filler * (65536 // len(filler) + 1))[:65536]
        if pause:
            first = (filler * (declared // len(filler) + 1))[:declared]
            conn.sendall(head + first)
            sent = len(first)
            if stop.wait(pause):
                return sent
        else:
            conn.sendall(head)
            sent = 0
        while sent < total and not stop.is_set():
            try:
                conn.sendall(block)
            except OSError:
                break
            sent += len(block)
        return sent

    return Raw(handler)


# -- TLS helpers ----------------------------------------------------------------


def server_ssl_context(cert_chain_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    """Build a server-side context that presents exactly ``cert_chain_pem``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # load_cert_chain reads files only.
    with tempfile.TemporaryDirectory() as folder:
        cert_path = os.path.join(folder, "chain.pem")
        key_path = os.path.join(folder, "key.pem")
        with open(cert_path, "wb") as handle:
            handle.write(cert_chain_pem)
        with open(key_path, "wb") as handle:
            handle.write(key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context


@dataclass(frozen=True)
class CertificateChain:
    """PEM material for an HTTPS test server and the client's trust store."""

    root_pem: bytes
    # Leaf first, then any intermediates, as a server sends them.
    chain_pem: bytes
    leaf_only_pem: bytes
    key_pem: bytes


def trustme_chain(*hostnames: str) -> CertificateChain:
    """Build a root, an intermediate and a leaf for ``hostnames`` with trustme."""
    import trustme

    root = trustme.CA()
    intermediate = root.create_child_ca()
    leaf = intermediate.issue_cert(*hostnames)
    pems = [blob.bytes() for blob in leaf.cert_chain_pems]
    return CertificateChain(
        root_pem=root.cert_pem.bytes(),
        chain_pem=b"".join(pems),
        leaf_only_pem=pems[0],
        key_pem=leaf.private_key_pem.bytes(),
    )


def legacy_root_chain(
    hostname: str, *, critical_basic_constraints: bool = False
) -> CertificateChain:
    """Build a chain whose root lacks a Subject Key Identifier.

    By default the root's basicConstraints is also non-critical, as in some
    older government roots. OpenSSL rejects either flaw when
    ``VERIFY_X509_STRICT`` is set, which Python 3.13 does by default.
    trustme always adds a Subject Key Identifier, so this uses
    ``cryptography`` directly.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def builder(subject: str, issuer: str, public_key: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
        )

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        builder("Legacy Test Root CA", "Legacy Test Root CA", root_key.public_key())
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=None),
            critical=critical_basic_constraints,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )

    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = (
        builder(
            "Legacy Test Intermediate CA",
            "Legacy Test Root CA",
            intermediate_key.public_key(),
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(intermediate_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        builder(hostname, "Legacy Test Intermediate CA", leaf_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                intermediate_key.public_key()
            ),
            critical=False,
        )
        .sign(intermediate_key, hashes.SHA256())
    )

    def pem(certificate: x509.Certificate) -> bytes:
        return certificate.public_bytes(serialization.Encoding.PEM)

    return CertificateChain(
        root_pem=pem(root),
        chain_pem=pem(leaf) + pem(intermediate),
        leaf_only_pem=pem(leaf),
        key_pem=leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@contextlib.contextmanager
def https_fixture_server(chain_pem: bytes, key_pem: bytes) -> Iterator[FixtureServer]:
    """Run a FixtureServer over TLS that presents ``chain_pem``."""
    with FixtureServer(ssl_context=server_ssl_context(chain_pem, key_pem)) as server:
        yield server
