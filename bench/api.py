"""Target T6: reads and validated writes of the integration API under load.

The target: service reads reach at least half the throughput of a Django view
that renders a template per request, with p99 latency of at most 70 ms.
Validated writes are measured and reported without a target.

Everything runs on loopback in one call of ``run_api_bench``. Two gunicorn
servers with the same options (2 sync workers) serve the anchor project of
``bench.anchor_app`` and ``govportal.wsgi:application`` on the scratch
database that ``bench.ingest.configure_django`` created.

The load generator is wrk (one thread) when it is installed, else a single
asyncio process with raw sockets, both with a fixed number of connections.
On a 2-core machine the Python client uses most of a core at 2,500 req/s and
caps the anchor at about half of what wrk measures, so prefer wrk.
gunicorn's sync workers close the connection after every response, so each
request opens a new connection. wrk times a request from writing it to the
last body byte, and the Python client from connecting to the last body byte.
"""

import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKERS = 2
SERVER_START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
SERVICE_BODY = {
    "name_zh": "護照申請",
    "name_en": "Passport application",
    "content_zh": "申請普通護照，需本人親自到外交部領事事務局或各辦事處辦理，"
    "首次申請者需備妥相關文件。",
    "content_en": "Apply for an ordinary passport in person.",
    "methods": ["counter"],
    "contact_phone": "(02)2343-2888",
    "categories": ["public-information"],
}


@dataclass
class LoadResult:
    """Throughput and latency of one fixed-duration load run."""

    client: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failed: int
    # Fraction of one core the load generator used, measured for Python only.
    client_cpu_share: float | None = None


@dataclass
class _Samples:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """A gunicorn process serving one WSGI application on a loopback port."""

    def __init__(self, app: str, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "--chdir",
            str(REPO),
            app,
        ]
        self.process = subprocess.Popen(command, env={**os.environ, **extra_env})
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with code {self.process.returncode} "
                    f"before listening on port {self.port}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"gunicorn did not listen on port {self.port} within "
            f"{SERVER_START_TIMEOUT:.0f} s"
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def build_request(
    method: str, port: int, path: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("PUT", "POST"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def send_request(port: int, request: bytes) -> tuple[int, bytes]:
    """Send one request on a new connection and return the status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            body = await reader.read()
        else:
            body = await reader.readexactly(length)
        return status, body
    finally:
        writer.close()


async def _load(port: int, make_request, connections: int, duration: float):
    samples = _Samples()
    deadline = time.monotonic() + duration

    async def connection_loop() -> None:
        while time.monotonic() < deadline:
            request = make_request()
            started = time.perf_counter()
            try:
                status, _body = await asyncio.wait_for(
                    send_request(port, request), REQUEST_TIMEOUT
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                samples.errors += 1
                continue
            samples.latencies.append(time.perf_counter() - started)
            samples.statuses[status] += 1

    await asyncio.gather(*(connection_loop() for _ in range(connections)))
    return samples


def measure_python(
    port: int, make_request, connections: int, duration: float, warmup: float
) -> LoadResult:
    """Run a warm-up whose numbers are dropped, then the measured run."""
    asyncio.run(_load(port, make_request, connections, warmup))
    cpu_started = time.process_time()
    samples = asyncio.run(_load(port, make_request, connections, duration))
    cpu = time.process_time() - cpu_started
    cuts = statistics.quantiles(samples.latencies, n=100, method="inclusive")
    not_ok = sum(n for status, n in samples.statuses.items() if status >= 400)
    return LoadResult(
        client="python",
        requests=len(samples.latencies),
        requests_per_second=len(samples.latencies) / duration,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        failed=not_ok + samples.errors,
        client_cpu_share=cpu / duration,
    )


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(output: str, percent: str) -> float:
    match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if match is None:
        raise RuntimeError(f"wrk output has no {percent}% latency:\n{output}")
    return float(match.group(1)) * WRK_UNITS[match.group(2)]


def _wrk_count(pattern: str, output: str) -> int:
    return sum(int(n) for n in re.findall(pattern, output))


def measure_wrk(
    port: int, script: str, connections: int, duration: float, warmup: float
) -> LoadResult:
    """Run wrk with a Lua request script: a dropped warm-up, then the run."""
    with tempfile.NamedTemporaryFile(
        "w", suffix=".lua", encoding="utf-8", delete=False
    ) as lua:
        lua.write(script)
    url = f"http://127.0.0.1:{port}/"

    def wrk(seconds: float) -> str:
        command = ["wrk", "--threads", "1", "--connections", str(connections)]
        command += ["--duration", f"{max(1, round(seconds))}s", "--timeout", "30s"]
        command += ["--latency", "--script", lua.name, url]
        done = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        )
        if done.stderr.strip():
            raise RuntimeError(f"wrk reported an error: {done.stderr.strip()}")
        return done.stdout

    try:
        wrk(warmup)
        output = wrk(duration)
    finally:
        os.unlink(lua.name)
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if total is None or rate is None:
        raise RuntimeError(f"wrk output has no request count:\n{output}")
    failed = _wrk_count(r"Non-2xx or 3xx responses: (\d+)", output)
    failed += _wrk_count(r"(?:connect|read|write|timeout) (\d+)", output)
    return LoadResult(
        client="wrk",
        requests=int(total.group(1)),
        requests_per_second=float(rate.group(1)),
        p50_ms=_wrk_ms(output, "50"),
        p99_ms=_wrk_ms(output, "99"),
        failed=failed,
    )


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(
    method: str,
    paths: list[str],
    headers: dict[str, str],
    body: str | None = None,
    numbered: bool = False,
) -> str:
    """Return a wrk script that requests random paths, seeded for repeatability.

    With ``numbered``, the body's ``{n}`` becomes a counter, so every request
    sends different data.
    """
    lines = ["math.randomseed(6)"]
    lines += [
        f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items()
    ]
    lines.append("local paths = {" + ", ".join(lua_string(p) for p in paths) + "}")
    lines.append("local counter = 0")
    if body is None:
        body_expression = "nil"
    elif numbered:
        before, after = body.split("{n}")
        body_expression = f"{lua_string(before)} .. counter .. {lua_string(after)}"
    else:
        body_expression = lua_string(body)
    lines += [
        "request = function()",
        "  counter = counter + 1",
        "  local path = paths[math.random(#paths)]",
        f'  return wrk.format("{method}", path, nil, {body_expression})',
        "end",
    ]
    return "\n".join(lines) + "\n"


def create_key() -> str:
    """Create one agency with a production key in the scratch database."""
    from govportal.agencies.models import Agency
    from govportal.api.keys import issue_key
    from govportal.api.models import Environment

    agency = Agency.objects.create(code="A15000000A", name_zh="內政部")
    return issue_key(agency, Environment.PRODUCTION, label="benchmark").secret


def seed_services(port: int, key: str, count: int) -> list[str]:
    """Create ``count`` services through the API and return their ids."""
    ids = [f"S-{n:04d}" for n in range(count)]
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Connection": "close",
    }
    body = json.dumps(SERVICE_BODY, ensure_ascii=False).encode()

    async def seed() -> None:
        for service_id in ids:
            request = build_request(
                "PUT", port, f"/api/v2/services/{service_id}", headers, body
            )
            status, answer = await send_request(port, request)
            if status != 201:
                raise RuntimeError(
                    f"seeding {service_id} failed with {status}: {answer[:300]!r}"
                )

    asyncio.run(seed())
    return ids


def fetch_body(port: int, path: str, key: str) -> bytes:
    headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
    status, body = asyncio.run(
        send_request(port, build_request("GET", port, path, headers))
    )
    if status != 200:
        raise RuntimeError(f"GET {path} failed with {status}: {body[:300]!r}")
    return body


def _python_runs(
    anchor_port: int, port: int, key: str, ids: list[str]
) -> dict[str, tuple[int, object]]:
    rng = random.Random(6)
    changes = iter(range(10**9))
    plain = {"Connection": "close"}
    auth = {"Authorization": f"Bearer {key}", "Connection": "close"}
    writes = {**auth, "Content-Type": "application/json"}
    stored = build_request("GET", anchor_port, "/stored", plain)
    rendered = build_request("GET", anchor_port, "/rendered", plain)
    same_body = json.dumps(SERVICE_BODY, ensure_ascii=False).encode()

    def read_request() -> bytes:
        path = f"/api/v2/services/{rng.choice(ids)}"
        return build_request("GET", port, path, auth)

    def same_put_request() -> bytes:
        path = f"/api/v2/services/{rng.choice(ids)}"
        return build_request("PUT", port, path, writes, same_body)

    def changed_put_request() -> bytes:
        path = f"/api/v2/services/{rng.choice(ids)}"
        name = f"Passport application {next(changes)}"
        body = json.dumps({**SERVICE_BODY, "name_en": name}, ensure_ascii=False)
        return build_request("PUT", port, path, writes, body.encode())

    return {
        "anchor_stored": (anchor_port, lambda: stored),
        "anchor_rendered": (anchor_port, lambda: rendered),
        "read": (port, read_request),
        "put_same": (port, same_put_request),
        "put_changed": (port, changed_put_request),
    }


def _wrk_runs(
    anchor_port: int, port: int, key: str, ids: list[str]
) -> dict[str, tuple[int, object]]:
    auth = {"Authorization": f"Bearer {key}"}
    writes = {**auth, "Content-Type": "application/json"}
    paths = [f"/api/v2/services/{service_id}" for service_id in ids]
    same_body = json.dumps(SERVICE_BODY, ensure_ascii=False)
    numbered = {**SERVICE_BODY, "name_en": "Passport application {n}"}
    changed_body = json.dumps(numbered, ensure_ascii=False)
    return {
        "anchor_stored": (anchor_port, wrk_script("GET", ["/stored"], {})),
        "anchor_rendered": (anchor_port, wrk_script("GET", ["/rendered"], {})),
        "read": (port, wrk_script("GET", paths, auth)),
        "put_same": (port, wrk_script("PUT", paths, writes, same_body)),
        "put_changed": (
            port,
            wrk_script("PUT", paths, writes, changed_body, numbered=True),
        ),
    }


def run_api_bench(
    services: int = 200,
    connections: int = 50,
    duration: float = 8.0,
    warmup: float = 1.0,
    client: str = "auto",
) -> dict[str, LoadResult]:
    """Measure the anchor views and our reads and writes, one result each.

    ``client`` is ``wrk``, ``python`` or ``auto`` (wrk when it is on PATH).
    Expects Django set up on a migrated scratch database, as
    ``bench.ingest.configure_django`` leaves it.
    """
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    key = create_key()
    scratch = Path(tempfile.mkdtemp(prefix="govportal-bench-api-"))
    # The per-key limit (120 a minute by default) would return 429 at once.
    ours = Gunicorn(
        "govportal.wsgi:application",
        {"GOVPORTAL_API_RATE_LIMIT_PER_MINUTE": "1000000000"},
    )
    anchor: Gunicorn | None = None
    try:
        ids = seed_services(ours.port, key, services)
        body_file = scratch / "service.json"
        first = f"/api/v2/services/{ids[0]}"
        body_file.write_bytes(fetch_body(ours.port, first, key))
        anchor = Gunicorn(
            "bench.anchor_app:application", {"BENCH_ANCHOR_BODY": str(body_file)}
        )
        results = {}
        if client == "wrk":
            for name, (port, script) in _wrk_runs(
                anchor.port, ours.port, key, ids
            ).items():
                results[name] = measure_wrk(port, script, connections, duration, warmup)
        else:
            for name, (port, make_request) in _python_runs(
                anchor.port, ours.port, key, ids
            ).items():
                results[name] = measure_python(
                    port, make_request, connections, duration, warmup
                )
        return results
    finally:
        ours.stop()
        if anchor is not None:
            anchor.stop()
