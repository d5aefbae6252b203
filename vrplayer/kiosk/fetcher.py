"""Fetching a programme's films ahead: every item the programme names by URL is brought into the cache before it is
due, on a thread of its own (the kiosk), or one after another with a progress bar (`vrplayer fetch`).

Each film's download resumes from the byte a cut left (download.py); it is verified (the size the server announced,
and the programme's SHA-256 when it gives one) before it replaces the last good copy (cache.py). A film the cache
holds is looked at again every `recheck` seconds: unchanged (its validator, or its size, still stands), it stays;
changed, the new version is fetched beside it; when the source fails, or sends something that does not verify, the
last good copy keeps playing.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from vrplayer import log
from vrplayer.kiosk.cache import FilmCache
from vrplayer.kiosk.download import DownloadError, download

_log = log.get("kiosk.fetch")

RECHECK = 600.0  # seconds between looks at whether a cached film changed at its source
PROGRESS_EVERY = 5.0  # seconds between progress lines of one download in the log


@dataclass
class Wanted:
    url: str
    sha256: str | None = None
    title: str = ""


def wanted_of(items) -> list[Wanted]:
    """The programme items named by URL (kiosk.programme.ProgrammeItem) as the fetcher wants them."""
    return [Wanted(item.url, item.sha256, item.display_title) for item in items]


@dataclass
class FetchState:
    state: str = "waiting"  # waiting | fetching | ready | failed
    done: int = 0
    total: int | None = None
    rate: float = 0.0  # bytes per second, of the download under way
    error: str | None = None
    checked_at: float = field(default=0.0, repr=False)

    def as_dict(self, url: str, title: str) -> dict:
        percent = round(100.0 * self.done / self.total, 1) if self.total else None
        return {"url": url, "title": title, "state": self.state, "bytes": self.done, "total": self.total,
                "percent": percent, "rate_bps": round(self.rate), "error": self.error}


class Fetcher:
    def __init__(self, cache: FilmCache, recheck: float = RECHECK, on_event: Callable[..., None] | None = None):
        self.cache = cache
        self.recheck = recheck
        self.on_event = on_event or (lambda name, **data: None)
        self.states: dict[str, FetchState] = {}
        self._wanted: list[Wanted] = []
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the kiosk asks -------------------------------------------------------------------------------------

    def want(self, wanted: list[Wanted]) -> None:
        """The programme's films by URL, in the order they are due (replacing the last list)."""
        self._wanted = list(wanted)
        for item in wanted:
            state = self.states.setdefault(item.url, FetchState())
            if state.state == "waiting" and self.cache.ready(item.url, item.sha256) is not None:
                state.state = "ready"
        self._changed.set()

    def ready(self, url: str, sha256: str | None = None):
        """The cached film to play, complete and verified, or None."""
        return self.cache.ready(url, sha256)

    def why_not(self, url: str) -> str:
        """Why `url`'s film cannot play yet, in words."""
        state = self.states.get(url, FetchState())
        if state.state == "failed":
            return f"{url}: its download failed ({state.error}); it plays once a download completes"
        if state.state == "fetching" and state.total:
            return f"{url}: not downloaded yet ({100 * state.done / state.total:.0f} % of {_mb(state.total)})"
        return f"{url}: not downloaded yet; it plays once it has arrived"

    def status(self) -> list[dict]:
        return [self.states.get(item.url, FetchState()).as_dict(item.url, item.title) for item in self._wanted]

    def start(self) -> Fetcher:
        self._thread = threading.Thread(target=self._run, name="kiosk-fetch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()

    # -- the work --------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._changed.clear()
            for item in list(self._wanted):
                if self._stop.is_set() or self._changed.is_set():
                    break
                self.bring(item)
            if not self._changed.is_set():
                removed = self.cache.evict({item.url for item in self._wanted})
                for url in removed:
                    self.on_event("fetch_evicted", url=url)
            # Again when a film fails (a minute), when one is due a recheck, or when the programme changes.
            again = min([60.0] + [max(1.0, self.recheck - (time.monotonic() - s.checked_at)) for s in self.states.values()])
            self._changed.wait(again if any(s.state == "failed" for s in self.states.values()) else min(again, self.recheck))

    def bring(self, item: Wanted, progress: Callable[[FetchState], None] | None = None) -> FetchState:
        """Make sure the cache holds `item`'s film, complete, verified and current; its state after."""
        state = self.states.setdefault(item.url, FetchState())
        now = time.monotonic()
        held = self.cache.ready(item.url, item.sha256)
        if held is not None and state.checked_at and now - state.checked_at < self.recheck:
            return state
        entry = self.cache.entry(item.url)
        if held is not None and entry is not None:
            changed = _changed_at_source(item.url, entry)
            state.checked_at = now
            if changed is None or changed is False:
                state.state, state.done, state.total = "ready", entry.size, entry.size
                if changed is None:
                    state.error = "its source did not answer; the last good copy plays"
                return state
            _log.info("%s changed at its source: fetching the new version (the last good copy plays meanwhile)", item.url)
        return self._download(item, state, progress, keep_old=held is not None)

    def _download(self, item: Wanted, state: FetchState, progress, keep_old: bool) -> FetchState:
        cache = self.cache
        state.state, state.error, state.rate = "fetching", None, 0.0
        started, told = time.monotonic(), [0.0]
        part = cache.part_path(item.url)
        validator = cache.part_validator(item.url)
        resumed = part.stat().st_size if part.exists() and validator else 0
        if resumed:
            _log.info("resuming %s from byte %d", item.url, resumed)

        def moved(done: int, total: int | None) -> None:
            state.done, state.total = done, total
            elapsed = time.monotonic() - started
            state.rate = (done - resumed) / elapsed if elapsed > 0 else 0.0
            if progress is not None:
                progress(state)
            elif time.monotonic() - told[0] >= PROGRESS_EVERY:
                told[0] = time.monotonic()
                _log.info("fetching %s: %s", item.title or item.url, progress_text(state))

        try:
            result = download(item.url, part, validator=validator, sha256=item.sha256, progress=moved,
                              stop=self._stop.is_set, note=lambda v: cache.note_part(item.url, v))
        except DownloadError as error:
            state.checked_at = time.monotonic()
            if str(error) == "stopped":
                state.state = "waiting"
                return state
            if "SHA-256" in str(error) or "announced" in str(error):
                cache.discard_part(item.url)  # what arrived is bad: the next try starts afresh
            state.state, state.error = ("ready" if keep_old else "failed"), str(error)
            if keep_old:
                state.error = f"{error}; the last good copy plays"
            _log.error("fetching %s failed: %s", item.url, state.error)
            self.on_event("fetch_failed", url=item.url, error=state.error)
            return state
        cache.commit(item.url, result.size, result.sha256, result.etag, result.last_modified)
        state.state, state.done, state.total, state.checked_at = "ready", result.size, result.size, time.monotonic()
        _log.info("fetched %s: %s, SHA-256 %s…%s", item.title or item.url, _mb(result.size), result.sha256[:12],
                  " (as the programme gives)" if item.sha256 else "")
        self.on_event("fetch_complete", url=item.url, bytes=result.size, sha256=result.sha256)
        return state


def _changed_at_source(url: str, entry) -> bool | None:
    """Whether the film at `url` is no longer the one cached (None: the source did not answer)."""
    headers = {"Range": "bytes=0-0", "Accept-Encoding": "identity"}
    if entry.etag:
        headers["If-None-Match"] = entry.etag
    if entry.last_modified:
        headers["If-Modified-Since"] = entry.last_modified
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10.0) as response:
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            whole = response.headers.get("Content-Range", "").rpartition("/")[2]
            size = int(whole) if whole.isdigit() else int(response.headers.get("Content-Length") or -1)
            response.read(1)
    except urllib.error.HTTPError as error:
        return False if error.code == 304 else None
    except (OSError, ValueError):
        return None
    if etag and entry.etag:
        return etag != entry.etag
    if modified and entry.last_modified:
        return modified != entry.last_modified
    return size != entry.size if response.status == 206 else None


def progress_text(state: FetchState, percent: bool = True) -> str:
    """"45 % of 120.0 MB, 3.2 MB/s, 23 s to go" (without the share when a bar shows it)."""
    if state.total:
        share = f"{100 * state.done / state.total:.0f} % of {_mb(state.total)}" if percent else f"{state.done / 1e6:.1f}/{_mb(state.total)}"
        return (f"{share}, {_mb(state.rate)}/s"
                + (f", {(state.total - state.done) / state.rate:.0f} s to go" if state.rate > 0 and state.done < state.total else ""))
    return f"{_mb(state.done)}, {_mb(state.rate)}/s"


def _mb(size: float) -> str:
    return f"{size / 1e6:.1f} MB"
