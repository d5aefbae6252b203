"""Staff control over HTTP: a status page for a phone, and a small JSON API for scripts (`curl -X POST …/api/next`).

Stdlib only: `http.server.ThreadingHTTPServer` on a daemon thread. The server never touches the player: it serves
whatever `status_provider()` returns and hands validated commands to `command_sink(command, args)`, both called
on the server's request threads, so both must be thread-safe and quick (`CommandQueue` is a ready-made sink; the
player thread drains it).

| request                                   | answer                                                        |
|-------------------------------------------|---------------------------------------------------------------|
| GET  /                                    | the control page (HTML, inline JS, no external resources)     |
| GET  /api/status                          | status_provider() as JSON                                     |
| HEAD (either)                             | the same headers, no body (monitoring probes)                 |
| POST /api/command  {"command": C, ...}    | 202 {"accepted": {...}}; 400 bad command, 413 too big, 415 …  |
| POST /api/C  (C a command; ?item=N)       | the same, for curl                                            |
| (any, when too many connections are open) | 503, at once                                                  |

Security: beyond loopback a token is required (refusing to start without one); when a token is set, every request
must carry it (`Authorization: Bearer T` or `?token=T`), compared in constant time. Bodies are capped at 4 KB and
must be JSON; no input is ever echoed into HTML (the page is static and fills itself with textContent); responses
are `no-store`; a cross-site POST (an Origin that is not http://Host, scheme included) is refused, and without a
token a Host that is not loopback is refused (DNS rebinding).

Crowds and slow clients: a request must arrive whole within `request_deadline` seconds (not per read: a client
trickling a byte a second is cut off there), at most `max_connections` are open at once (`max_per_client` from one
address, so one phone or one attacker cannot take them all) and the ones beyond are answered 503 straight away,
and the listen backlog holds a burst. http.server is kept rather than another server library: the API serves a few
small requests a minute, these three bounds are what a thread per connection lacked (each costs one thread for at
most the deadline), and the kiosk stays on the standard library.
"""

from __future__ import annotations

import collections
import hmac
import io
import ipaddress
import json
import os
import re
import socket
import socketserver
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from vrplayer import log
from vrplayer.errors import PlayerError
from vrplayer.kiosk.control_page import PAGE, PAGE_CSP
from vrplayer.kiosk.sessionlog import json_safe

_log = log.get("kiosk.control")

COMMANDS = ("play", "next", "previous", "pause", "resume", "restart", "recenter", "reload")
MAX_BODY = 4096
_TOKEN_IN_TEXT = re.compile(r"(token)=[^&\s'\"]*", re.IGNORECASE)
REQUEST_DEADLINE = 5.0  # seconds a client has to send its whole request (a 4 KB body over a poor phone link fits)
MAX_CONNECTIONS = 64  # open at once: each is a thread while its request is read and answered
MAX_PER_CLIENT = 16  # open at once from one address
BACKLOG = 1024  # connections the kernel holds while we accept (with the standard library's 5, a burst's SYNs waited 1 s)
TOKEN_ENV = "VRPLAYER_KIOSK_TOKEN"  # how the token reaches the kiosk without showing in `ps`

StatusProvider = Callable[[], dict]
CommandSink = Callable[[str, dict], "dict | None"]


class ControlError(PlayerError):
    """The control server cannot start (no token beyond loopback, a bad address, the port is taken)."""


class Busy(Exception):
    """Raised by a command sink that cannot take more commands now; the client gets 503."""


# --- addresses -------------------------------------------------------------------------------------------------


def parse_bind(bind: str) -> tuple[str, int]:
    """"HOST:PORT", "[::1]:PORT" or just "PORT" (loopback) → (host, port); port 0 picks a free one."""
    text = bind.strip()
    if text.isdigit():
        host, port_text = "127.0.0.1", text
    elif text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ControlError(f"cannot use {bind!r} as the control address; give HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public address


def read_token_file(path: str) -> str:
    """The token a file holds (one line; white space around it dropped); ControlError saying what is wrong. Warns
    when other users may read the file."""
    try:
        # Without blocking, and only a regular file: a FIFO or a device given by mistake must not hang the kiosk.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ControlError(f"cannot read the token file {path!r}: not a regular file; put the token in a file")
            data = os.read(fd, 4097)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ControlError(f"cannot read the token file {path!r} ({exc.strerror or exc}); check the path") from None
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        text = None
    if text is None or len(data) > 4096 or any(c.isspace() for c in text):
        raise ControlError(f"the token file {path!r} must hold the token alone, on one line")
    if not text:
        raise ControlError(f"the token file {path!r} is empty; put the token in it")
    if info.st_mode & 0o077:
        _log.warning("other users can read the token file %r; chmod 600 it", path)
    return text


# --- commands --------------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A client's value quoted in an answer, cut short: the answer need not carry the whole of it back."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate_command(data: Any, items: int | None = None) -> tuple[str, dict]:
    """A request body (a dict) → (command, args); ValueError with a message for the client when it is wrong.
    `items`: how many items the programme has (a "play" beyond it is wrong), None when not known."""
    if not isinstance(data, dict):
        raise ValueError('send a JSON object like {"command": "next"}')
    unknown = sorted(set(data) - {"command", "item"})
    if unknown:
        raise ValueError(f"unknown field {_shown(unknown[0])}; only \"command\" and \"item\" are understood")
    command = data.get("command")
    if not isinstance(command, str) or command not in COMMANDS:
        raise ValueError(f"unknown command {_shown(command)}; use one of: {', '.join(COMMANDS)}")
    if command != "play":
        if "item" in data:
            raise ValueError('"item" goes only with "play"')
        return command, {}
    item = data.get("item")
    if isinstance(item, str) and item.strip().isdigit():
        item = int(item)  # from a query string
    if not isinstance(item, int) or isinstance(item, bool) or item < 1:
        raise ValueError('"play" needs "item": the item number, 1 or more')
    if items is not None and item > items:
        raise ValueError(f"no item {item}: the programme has " + (f"{items} items (1 to {items})" if items > 1 else
                                                                    "1 item" if items == 1 else "no items"))
    return command, {"item": item}


class CommandQueue:
    """A command sink for ControlServer: request threads put commands, the player thread takes them, in order.

    Bounded: if the player stops taking commands, staff get 503 instead of a pile-up that would all run at once
    when it recovers.
    """

    def __init__(self, maxsize: int = 16):
        self._waiting: collections.deque[tuple[str, dict]] = collections.deque()
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def __call__(self, command: str, args: dict) -> dict:
        with self._lock:
            if len(self._waiting) >= self._maxsize:
                raise Busy("the player has not taken the last commands yet; try again in a moment")
            self._waiting.append((command, dict(args)))
            return {"queued": len(self._waiting)}

    def take(self, when: Callable[[str, dict], bool] | None = None) -> tuple[str, dict] | None:
        """The oldest command waiting, or None; with `when`, only if when(command, args) is true for it (else it
        stays first in line, and so do the ones behind it). Never blocks."""
        with self._lock:
            if self._waiting and (when is None or when(*self._waiting[0])):
                return self._waiting.popleft()
            return None

    def drain(self) -> list[tuple[str, dict]]:
        """Every command waiting, oldest first; never blocks."""
        with self._lock:
            taken = list(self._waiting)
            self._waiting.clear()
            return taken


def _json_bytes(value: Any) -> bytes:
    text = json.dumps(json_safe(value), ensure_ascii=False, default=str)
    # Harmless in JSON, and a JSON answer can then never be read as markup by anything.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


# --- the server ------------------------------------------------------------------------------------------------


_BUSY = _json_bytes({"error": "the kiosk is busy with too many connections; try again in a moment"})
_BUSY_ANSWER = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: %d\r\nRetry-After: 1\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" % len(_BUSY)
) + _BUSY


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request in progress must not keep the player from exiting
    request_queue_size = BACKLOG

    def __init__(self, address: tuple[str, int], control: ControlServer):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.control = control
        self._open: collections.Counter[str] = collections.Counter()  # connections open, by client address
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up our FQDN, which can take seconds on a machine with no DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    # On the accepting thread: a connection beyond the caps gets its 503 there and then, and never a thread.

    def process_request(self, request, client_address) -> None:
        client = client_address[0]
        with self._open_lock:
            admitted = (sum(self._open.values()) < self.control.max_connections
                        and self._open[client] < self.control.max_per_client)
            if admitted:
                self._open[client] += 1
        if not admitted:
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:  # no thread to give the place back: give it back here
            self._release(client)
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(client_address[0])

    def _release(self, client: str) -> None:
        with self._open_lock:
            self._open[client] -= 1
            if self._open[client] <= 0:
                del self._open[client]

    def _refuse(self, request: socket.socket) -> None:
        try:
            request.setblocking(False)  # the accepting thread never waits on a client
            try:
                request.recv(65536)  # what the client already sent: closing on unread data would reset the
            except OSError:          # connection before it reads our answer
                pass
            request.send(_BUSY_ANSWER)  # a few hundred bytes: a new connection's buffer takes them at once
        except OSError:
            pass
        self.shutdown_request(request)


class ControlServer:
    """The staff HTTP API on a daemon thread. The constructor (bad address) and start() raise ControlError."""

    def __init__(self, bind: str, status_provider: StatusProvider, command_sink: CommandSink, token: str | None = None,
                 *, items: Callable[[], int] | None = None, request_deadline: float = REQUEST_DEADLINE,
                 max_connections: int = MAX_CONNECTIONS, max_per_client: int = MAX_PER_CLIENT,
                 page: tuple[bytes, str] = (PAGE, PAGE_CSP), commands: tuple[str, ...] = COMMANDS,
                 validate: Callable[[Any, int | None], tuple[str, dict]] = None, query_fields: tuple[str, ...] = ("item",),
                 name: str = "kiosk"):
        """`items`: how many items the programme has now (it changes on reload), so that a "play" beyond it is
        refused at once; None: the sink checks. Another room's page (a screening room's conductor) brings its own
        `page` (HTML, its Content-Security-Policy), `commands` (the /api/C addresses), `validate(body, items)` and
        the `query_fields` a /api/C?…  address may carry."""
        self.host, self._port = parse_bind(bind)
        self.bind = bind
        self.status_provider = status_provider
        self.command_sink = command_sink
        self.token = token or None  # "" is no token
        self.items = items
        self.request_deadline = request_deadline
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.page, self.page_csp = page
        self.commands = commands
        self.validate = validate or validate_command
        self.query_fields = query_fields
        self.name = name
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._last_status_error: str | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one picked, when asked for port 0)."""
        return self._server.server_address[1] if self._server else self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        if self.token is None and not is_loopback(self.host):
            raise ControlError(
                f"the control server on {self.bind} would be reachable from the network without a token; "
                "pass a token (or bind to 127.0.0.1)"
            )
        if self.token is not None and not is_loopback(self.host) and len(self.token) < 12:
            _log.warning("the control token is short (%d characters); use 12 or more on a shared network", len(self.token))
        try:
            self._server = _Server((self.host, self._port), self)
        except OSError as exc:
            raise ControlError(f"cannot listen on {self.bind} ({exc.strerror or exc}); pick another address or port") from None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{self.name}-control", daemon=True)
        self._thread.start()
        _log.info("control page on %s%s", self.url, " (token required)" if self.token else "")

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # Called by the handler threads.

    def status(self) -> tuple[int, dict]:
        try:
            status = self.status_provider()
            self._last_status_error = None
            return 200, status
        except Exception as exc:  # the player's bug must not take the staff page down with it
            message = f"{type(exc).__name__}: {exc}"
            if message != self._last_status_error:  # once per distinct failure, not once per poll
                _log.warning("status for the control page failed: %s", message)
                self._last_status_error = message
            return 500, {"error": "the player's status is not available"}

    def command(self, data: Any) -> tuple[int, dict]:
        try:
            command, args = self.validate(data, self.items() if self.items is not None else None)
        except ValueError as exc:
            return 400, {"error": str(exc)}
        try:
            result = self.command_sink(command, args)
        except Busy as exc:
            return 503, {"error": str(exc)}
        except ValueError as exc:  # the sink's own check, e.g. an item number beyond the programme
            return 400, {"error": str(exc)}
        except Exception:
            _log.exception("command %s %s was not taken", command, args)
            return 500, {"error": "the player did not take the command"}
        _log.info("staff command: %s%s", command, "".join(f" {k}={v}" for k, v in args.items()))
        answer = {"accepted": {"command": command, **args}}
        if result is not None:
            answer["result"] = result
        return 202, answer

    def check_token(self, candidates: list[str]) -> bool:
        if self.token is None:
            return True
        expected = self.token.encode()
        # compare_digest on every candidate, so timing says nothing about which or how much matched.
        matches = [hmac.compare_digest(c.encode(), expected) for c in candidates]
        return any(matches)


class _DeadlineReader(io.RawIOBase):
    """A connection's reads, which all end by `deadline` (time.monotonic()): a per-read timeout alone lets a client
    that trickles a byte at a time keep its connection, and its thread, for as long as it likes."""

    def __init__(self, connection: socket.socket, deadline: float):
        self._connection = connection
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._connection.settimeout(remaining)
        return self._connection.recv_into(buffer)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "vrplayer-kiosk"
    sys_version = ""
    _head = False  # answering HEAD: headers as for GET, no body

    # -- plumbing

    def setup(self) -> None:
        deadline = self.server.control.request_deadline
        self.timeout = deadline  # for the answer's writes
        super().setup()
        self.rfile.close()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, time.monotonic() + deadline))

    def end_headers(self) -> None:
        # On every answer, error pages from BaseHTTPRequestHandler included.
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        # http.server's own lines (errors, timeouts) may quote the request line, query string and token included.
        _log.debug("%s %s", self.client_address[0], _TOKEN_IN_TEXT.sub(r"\1=…", format % args))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Our own line, without the query string: it may hold the token.
        path = urlsplit(getattr(self, "path", "") or "").path
        _log.debug("%s %s %s %s", self.client_address[0], getattr(self, "command", None), path, int(code) if str(code).isdigit() else code)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.connection.settimeout(self.server.control.request_deadline)  # the reads may have left it nearly spent
        if not self._head:
            self.wfile.write(body)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, _json_bytes(value), "application/json; charset=utf-8", headers)

    def _error(self, status: int, message: str, api: bool = True, headers: dict[str, str] | None = None) -> None:
        if api:
            self._json(status, {"error": message}, headers)
        else:
            self._send(status, (message + "\n").encode(), "text/plain; charset=utf-8", headers)

    def _discard_body(self) -> None:
        # Read what the client sent before answering early: closing on unread data resets the connection, and the
        # client would see a reset instead of our answer. Not past 64 KB: a huge body is simply cut off.
        length = self._content_length()
        if length and 0 < length <= 65536:
            try:
                self.rfile.read(length)
            except OSError:
                pass

    def _content_length(self) -> int | None:
        try:
            return int(self.headers.get("Content-Length", ""))
        except ValueError:
            return None

    # -- checks shared by every request

    def _admitted(self, query: dict[str, list[str]], api: bool) -> bool:
        control = self.server.control
        host = urlsplit("//" + (self.headers.get("Host") or "")).hostname
        if control.token is None and host and not is_loopback(host):
            # Without a token only this machine may talk to us; a page on another site whose name resolves to
            # 127.0.0.1 (DNS rebinding) would send its own name as Host.
            self._discard_body()
            self._error(403, "this kiosk answers only to localhost without a token", api)
            return False
        candidates = query.get("token", [])[:1]
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer":
            candidates.append(value.strip())
        if not control.check_token(candidates):
            self._discard_body()
            self._error(401, "missing or wrong token: add ?token=TOKEN to the address, or send 'Authorization: Bearer TOKEN'",
                        api, {"WWW-Authenticate": 'Bearer realm="vrplayer kiosk"'})
            return False
        return True

    # -- methods

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        api = url.path.startswith("/api/")
        if not self._admitted(parse_qs(url.query), api):
            return
        if url.path in ("/", "/index.html"):
            control = self.server.control
            self._send(200, control.page, "text/html; charset=utf-8", {"Content-Security-Policy": control.page_csp, "X-Frame-Options": "DENY"})
        elif url.path == "/api/status":
            self._json(*self.server.control.status())
        elif url.path == "/api/command" or url.path.removeprefix("/api/") in self.server.control.commands:
            self._error(405, "use POST for commands", headers={"Allow": "POST"})
        else:
            self._error(404, "no such page; try / or /api/status", api)

    def do_HEAD(self) -> None:  # noqa: N802 - monitoring probes: the GET's status and headers, without its body
        self._head = True
        self.do_GET()

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if not self._admitted(query, True):
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() != "http://" + (self.headers.get("Host") or "").lower():
            # Browsers send Origin on cross-site POSTs: another site's page must not drive the kiosk. We speak only
            # plain HTTP, so a page of https://our-host is another site too.
            self._discard_body()
            self._error(403, "commands from another site's page are refused")
            return
        name = url.path.removeprefix("/api/")
        if url.path == "/api/command":
            data = self._read_json(required=True)
        elif url.path.startswith("/api/") and name in self.server.control.commands:
            # curl convenience: POST /api/next, POST /api/play?item=3 (a JSON body may add "item" too).
            data = self._read_json(required=False)
            if data is not None:
                if not isinstance(data, dict):
                    self._error(400, 'send a JSON object like {"item": 3}, or nothing')
                    return
                if "command" in data and data["command"] != name:
                    self._error(400, f"the address says {name!r} but the body says {data['command']!r}")
                    return
                data = {**data, "command": name}
                for field in self.server.control.query_fields:
                    if field in query:
                        data.setdefault(field, query[field][0])
        else:
            self._discard_body()
            self._error(404, "no such command address; POST /api/command or /api/<command>")
            return
        if data is not None:
            self._json(*self.server.control.command(data))

    def _read_json(self, required: bool) -> Any:
        """The JSON body; {} for an allowed empty body; None when an error answer was already sent."""
        if self.headers.get("Transfer-Encoding"):
            self._error(411, "send the body with a Content-Length")
            return None
        length = self._content_length()
        if (length is None and "Content-Length" in self.headers) or (length is not None and length < 0):
            self._error(400, "bad Content-Length")
            return None
        if not length:
            if required:
                self._error(400, 'send a JSON object like {"command": "next"}')
                return None
            return {}
        if length > MAX_BODY:
            self._discard_body()
            self._error(413, f"the body is too large ({length} bytes; at most {MAX_BODY})")
            return None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body = self.rfile.read(length)
        if content_type != "application/json":
            self._error(415, "send the body as application/json")
            return None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._error(400, "the body is not valid JSON")
            return None
        except RecursionError:
            self._error(400, "the body is nested too deeply; send a flat JSON object like {\"command\": \"next\"}")
            return None
