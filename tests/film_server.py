"""The tests' own web server for films: serves a folder over HTTP with Range (or, asked, ignoring it as Python's
http.server does), and misbehaves on request — cutting every connection after some bytes, trickling at a set rate,
stalling, answering 404 for chosen files — and keeps a log of what it was asked."""

from __future__ import annotations

import email.utils
import http.server
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Behaviour:
    ranges: bool = True  # honour Range requests (False: every answer is the whole file, 200)
    cut_after: int | None = None  # close each connection after sending this many bytes of a body
    rate: float | None = None  # bytes per second, per connection
    missing: set = field(default_factory=set)  # names answered with 404
    flaky: set = field(default_factory=set)  # names answered 503 the first time they are asked for
    slow_from: tuple[str, float] | None = None  # (regex, rate): from the first request matching, this rate for all
    stall_after: int | None = None  # stop sending (without closing) after this many bytes, once, for stall_seconds
    stall_seconds: float = 0.0


class FilmServer:
    def __init__(self, folder: Path, behaviour: Behaviour | None = None, host: str = "127.0.0.1"):
        self.folder = Path(folder)
        self.behaviour = behaviour or Behaviour()
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.sent = 0  # body bytes sent, all connections together
        self.cuts: list[int] = []  # the byte of the file at which each connection was cut
        self._stalled = False
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self.do_GET(body=False)

            def do_GET(self, body: bool = True) -> None:
                server._answer(self, body)

        self.host = host
        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # a client that hung up (a player that quit mid-download) is no error of the server's

        self._httpd = Server((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/{name}"

    def __enter__(self) -> FilmServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def range_starts(self, name: str) -> list[int]:
        """Where each ranged request for `name` started, in order."""
        return [int(re.match(r"bytes=(\d+)", header).group(1)) for path, header in self.requests
                if path.lstrip("/") == name and header and re.match(r"bytes=(\d+)", header)]

    def _answer(self, handler, body: bool) -> None:
        path = handler.path.split("?", 1)[0]
        header = handler.headers.get("Range")
        self.requests.append((path, header))
        behaviour = self.behaviour
        name = path.lstrip("/")
        if behaviour.slow_from is not None and re.search(behaviour.slow_from[0], name):
            behaviour.rate, behaviour.slow_from = behaviour.slow_from[1], None  # (the link drops: before this answer)
        file = (self.folder / name).resolve()
        if name in behaviour.flaky:
            behaviour.flaky.discard(name)
            handler.send_response(503)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if name in behaviour.missing or not file.is_file() or self.folder.resolve() not in file.parents:
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        size = file.stat().st_size
        etag = f'"{file.stat().st_mtime_ns:x}-{size:x}"'
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        first, last = 0, size - 1
        match = re.match(r"bytes=(\d*)-(\d*)$", header or "")
        if_range = handler.headers.get("If-Range")
        partial = behaviour.ranges and match is not None and (if_range is None or if_range == etag)
        if partial:
            if match.group(1):
                first = int(match.group(1))
                last = min(size - 1, int(match.group(2))) if match.group(2) else size - 1
            else:  # a suffix: the last N bytes
                first = max(0, size - int(match.group(2)))
            if first >= size:
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{size}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
        handler.send_response(206 if partial else 200)
        if partial:
            handler.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        if behaviour.ranges:
            handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", email.utils.formatdate(file.stat().st_mtime, usegmt=True))
        handler.send_header("Content-Type", "video/mp4" if name.endswith(".mp4") else "application/octet-stream")
        handler.send_header("Content-Length", str(last - first + 1))
        handler.end_headers()
        if not body:
            return
        self._send(handler, file, first, last)

    def _send(self, handler, file: Path, first: int, last: int) -> None:
        behaviour = self.behaviour
        sent = 0
        # Throttled, in pieces of 20 ms of the rate: a link's burst, not a whole segment sent at once.
        chunk = 16 * 1024 if not behaviour.rate else max(1024, min(16 * 1024, int(behaviour.rate / 50)))
        started = time.monotonic()
        with open(file, "rb") as source:
            source.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                if behaviour.cut_after is not None and sent >= behaviour.cut_after:
                    self.cuts.append(first + sent)
                    handler.close_connection = True
                    handler.connection.shutdown(2)  # cut: the client sees the connection drop mid-body
                    return
                if behaviour.stall_after is not None and not self._stalled and self.sent >= behaviour.stall_after:
                    self._stalled = True
                    time.sleep(behaviour.stall_seconds)
                data = source.read(min(chunk, remaining))
                try:
                    handler.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    return
                sent += len(data)
                self.sent += len(data)
                remaining -= len(data)
                if behaviour.rate:
                    ahead = sent / behaviour.rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
