"""A small, fast static HTTP/1.1 server for the benchmark feeds.

It runs in its own process so that the server's work is not counted as the
client's. Responses are prepared in memory; a matching If-None-Match gets a
304. Keep-alive is supported, because both clients under test reuse
connections.
"""

import asyncio
import multiprocessing
import socket
from multiprocessing.connection import Connection

from bench.corpus import BenchFeed


class _Protocol(asyncio.Protocol):
    def __init__(self, responses: dict[bytes, tuple[bytes, bytes, bytes]]) -> None:
        self.responses = responses
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        assert self.transport is not None
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        path = parts[1] if len(parts) > 1 else b"/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        entry = self.responses.get(path)
        if entry is None:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        full, not_modified, etag = entry
        if headers.get(b"if-none-match") == etag:
            self.transport.write(not_modified)
        else:
            self.transport.write(full)


def _serve(feeds: list[BenchFeed], sock: socket.socket, ready: Connection) -> None:
    responses = {}
    for feed in feeds:
        etag = feed.etag.encode()
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
            b"ETag: "
            + etag
            + b"\r\nContent-Length: "
            + str(len(feed.body)).encode()
            + b"\r\n\r\n"
        )
        not_modified = b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n"
        responses[feed.path.encode()] = (head + feed.body, not_modified, etag)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Protocol(responses), sock=sock)
        ready.send("ready")
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class FeedServer:
    """Run the feed server in a child process on a free loopback port."""

    def __init__(self, feeds: list[BenchFeed]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(feeds, self.sock, child), daemon=True
        )
        self.process.start()
        parent.recv()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)
        self.sock.close()
