"""The kiosk's session log: one JSON object per line, for the festival's numbers and for finding what went wrong.

    {"t":"2026-05-09T14:03:04.512Z","event":"film_start","item":3,"title":"Deep Sea"}

`SessionLog` appends lines (each written straight to the OS: a crash of the player loses none), rotates by size
(`session.jsonl` → `session.1.jsonl` … `session.N.jsonl`), is safe to call from any thread, and never raises: when
the disk or folder fails it logs one warning and the kiosk goes on (it tries again on the next event). No line is
longer than MAX_LINE_BYTES (nor than the rotation size): an event that would be is shortened — its long lists to
their first items, its long texts to their start — and says so in "shortened" ({field: its original length}), so
one event can neither choke a reader nor push the backups out.

Where each viewer looked is not kept here: the kiosk records each viewing's head trace as a file of its own
(analytics/recorder.py, the format `vrplayer heatmap` reads), and its "head_trace" event names that file.
`read_events` reads everything back in order.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vrplayer import log

_log = log.get("kiosk.sessionlog")

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 10
MAX_LINE_BYTES = 64 * 1024  # what line readers take without a special buffer
KEEP_ITEMS = 10  # of a list in a shortened event
KEEP_CHARS = 2000  # of a text in a shortened event


def timestamp(when: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds: 2026-05-09T14:03:04.512Z."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def json_safe(value: Any) -> Any:
    """The value with NaN and infinities as None: they are not JSON (a browser's JSON.parse rejects them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _encode(record: dict, limit: int = MAX_LINE_BYTES) -> bytes:
    """The record as one line of at most `limit` bytes (see the module docstring)."""
    line = _line(record)
    if len(line) <= limit:
        return line
    shortened: dict[str, Any] = {}
    short = {}
    for key, value in record.items():
        if isinstance(value, (list, tuple)) and len(value) > KEEP_ITEMS:
            short[key], shortened[key] = list(value[:KEEP_ITEMS]), len(value)
        elif isinstance(value, str) and len(value) > KEEP_CHARS:
            short[key], shortened[key] = value[:KEEP_CHARS] + "…", len(value)
        else:
            short[key] = value
    line = _line({**short, "shortened": shortened})
    if len(line) <= limit:
        return line
    # Still too long (long items in the lists, nested tables, a great many fields): the plain values and the sizes.
    plain = {key: value for key, value in short.items()
             if value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 200)}
    for key in record.keys() - plain.keys():
        shortened[key] = len(_line(record[key]))  # in bytes
    line = _line({**plain, "shortened": shortened})
    if len(line) <= limit:
        return line
    return _line({"t": record.get("t"), "event": record.get("event"), "shortened": f"{len(_line(record))} bytes"})


def _line(value: Any) -> bytes:
    dumps = dict(ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    try:
        text = json.dumps(value, **dumps)
    except ValueError:  # a NaN somewhere: the rare case pays for the walk
        text = json.dumps(json_safe(value), **dumps)
    return (text + "\n").encode("utf-8")


class SessionLog:
    """Appends events to DIRECTORY/session.jsonl; see the module docstring."""

    def __init__(self, directory: str | os.PathLike, max_bytes: int = MAX_BYTES, backups: int = BACKUPS, name: str = "session"):
        self.directory = Path(directory)
        self.name = name
        self.path = self.directory / f"{name}.jsonl"
        self.max_bytes = max_bytes
        self.max_line = max(200, min(MAX_LINE_BYTES, max_bytes))  # a line always fits in one file of the rotation
        self.backups = max(0, backups)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._size = 0
        self._failing = False  # warned already; the next success clears it
        self._closed = False
        with self._lock:
            try:
                self._open()
            except OSError as exc:
                self._fail(exc)

    def event(self, name: str, **fields: Any) -> None:
        """Write one line {"t", "event", **fields}; never raises. Fields named "t" or "event" are kept as "_t"/"_event"."""
        try:
            record: dict[str, Any] = {"t": timestamp(), "event": name}
            for key, value in fields.items():
                record["_" + key if key in ("t", "event") else key] = value
            line = _encode(record, self.max_line)
        except Exception as exc:  # a field that cannot be written must not stop the film
            _log.warning("session log: event %r not written: %s", name, exc)
            return
        with self._lock:
            if self._closed:
                return
            try:
                if self._fd is None:
                    self._open()
                if self._size and self._size + len(line) > self.max_bytes:
                    self._rotate()
                self._write(line)
                if self._failing:
                    _log.info("session log %s: writing again", self.path)
                    self._failing = False
            except OSError as exc:
                self._fail(exc)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._close()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- under the lock

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Unbuffered O_APPEND: each line goes to the OS in one write, so a player crash loses nothing already logged.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size
        if self._size and not self._ends_with_newline():
            self._write(b"\n")  # a line torn by a full disk or power cut: end it, so ours starts clean

    def _ends_with_newline(self) -> bool:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return os.pread(fd, 1, self._size - 1) == b"\n"
        finally:
            os.close(fd)

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            self._size += written
            view = view[written:]

    def _backup(self, number: int) -> Path:
        return self.directory / f"{self.name}.{number}.jsonl"

    def _rotate(self) -> None:
        self._close()
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            # session.9 → session.10 (replacing the oldest), …, session → session.1
            for number in range(self.backups - 1, 0, -1):
                if self._backup(number).exists():
                    os.replace(self._backup(number), self._backup(number + 1))
            os.replace(self.path, self._backup(1))
        self._open()

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _fail(self, exc: OSError) -> None:
        self._close()  # reopened on the next event: the stick may be back, the disk may have room again
        if not self._failing:
            self._failing = True
            _log.warning("session log %s: cannot write (%s); the kiosk goes on without it", self.path, exc.strerror or exc)


def read_events(directory: str | os.PathLike, name: str = "session") -> list[dict]:
    """Every event in DIRECTORY, oldest first, across rotated files; lines that do not parse (torn) are skipped.

    Reads whole files: for tests, reports and tools, not for a status page polled every second (keep the last
    errors in memory there).
    """
    directory = Path(directory)
    pattern = re.compile(rf"{re.escape(name)}\.(\d+)\.jsonl")
    try:
        backups = [(int(m.group(1)), p) for p in directory.iterdir() if (m := pattern.fullmatch(p.name))]
    except OSError:
        return []
    files = [p for _, p in sorted(backups, reverse=True)] + [directory / f"{name}.jsonl"]
    events = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # rotated away while we read, or not there yet
        for line in data.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                events.append(record)
    return events
