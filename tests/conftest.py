"""Shared test fixtures: a real HTTP server on 127.0.0.1 whose answers each test sets, and the offline
demo's output, made once for the whole session.

Tests never mock the transport: they talk to this server over a real socket.

The suite runs on every core (pytest-xdist), two workers a core. Tests marked ``slow`` are handed out
first, one at a time, so that no worker is left with a long test at the end while the others wait.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for ``-n auto``: two for each core this process may use. Many tests spend their time
    waiting (on a socket, a timeout, a retry's pause, a child process) rather than computing, and a
    second worker keeps the core busy meanwhile."""
    return 2 * len(os.sched_getaffinity(0))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, in the order they were collected; the rest after them, in theirs."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (to provoke timeouts)."""
    truncate: bool = False
    """Announce the full Content-Length but send only half of the body, then close."""
    chunked: bool = False
    """Send the body with chunked transfer encoding and no Content-Length (as a streamed page would)."""
    reset: bool = False
    """Announce the full Content-Length, send half of the body, then reset the connection (TCP RST)."""
    trickle: float = 0.0
    """Seconds to wait between 1 KB pieces of the body (a body slower than the fetch timeout)."""


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    time: float


Handler = Callable[[Request], Response]


class PageServer:
    """Serves ``routes`` (path -> Response, a list of Responses used in turn, or a callable).

    Every request is logged in ``requests``. A list route answers with its items in order and then keeps
    answering with the last one. ``port`` 0 takes a free port; a given one lets a test bring a server back
    where a stopped one was (a site that was down comes back).
    """

    def __init__(self, port: int = 0) -> None:
        self.routes: dict[str, Response | list[Response] | Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each body waits ~40 ms for the ACK of its headers

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                request = Request("GET", self.path, dict(self.headers.items()), time.monotonic())
                response = server._answer(request)
                if response.delay:
                    time.sleep(response.delay)
                body = response.body
                try:
                    self.send_response(response.status)
                    headers = {"Content-Type": "text/html; charset=utf-8", **response.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if response.chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        for start in range(0, len(body), 1024):
                            part = body[start : start + 1024]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    self.send_header("Content-Length", str(len(body)))
                    if response.truncate or response.reset:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if response.reset:
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        self.connection.close()  # with a zero linger: an RST, not a FIN
                        self.close_connection = True
                    elif response.trickle:
                        for start in range(0, len(body), 1024):
                            self.wfile.write(body[start : start + 1024])
                            self.wfile.flush()
                            time.sleep(response.trickle)
                    elif response.truncate:
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            route = self.routes.get(
                request.path.split("?", 1)[0] if request.path not in self.routes else request.path
            )
            if route is None:
                return Response(404, b"<html><body><h1>Page not found</h1></body></html>")
            if callable(route):
                return route(request)
            if isinstance(route, list):
                return route.pop(0) if len(route) > 1 else route[0]
            return route

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def start(self) -> PageServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def page_server() -> PageServer:
    server = PageServer().start()
    yield server
    server.stop()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@dataclass(frozen=True)
class DemoRun:
    """What ``guidance-monitor demo --out OUT`` left and printed."""

    out: Path
    stdout: str
    leftovers: tuple[str, ...]
    """Files of an earlier run that were in OUT before this one (it must start afresh without them)."""


def run_demo(out: Path) -> subprocess.CompletedProcess[str]:
    """``python -m monitor demo --out OUT``, as a newcomer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def made_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], str]
) -> tuple[Path, str]:
    """The folder ``name``, filled by ``make`` once for the whole test run, and what ``make`` printed.

    Under pytest-xdist each worker has its own session, so a session fixture alone would be made once per
    worker: the folder lies in the run's shared temporary folder instead, and the first worker to need it
    makes it while holding a lock that the others wait on (the way pytest-xdist's documentation shares a
    session fixture)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    out, printed = root / name, root / f"{name}.stdout"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not printed.exists():
            out.mkdir(exist_ok=True)  # a worker whose make failed may have left it
            printed.write_text(make(out), encoding="utf-8")
    return out, printed.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo run once, as a newcomer runs it (``python -m monitor demo --out OUT``), for every test that
    reads what it leaves: its database, digests, site and what it printed. Tests read OUT and never change
    it (a test that needs to change it works on a copy).

    OUT already holds what an earlier run would have left there that the demo must not keep: a database
    and its write-ahead log (here not even SQLite files, so a run that kept them would fail), and a digest.
    """
    from monitor.demo import demo_config_text

    leftovers = ("monitor.db", "monitor.db-wal", "digest-20200101T0000Z.eml")

    def make(out: Path) -> str:
        for name in leftovers:
            (out / name).write_bytes(b"left by an earlier run\n")
        (out / "config.yaml").write_text(demo_config_text(out), encoding="utf-8")  # an earlier demo's
        result = run_demo(out)
        assert result.returncode == 0, result.stderr
        return result.stdout

    out, stdout = made_once(tmp_path_factory, "demo", make)
    return DemoRun(out, stdout, leftovers)


@pytest.fixture(scope="session")
def demo_again(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """A second demo run, into a new folder, for the tests that compare two replays of the same captures.
    Like ``demo_run`` it is only read (a test that changes it works on a copy)."""

    def make(out: Path) -> str:
        result = run_demo(out)
        assert result.returncode == 0, result.stderr
        return result.stdout

    out, stdout = made_once(tmp_path_factory, "demo-again", make)
    return DemoRun(out, stdout, ())
