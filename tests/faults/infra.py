"""Real infrastructure faults, bounded and local: a TCP proxy between the application and a
server it needs (PostgreSQL, Redis), and a real web server process (gunicorn) that reaches its
database and broker through such a proxy.

The proxy is how a test takes a server away without touching the machine's shared one (other
tests, and this suite's own test database, use it): :meth:`TcpProxy.cut` drops every open
connection mid-flight and refuses new ones, which is what a restart looks like from the
client's side, until :meth:`TcpProxy.restore` listens again on the same port.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``, one pair of threads per connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.accepted = 0  # connections made through the proxy, over its whole life
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._up = threading.Event()

    @property
    def down(self) -> bool:
        return not self._up.is_set()

    def start(self) -> TcpProxy:
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)  # the accept loop notices a cut within this
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._up.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self._up.is_set() and self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if not self._up.is_set():
                    client.close()
                    upstream.close()
                    continue
                self._sockets |= {client, upstream}
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._drop(s)

    def _drop(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()

    def cut(self) -> None:
        """The server goes away: open connections are dropped, new ones refused."""
        with self._lock:
            self._up.clear()
            listener, self._listener = self._listener, None
            sockets = list(self._sockets)
        if listener is not None:
            listener.close()
        for s in sockets:
            self._drop(s)

    def restore(self) -> None:
        """The server is back, on the same address."""
        if self.down:
            self._listen()

    def close(self) -> None:
        self.cut()


def database_url(*, port: int | None = None) -> str:
    """A URL for this test's database (the one pytest-django made), optionally through a
    proxy on ``port``."""
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = "127.0.0.1" if port else db.get("HOST") or "127.0.0.1"
    return f"postgres://{auth}{host}:{port or db.get('PORT') or 5432}/{db['NAME']}"


def through(url: str, proxy: TcpProxy) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    auth = f"{netloc[0]}@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{proxy.port}"))


@dataclass
class WebServer:
    """A gunicorn process serving this checkout; ``url`` is its base (no trailing slash)."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_web(env: dict[str, str], folder: Path, *, threads: int = 4) -> WebServer:
    """gunicorn (one worker, ``threads`` threads) with ``env`` over the test's environment,
    on a free port; returns once ``/healthz`` answers 200."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "gunicorn.log"
    full = {
        **os.environ,
        "DEBUG": "true",
        "VAR_DIR": str(folder / "var"),
        "LOG_LEVEL": "WARNING",
        **env,
    }
    full.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "annotator.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--graceful-timeout",
                "3",
            ],
            cwd=ROOT,
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = WebServer(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited with {proc.returncode}:\n{server.output()}")
        try:
            status, body = http(server.url + "/healthz", timeout=5)
            if status == 200:
                return server
            last = f"{status} {body}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"gunicorn did not become healthy in 60 s ({last}):\n{server.output()}")


def http(
    url: str,
    *,
    method: str = "GET",
    body: Any = None,
    token: str | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    """One request; (status, parsed JSON body or text) for every HTTP answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, headers = error.code, error.read(), error.headers
    text = raw.decode("utf-8", "replace")
    if headers.get_content_type() == "application/json" and text:
        return status, json.loads(text)
    return status, text
