"""A film on a web server, downloaded ahead of where it is read: one download shared by the film's readers (the
picture's and the sound's demuxers), so that the player knows how many seconds are buffered ahead and how fast
they arrive, and can pause before the picture or the sound runs dry instead of after.

A thread fetches the film with range requests into a temporary file, from where the readers are, up to
AHEAD_BYTES ahead of the furthest of them (a long film is not downloaded whole into /tmp); a reader that seeks
outside what has arrived moves the download there. A dropped connection is asked again from the byte it reached,
with back-off. A reader waiting for bytes waits (the player sees the buffer run low and pauses); `idle_for` says
how long nothing has arrived, for the player's "stalled".
"""

from __future__ import annotations

import bisect
import collections
import errno
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref

from vrplayer import log
from vrplayer.errors import MediaError
from vrplayer.media.network import NO_RANGE, connection_line, index_at_end, status_line

_log = log.get("media.network")

BLOCK = 64 * 1024
AHEAD_BYTES = 256 * 1024 * 1024  # the download waits when it is this far ahead of every reader
# A reader this close ahead of the download's position waits for it rather than move it: what arrives in half a
# second (a new request costs about that), at least NEAR bytes.
NEAR = 256 * 1024
TIMEOUT = 10.0  # seconds a connection may wait for data before it is dropped and asked again
_BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0)
RATE_WINDOW = 3.0  # seconds of arrivals the throughput is measured over


class NetworkBuffer:
    def __init__(self, url: str):
        """Open the link (one request: its size, whether it honours Range) and start downloading; MediaError, one
        line, when it cannot be fetched."""
        self.url = url
        self.size: int | None = None
        self.ranges_honoured = False
        self.byte_rate: float | None = None  # the film's bytes per second of playing (set once its length is known)
        self.error: str | None = None  # the last failure, while retrying
        self._covered: list[list[int]] = []  # sorted, disjoint [start, end) that have arrived
        self._cond = threading.Condition()
        self._want = 0  # where the download should be
        self._fetching = 0  # where it is
        self._readers: dict[int, int] = {}  # reader id → position
        self._arrivals: collections.deque = collections.deque()  # (time, bytes)
        self._last_arrival = time.monotonic()
        self._closed = False
        self._file = tempfile.TemporaryFile(prefix="vrplayer-")
        self._first = self._open(0)  # the first response, kept for the download to read on
        self._thread = threading.Thread(target=self._download, name="net-download", daemon=True)
        self._thread.start()

    # -- what the player asks ----------------------------------------------------------------------------------

    def reader(self, kind: str = "video") -> "_Reader":
        """A new file-like view for a demuxer (the picture's and the sound's read the same bytes)."""
        return _Reader(self)

    def seconds_ahead_of(self, position: float) -> float:
        """Seconds of film that have arrived beyond the media time `position` (the picture on screen): the
        download's front, where the readers are, in the film's average bytes per second (inf once the rest of the
        film is all there; 0 while its rate is not known)."""
        with self._cond:
            if self.size is None:
                return 0.0
            start = min(self._readers.values()) if self._readers else 0
            end = self._covered_end(start)
            if end >= self.size:
                return float("inf")
            return max(0.0, end / self.byte_rate - position) if self.byte_rate else 0.0

    def throughput(self) -> float:
        """Bytes per second arriving, over the last RATE_WINDOW seconds (0 when the download is idle)."""
        with self._cond:
            return self._rate()

    def _rate(self) -> float:
        now = time.monotonic()
        while self._arrivals and now - self._arrivals[0][0] > RATE_WINDOW:
            self._arrivals.popleft()
        return sum(size for _, size in self._arrivals) / RATE_WINDOW

    @property
    def complete(self) -> bool:
        with self._cond:
            return self.size is not None and self._covered == [[0, self.size]]

    def idle_for(self) -> float:
        """Seconds since a byte last arrived while one was wanted (0 while nothing is wanted)."""
        with self._cond:
            if self._waiting_for_nothing():
                return 0.0
            return time.monotonic() - self._last_arrival

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._file.close()

    def _forget(self, reader: int) -> None:
        with self._cond:
            self._readers.pop(reader, None)

    # -- the download --------------------------------------------------------------------------------------------

    def _open(self, start: int):
        if start > 0 and self.size is not None and not self.ranges_honoured:
            raise MediaError(f"{self.url}: the server ignores Range requests, so the film can only be read from its start")
        request = urllib.request.Request(self.url, headers={"Range": f"bytes={start}-", "Accept-Encoding": "identity"})
        try:
            response = urllib.request.urlopen(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as error:
            raise MediaError(status_line(self.url, error.code, error.reason)) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise MediaError(connection_line(self.url, error)) from None
        if start > 0 and response.status != 206:
            response.close()
            raise MediaError(f"{self.url}: the server stopped honouring Range requests")
        if response.status == 206:
            self.ranges_honoured = True
            whole = response.headers.get("Content-Range", "").rpartition("/")[2]
            self.size = int(whole) if whole.isdigit() else None
        else:
            length = response.headers.get("Content-Length")
            self.size = int(length) if length and length.isdigit() else None
            if start == 0 and index_at_end(self.url):
                response.close()
                raise MediaError(NO_RANGE.format(url=self.url))
            _log.warning("%s: the server ignores Range requests: the film plays from its start, and a seek waits for "
                         "the download to reach the place sought", self.url)
        if self.size is None:
            response.close()
            raise MediaError(f"{self.url}: the server does not say how long the film is (no Content-Length); it "
                             "cannot be played progressively: fetch the file first")
        return response

    def _download(self) -> None:
        response, position, failures = self._first, 0, 0
        while True:
            with self._cond:
                while not self._closed and (self._next_gap() is None or self._too_far_ahead()):
                    self._cond.wait(0.2)
                if self._closed:
                    break
                wanted = self._next_gap()
            reached = self._fetching
            try:
                if response is None or position != wanted:
                    if response is not None:
                        response.close()
                    response, position = None, wanted
                    _log.debug("%s: fetching from byte %d", self.url, position)
                    response = self._open(position)
                position, ended = self._read_on(response, position)
                failures = 0
                if ended:
                    response.close()
                    response = None
            except Exception as error:  # (whatever it is, the download goes on trying: it must never die silently)
                failures = 1 if self._fetching > reached else failures + 1  # (bytes came: the back-off starts again)
                if self._closed:
                    break
                self.error = (str(error) if isinstance(error, MediaError)
                              else f"the connection dropped ({error}); asking again from byte {self._fetching}")
                _log.warning("%s: %s (try %d)", self.url, self.error, failures)
                if response is not None:
                    response.close()
                response = None
                time.sleep(_BACKOFF[min(failures - 1, len(_BACKOFF) - 1)])
        if response is not None:
            response.close()

    def _read_on(self, response, position: int) -> tuple[int, bool]:
        """Read the response on from `position`, writing what arrives, until it ends (True), or the download is
        wanted elsewhere or far enough ahead (False: the response may be read on later). The position reached."""
        while True:
            with self._cond:
                if self._closed:
                    return position, True
                gap = self._next_gap()
                if gap is None or gap != position or self._too_far_ahead():
                    return position, False
            block = response.read(BLOCK)
            if not block:
                if position < (self.size or 0):
                    raise OSError(errno.EPIPE, f"the answer ended at byte {position} of {self.size}")
                return position, True
            os.pwrite(self._file.fileno(), block, position)
            with self._cond:
                self._add(position, position + len(block))
                position += len(block)
                self._fetching = position
                now = time.monotonic()
                self._last_arrival = now
                self._arrivals.append((now, len(block)))
                self.error = None
                self._cond.notify_all()

    # -- the covered ranges (under the condition's lock) -------------------------------------------------------

    def _add(self, start: int, end: int) -> None:
        index = bisect.bisect_left(self._covered, [start, start])
        self._covered.insert(index, [start, end])
        merged: list[list[int]] = []
        for piece in self._covered:
            if merged and piece[0] <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], piece[1])
            else:
                merged.append(list(piece))
        self._covered = merged

    def _covered_end(self, position: int) -> int:
        for start, end in self._covered:
            if start <= position < end:
                return end
        return position

    def _next_gap(self) -> int | None:
        """The first byte not yet arrived at or after where the download is wanted; None when all is there."""
        if self.size is None:
            return self._want
        # (A server without Range can only send the film from its start: the download goes on from its prefix.)
        position = self._covered_end(self._want if self.ranges_honoured else 0)
        return None if position >= self.size else position

    def _too_far_ahead(self) -> bool:
        return bool(self._readers) and self._fetching - max(self._readers.values()) > AHEAD_BYTES

    def _waiting_for_nothing(self) -> bool:
        return self._next_gap() is None or self._too_far_ahead()

    def _wait_for(self, reader: int, position: int) -> int:
        """Bytes available at `position` (0 at the end), waiting for them; moves the download there when it is
        elsewhere. OSError when the buffer is closed."""
        with self._cond:
            self._readers[reader] = position
            while not self._closed:
                if self.size is not None and position >= self.size:
                    return 0
                end = self._covered_end(position)
                if end > position:
                    return end - position
                near = max(NEAR, 0.5 * self._rate())
                if not (self._fetching <= position < self._fetching + near and self._want <= position):
                    self._want = position  # elsewhere: the download comes here
                    self._cond.notify_all()
                self._cond.wait(0.2)
            raise OSError(errno.EBADF, "the film's download was closed")


class _Reader:
    """A demuxer's file-like view of the download (read, seek, tell), as PyAV takes one."""

    _ids = iter(range(1, 1 << 62))

    def __init__(self, buffer: NetworkBuffer):
        self._buffer = buffer
        self._id = next(self._ids)
        self._position = 0
        # A demuxer that is done with its view lets go of it (PyAV does not always close it): it stops counting.
        weakref.finalize(self, buffer._forget, self._id)

    def read(self, size: int = -1) -> bytes:
        buffer = self._buffer
        available = buffer._wait_for(self._id, self._position)
        if available == 0:
            return b""
        count = available if size is None or size < 0 else min(size, available)
        data = os.pread(buffer._file.fileno(), count, self._position)
        self._position += len(data)
        with buffer._cond:
            buffer._readers[self._id] = self._position
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        size = self._buffer.size or 0
        self._position = max(0, {0: 0, 1: self._position, 2: size}[whence] + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._buffer._forget(self._id)
