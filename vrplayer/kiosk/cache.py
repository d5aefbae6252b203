"""The kiosk's film cache: films a programme names by URL, kept on local disk, only ever played complete and
verified.

One folder. Each film is `KEY-NAME` (KEY: the first 16 hex digits of the URL's SHA-256, NAME: the URL's last path
segment, made safe), beside `KEY.json` (its URL, size, SHA-256, the server's validators, when it was fetched and
last played) and, while a download is under way or was cut, `KEY-NAME.part`. A new version is fetched into the
partial file and replaces the good copy only once it has verified: when the source fails or sends something bad,
the last good copy stays and plays. Eviction: whatever the programme does not name is removed once unplayed for
`max_age` seconds, and least recently played first while the cache is over its size limit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_LIMIT = 50 * 1024**3  # bytes
DEFAULT_MAX_AGE = 30 * 86400.0  # seconds


@dataclass
class Entry:
    url: str
    name: str  # the film's file name in the cache folder
    size: int
    sha256: str
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: float = 0.0
    played_at: float = 0.0

    @property
    def validator(self) -> str | None:
        return self.etag or self.last_modified


def default_cache(programme: str | os.PathLike) -> Path:
    """Where films named by URL are fetched to when no --cache is given: beside the programme (a festival's USB
    stick carries its programme and its films together)."""
    return Path(programme).resolve().parent / "vrplayer-cache"


def key_of(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def file_name(url: str) -> str:
    last = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rpartition("/")[2]) or "film"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", last).strip("._") or "film"
    return f"{key_of(url)}-{safe[-100:]}"


class FilmCache:
    def __init__(self, folder: str | os.PathLike, limit: int = DEFAULT_LIMIT, max_age: float = DEFAULT_MAX_AGE):
        self.folder = Path(folder)
        self.limit = limit
        self.max_age = max_age

    def open(self) -> FilmCache:
        """Make the folder; OSError when it cannot be."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def part_path(self, url: str) -> Path:
        return self.folder / (file_name(url) + ".part")

    def part_validator(self, url: str) -> str | None:
        """The validator a partial download was started under (None: start it again)."""
        try:
            return json.loads(self._part_note(url).read_text(encoding="utf-8")).get("validator")
        except (OSError, ValueError, AttributeError):
            return None

    def note_part(self, url: str, validator: str | None) -> None:
        _write_json(self._part_note(url), {"url": url, "validator": validator})

    def entry(self, url: str) -> Entry | None:
        try:
            data = json.loads((self.folder / f"{key_of(url)}.json").read_text(encoding="utf-8"))
            entry = Entry(**data)
        except (OSError, ValueError, TypeError):
            return None
        return entry if entry.url == url else None

    def ready(self, url: str, sha256: str | None = None) -> Path | None:
        """The complete, verified copy of `url` (and of `sha256`, when the programme gives one), or None."""
        entry = self.entry(url)
        if entry is None or (sha256 and entry.sha256 != sha256.lower()):
            return None
        path = self.folder / entry.name
        try:
            if path.stat().st_size != entry.size:
                return None  # (changed on disk behind our back: not played)
        except OSError:
            return None
        return path

    def commit(self, url: str, size: int, sha256: str, etag: str | None, last_modified: str | None) -> Path:
        """The verified partial file becomes the film (the old copy replaced in one rename)."""
        name = file_name(url)
        final = self.folder / name
        os.replace(self.part_path(url), final)
        self._part_note(url).unlink(missing_ok=True)
        old = self.entry(url)
        entry = Entry(url, name, size, sha256, etag, last_modified, time.time(), old.played_at if old else 0.0)
        _write_json(self.folder / f"{key_of(url)}.json", asdict(entry))
        return final

    def discard_part(self, url: str) -> None:
        self.part_path(url).unlink(missing_ok=True)
        self._part_note(url).unlink(missing_ok=True)

    def played(self, url: str) -> None:
        entry = self.entry(url)
        if entry is not None:
            entry.played_at = time.time()
            _write_json(self.folder / f"{key_of(url)}.json", asdict(entry))

    def entries(self) -> list[Entry]:
        found = []
        for note in self.folder.glob("*.json"):
            if note.name.endswith(".part.json"):
                continue
            try:
                found.append(Entry(**json.loads(note.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return found

    def evict(self, keep: set[str], now: float | None = None) -> list[str]:
        """Remove films not in `keep` (URLs) unplayed for max_age, then the least recently played of those while
        the cache is over its limit (what the programme names is never evicted). The URLs removed."""
        now = time.time() if now is None else now
        removed = []
        entries = sorted(self.entries(), key=lambda e: max(e.played_at, e.fetched_at))
        total = sum(entry.size for entry in entries)
        for entry in entries:
            if entry.url in keep:
                continue
            if now - max(entry.played_at, entry.fetched_at) >= self.max_age or total > self.limit:
                self._remove(entry)
                total -= entry.size
                removed.append(entry.url)
        for part in self.folder.glob("*.part"):  # partial downloads of films no longer named
            key = part.name.split("-", 1)[0]
            if not any(key == key_of(url) for url in keep):
                part.unlink(missing_ok=True)
                (part.parent / (part.name + ".json")).unlink(missing_ok=True)
        return removed

    def size(self) -> int:
        return sum(entry.size for entry in self.entries())

    def _remove(self, entry: Entry) -> None:
        (self.folder / entry.name).unlink(missing_ok=True)
        (self.folder / f"{key_of(entry.url)}.json").unlink(missing_ok=True)

    def _part_note(self, url: str) -> Path:
        return self.folder / (file_name(url) + ".part.json")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
