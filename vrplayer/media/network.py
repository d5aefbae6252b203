"""Films on a web server: opening an http(s) URL with FFmpeg's reconnecting reader, saying in one line why a link
does not play, and a seekable file over HTTP range requests for our own metadata readers.

FFmpeg reads a progressive film with range requests (the index at the end of a film not made with `+faststart` is
fetched by one, a seek is one more) and, with `reconnect*` set, asks again from the byte it reached when a
connection drops. A server that ignores Range answers every request with the whole file from its first byte: a film
whose index is at its end then cannot be opened, and nothing can be sought.
"""

from __future__ import annotations

import errno
import socket
import urllib.error
import urllib.parse
import urllib.request

import av

from vrplayer import log
from vrplayer.errors import MediaError

_log = log.get("media.network")

SCHEMES = ("http", "https")
# FFmpeg's HTTP reader (libavformat/http.c): reconnect from the byte reached when a connection drops or errors, and
# on a stream that cannot be sought (a server without Range), waiting at most this many seconds between tries.
RECONNECT_OPTIONS = {
    "reconnect": "1", "reconnect_on_network_error": "1", "reconnect_streamed": "1", "reconnect_delay_max": "4",
    "reconnect_on_http_error": "5xx",
}
CONNECT_TIMEOUT = 10.0  # seconds to open (connect, headers, the film's index)
READ_TIMEOUT = 10.0  # seconds a read may wait for data before FFmpeg gives up on it (and reconnects)
_PROBE_TIMEOUT = 5.0


def is_url(path) -> bool:
    return isinstance(path, str) and urllib.parse.urlsplit(path).scheme.lower() in SCHEMES


def open_binary(path):
    """A film's bytes for our own readers: the file, or for a URL a RangeFile (OSError when neither can be read)."""
    return RangeFile(path) if is_url(path) else open(path, "rb")


def open_url(url: str):
    """The film at `url`, opened by FFmpeg; MediaError, one line, saying why not. A server that ignores Range is
    asked first where the film's index is: at its end, FFmpeg would read on to it and then decode garbage."""
    if honours_range(url) is False:
        if index_at_end(url):
            raise MediaError(NO_RANGE.format(url=url))
        if url not in _told_unseekable:
            _told_unseekable.add(url)
            _log.warning("%s: the server ignores Range requests: the film plays from its start, and a seek reads "
                         "everything before the place sought", url)
    try:
        return av.open(url, "r", options=dict(RECONNECT_OPTIONS), timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(why_not(url, exc)) from None


NO_RANGE = ("{url}: the server ignores Range requests, and this film's index is at its end, so it cannot be "
             "played over HTTP: re-mux it with `ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4`, or serve it "
             "from a server that honours Range")
_told_unseekable: set[str] = set()


def index_at_end(url: str) -> bool:
    """Whether the MP4 at `url` has its media data ('mdat') before its index ('moov'), read from the box headers
    at its start (False for anything else, or when that cannot be told)."""
    try:
        with urllib.request.urlopen(url, timeout=_PROBE_TIMEOUT) as response:
            skipped = 0
            while skipped < 4 * 1024 * 1024:
                header = response.read(8)
                if len(header) < 8:
                    return False
                size, kind = int.from_bytes(header[:4], "big"), header[4:]
                if kind == b"moov":
                    return False
                if kind == b"mdat":
                    return True
                if size == 1:
                    size = int.from_bytes(response.read(8), "big") - 8
                if size < 8 or not kind.isalnum() and kind not in (b"free", b"skip", b"ftyp", b"uuid"):
                    return False  # not an MP4's boxes
                response.read(size - 8)
                skipped += size
    except (OSError, ValueError):
        return False
    return False


def why_not(url: str, exc: BaseException) -> str:
    """One line for a link FFmpeg could not open (`exc`): what the server said, or what a look of our own finds."""
    text = str(getattr(exc, "strerror", None) or exc)
    status = _http_status(text)
    if status is not None:
        return status_line(url, status, text.split(str(status), 1)[1].strip(" :") or "an error")
    if getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return f"{url}: the server refused the connection (nothing listens there); check the address and port"
    if getattr(exc, "errno", None) == errno.ETIMEDOUT or "timed out" in text.lower():
        return f"{url}: the server did not answer within {CONNECT_TIMEOUT:.0f} s; check the network and the link"
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        return f"{url}: cannot find the server {host!r} (no such name); check the link and the network"
    if honours_range(url) is False and index_at_end(url):
        return NO_RANGE.format(url=url)
    if isinstance(exc, av.error.InvalidDataError):
        return f"{url}: what the server sends is not a film FFmpeg can read; check that the link is the film itself"
    return f"{url}: cannot be played ({text.strip().rstrip('.')}); check the link and the network"


def status_line(url: str, code: int, reason: str) -> str:
    """One line for an HTTP error answer, with what to do about it."""
    hint = ("check the link" if code in (404, 410) else "check the link and that you may fetch it" if code in (401, 403)
            else "try again later, or ask the server's keeper")
    return f"{url}: the server answered {code} ({reason}); {hint}"


def connection_line(url: str, error: BaseException) -> str:
    """One line for a request urllib could not make (`error`, a URLError or an OSError)."""
    cause = getattr(error, "reason", error)
    if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
        return f"{url}: the server refused the connection (nothing listens there); check the address and port"
    if isinstance(cause, socket.gaierror):
        host = urllib.parse.urlsplit(url).hostname
        return f"{url}: cannot find the server {host!r} (no such name); check the link and the network"
    if isinstance(cause, (TimeoutError, socket.timeout)):
        return f"{url}: the server did not answer within {CONNECT_TIMEOUT:.0f} s; check the network and the link"
    return f"{url}: cannot be fetched ({cause}); check the link and the network"


def _http_status(text: str) -> int | None:
    # FFmpeg: "Server returned 404 Not Found", "Server returned 5XX Server Error reply", "HTTP error 416 …".
    for marker in ("Server returned ", "HTTP error "):
        if marker in text:
            word = text.split(marker, 1)[1].split()[0]
            if word[:3].isdigit():
                return int(word[:3])
            if word.upper().startswith("4XX"):
                return 400
            if word.upper().startswith("5XX"):
                return 500
    return None


def honours_range(url: str) -> bool | None:
    """Whether the server answers a range request with that range (206); None when it cannot be asked."""
    request = urllib.request.Request(url, headers={"Range": "bytes=1-1"})
    try:
        with urllib.request.urlopen(request, timeout=_PROBE_TIMEOUT) as response:
            return response.status == 206
    except urllib.error.HTTPError as error:
        return None if error.code != 416 else True
    except (OSError, ValueError):
        return None


class RangeFile:
    """A read-only, seekable file over HTTP range requests, read in blocks: what our box and element readers need
    (they read headers and skip the media data). OSError when the server does not honour Range."""

    BLOCK = 64 * 1024

    def __init__(self, url: str, timeout: float = _PROBE_TIMEOUT):
        self.url = url
        self._timeout = timeout
        self._position = 0
        self._blocks: dict[int, bytes] = {}
        self.size = self._length()

    def _length(self) -> int:
        data, total = self._fetch(0, self.BLOCK - 1)
        self._blocks[0] = data
        return total

    def _fetch(self, first: int, last: int) -> tuple[bytes, int]:
        request = urllib.request.Request(self.url, headers={"Range": f"bytes={first}-{last}"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                if response.status != 206:
                    raise OSError(errno.ESPIPE, "the server does not honour Range requests")
                total = response.headers.get("Content-Range", "").rpartition("/")[2]
                data = response.read(last - first + 1)
        except urllib.error.HTTPError as error:
            if error.code == 416:
                return b"", first
            raise OSError(errno.EIO, f"the server answered {error.code}") from None
        except (urllib.error.URLError, ValueError) as error:
            raise OSError(errno.EIO, str(error)) from None
        return data, int(total) if total.isdigit() else first + len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._position + size)
        parts = []
        while self._position < end:
            index = self._position // self.BLOCK
            block = self._blocks.get(index)
            if block is None:
                block, _ = self._fetch(index * self.BLOCK, (index + 1) * self.BLOCK - 1)
                if len(self._blocks) > 64:
                    self._blocks.clear()
                self._blocks[index] = block
            start = self._position - index * self.BLOCK
            piece = block[start:start + end - self._position]
            if not piece:
                break
            parts.append(piece)
            self._position += len(piece)
        return b"".join(parts)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._blocks.clear()
