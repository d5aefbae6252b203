"""The kiosk programme: which films play, in what order, and how the kiosk behaves between viewers.

A programme is an M3U/M3U8 playlist (films only, default options) or a JSON/TOML file with options and items;
the extension picks the format. Loading validates everything up front: a wrong value is a `ProgrammeError` with
one line naming the file, the item and the key; an unknown key or a missing film is only a warning (the player
skips a missing film when its turn comes, so a USB stick plugged in later still works).

`ProgrammeCursor` holds the pure playlist rules (next, previous, goto, loop, skip what failed this pass, "nothing
playable"); `ProgrammeWatcher` reloads the file between films and keeps the last good programme on a broken edit.

Pure Python, no player imports: safe to use from any thread, and easy to test.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import tomllib
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from vrplayer.errors import PlayerError
from vrplayer.layout import PROJECTIONS, STEREO_MODES

FORMATS = {".m3u": "m3u", ".m3u8": "m3u", ".json": "json", ".toml": "toml"}
ON_VIEWER_LEAVES = ("reset", "pause", "continue")
ON_VIEWER_RETURNS = ("restart", "resume")
START_TRIGGERS = ("key", "auto")
TITLE_CARD_SECONDS = 5.0
MAX_REPEAT = 1000  # the play order is expanded in memory; a typo like 1e9 must not take the kiosk down

OPTION_KEYS = ("loop", "attract", "on_viewer_leaves", "grace_seconds", "on_viewer_returns", "start_trigger", "fade_seconds", "items")
ITEM_KEYS = (
    "file", "title", "projection", "stereo", "eyes_swapped", "fov", "initial_yaw", "volume", "start", "end", "repeat",
    "title_card", "subtitles", "seconds", "sha256", "stream",
)
PHOTO_SECONDS = 10.0  # how long a kiosk shows a photo whose item gives no "seconds"
TITLE_CARD_KEYS = ("text", "seconds")

_FIX = "fix it and save the programme"


class ProgrammeError(PlayerError):
    """The programme file cannot be read or has a wrong value; the message is one line naming file, item and key."""


@dataclass(frozen=True)
class TitleCard:
    text: str
    seconds: float = TITLE_CARD_SECONDS


@dataclass(frozen=True)
class ProgrammeItem:
    """One entry of the programme. None means "not set here": the player detects or uses its default."""

    number: int  # 1-based position in the programme file, as staff and error messages count
    file: Path  # absolute; relative paths in the file are resolved against the programme's folder (a URL's: its name)
    title: str | None = None
    projection: str | None = None  # a key of vrplayer.layout.PROJECTIONS
    stereo: str | None = None  # one of vrplayer.layout.STEREO_MODES
    eyes_swapped: bool | None = None
    fov: float | None = None  # the picture's FOV (fisheye lens, flat screen width), as Layout.fov
    initial_yaw: float | None = None
    volume: float = 1.0  # 0–2
    start: float = 0.0  # trim: play from here (seconds)…
    end: float | None = None  # …to here (None: to the film's end)
    repeat: int = 1
    title_card: TitleCard | None = None
    subtitles: str | None = None  # a language, a subtitle file (absolute), or "off"; None: the kiosk's own choice
    seconds: float = PHOTO_SECONDS  # a photo's time on screen (a film plays its own length)
    url: str | None = None  # an http(s) film: fetched into the kiosk's cache ahead, played from there
    sha256: str | None = None  # what the fetched film must hash to (lower-case hex); None: its size is checked
    stream: bool = False  # a link played as it arrives (a live stream), not fetched ahead

    @property
    def display_title(self) -> str:
        return self.title or self.file.stem


@dataclass(frozen=True)
class ProgrammeOptions:
    loop: bool = True
    attract: Path | None = None  # a film or still picture shown while nobody is watching
    on_viewer_leaves: str = "reset"  # reset: fade, pause, after grace_seconds go to attract | pause | continue
    grace_seconds: float = 20.0
    on_viewer_returns: str = "restart"  # restart | resume (only meaningful within the grace period)
    start_trigger: str = "key"  # desktop kiosks: wait for a key press, or start by themselves ("auto")
    fade_seconds: float = 1.0


@dataclass
class Programme:
    path: Path
    items: list[ProgrammeItem]
    options: ProgrammeOptions = field(default_factory=ProgrammeOptions)
    warnings: list[str] = field(default_factory=list)
    mtime: float = 0.0  # of the file when it was read
    size: int = 0
    sha256: str = ""  # of the bytes that were parsed: the watcher's test for "changed"

    def play_order(self) -> list[int]:
        """Indexes into `items`, each repeated `repeat` times: [A×2, B] → [0, 0, 1]."""
        return [index for index, item in enumerate(self.items) for _ in range(item.repeat)]

    def cursor(self) -> ProgrammeCursor:
        return ProgrammeCursor(self.play_order(), loop=self.options.loop)

    def missing_files(self) -> list[ProgrammeItem]:
        """Items whose film is not there now (checked on each call: files come and go on removable media); a URL's
        film is the cache's business."""
        return [item for item in self.items if item.url is None and not item.file.is_file()]

    def urls(self) -> list[ProgrammeItem]:
        """The items the kiosk fetches ahead, in programme order (not those it streams)."""
        return [item for item in self.items if item.url is not None and not item.stream]


# --- loading ---------------------------------------------------------------------------------------------------


def load_programme(path: str | os.PathLike) -> Programme:
    """Read and validate a programme file; raises ProgrammeError with one line saying what to fix."""
    path = Path(path)
    try:
        # stat before reading: if the file changes in between, the watcher sees a new hash next time, never misses it.
        st = os.stat(path)
        data = path.read_bytes()
    except OSError as exc:
        raise ProgrammeError(f"{path}: cannot read the programme ({exc.strerror or exc}); check the path") from None
    return parse_programme(data, path, mtime=st.st_mtime, size=st.st_size)


def parse_programme(data: bytes, path: str | os.PathLike, *, mtime: float = 0.0, size: int | None = None) -> Programme:
    """Parse programme bytes; `path` picks the format by extension and is the base for relative film paths."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ProgrammeError(f"{path}: unknown programme format {path.suffix or '(no extension)'!r}; name it .m3u, .m3u8, .json or .toml")
    try:
        # utf-8-sig: editors on Windows like to start files with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProgrammeError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    base = Path(os.path.abspath(path)).parent
    warnings: list[str] = []
    if kind == "m3u":
        options, items = ProgrammeOptions(), _parse_m3u(text, path, base)
    else:
        options, items = _parse_structured(_decode_structured(text, path, kind), path, base, warnings)
    if not items:
        raise ProgrammeError(f"{path}: the programme lists no films; add at least one")
    for item in items:
        if not item.file.is_file():
            warnings.append(f"{path}: item {item.number}: film not found: {item.file} (it will be skipped until it is there)")
    if options.attract is not None and not options.attract.is_file():
        warnings.append(f"{path}: attract film not found: {options.attract} (the kiosk shows a plain screen instead)")
    return Programme(
        path=path, items=items, options=options, warnings=warnings, mtime=mtime,
        size=len(data) if size is None else size, sha256=hashlib.sha256(data).hexdigest(),
    )


def _resolve(text: str, base: Path) -> Path:
    path = Path(os.path.expanduser(text))
    return Path(os.path.abspath(path if path.is_absolute() else base / path))


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_WEB = re.compile(r"^https?://[^/\s]+", re.IGNORECASE)
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def _url_item(number: int, url: str, sha256: str | None = None, **fields) -> ProgrammeItem:
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rpartition("/")[2]) or "film"
    return ProgrammeItem(number=number, file=Path(name), url=url, sha256=sha256, **fields)


def _parse_m3u(text: str, path: Path, base: Path) -> list[ProgrammeItem]:
    items: list[ProgrammeItem] = []
    title: str | None = None  # from the #EXTINF line just before an entry
    for line_number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.upper().startswith("#EXTINF:"):
                # "#EXTINF:123,Title, with commas" — the duration is ignored (the film knows its own).
                _, _, rest = line.partition(":")
                title = rest.partition(",")[2].strip() or None
            continue
        if line.lower().startswith("file://"):
            file = Path(urllib.request.url2pathname(urllib.parse.urlparse(line).path))
        elif _URL.match(line) and not _WEB.match(line):
            raise ProgrammeError(f"{path}: line {line_number}: {line[:60]!r} is a URL the kiosk cannot fetch; give a"
                                 " path, or an http:// or https:// link")
        elif _WEB.match(line):
            items.append(_url_item(len(items) + 1, line, title=title))
            title = None
            continue
        else:
            file = _resolve(line, base)
        items.append(ProgrammeItem(number=len(items) + 1, file=file, title=title))
        title = None
    return items


def _decode_structured(text: str, path: Path, kind: str) -> Any:
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProgrammeError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}); {_FIX}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"{path}: not valid TOML ({exc}); {_FIX}") from None


def _show(value: Any) -> str:
    """A wrong value as it would be written in the file, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Where:
    """Where a value is in the file, for messages: `prog.toml: item 3: "volume"`."""

    def __init__(self, path: Path, item: int | None = None, prefix: str = ""):
        self.path, self.item, self.prefix = path, item, prefix

    def label(self, key: str | None = None) -> str:
        parts = [str(self.path)]
        if self.item is not None:
            parts.append(f"item {self.item}")
        if key is not None:
            parts.append(f'"{self.prefix}{key}"')
        return ": ".join(parts)

    def wrong(self, key: str, value: Any, expected: str) -> ProgrammeError:
        return ProgrammeError(f"{self.label(key)} must be {expected}, not {_show(value)}; {_FIX}")

    def unknown_keys(self, table: dict, known: Sequence[str], warnings: list[str]) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                warnings.append(f"{self.label(str(key))}: unknown key, ignored{hint}")

    # Typed getters: each returns the default when the key is absent, raises when the value is wrong.

    def boolean(self, table: dict, key: str, default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, bool):
            raise self.wrong(key, value, "true or false")
        return value

    def number(self, table: dict, key: str, default: Any, low: float | None = None, high: float | None = None,
               low_open: bool = False, expected: str = "a number") -> Any:
        if key not in table:
            return default
        value = table[key]
        # bool is an int in Python, but `volume = true` is a mistake, not 1.
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value <= high
        if not ok:
            raise self.wrong(key, value, expected)
        return float(value)

    def integer(self, table: dict, key: str, default: int, low: int, high: int) -> int:
        if key not in table:
            return default
        value = table[key]
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON writers may give 2.0
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.wrong(key, table[key], f"a whole number from {low} to {high}")
        return value

    def text(self, table: dict, key: str, default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.wrong(key, value, "a non-empty text")
        return value.strip()

    def choice(self, table: dict, key: str, default: Any, choices: Sequence[str]) -> Any:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, str) or value not in choices:
            raise self.wrong(key, value, "one of " + ", ".join(f'"{c}"' for c in choices))
        return value


def _parse_structured(data: Any, path: Path, base: Path, warnings: list[str]) -> tuple[ProgrammeOptions, list[ProgrammeItem]]:
    top = _Where(path)
    if isinstance(data, list):
        data = {"items": data}  # JSON shorthand: a bare list of items
    if not isinstance(data, dict):
        raise ProgrammeError(f"{path}: the programme must be an object with \"items\" (and options); {_FIX}")
    top.unknown_keys(data, OPTION_KEYS, warnings)
    attract = top.text(data, "attract", None)
    options = ProgrammeOptions(
        loop=top.boolean(data, "loop", True),
        attract=None if attract is None else _resolve(attract, base),
        on_viewer_leaves=top.choice(data, "on_viewer_leaves", "reset", ON_VIEWER_LEAVES),
        grace_seconds=top.number(data, "grace_seconds", 20.0, low=0, expected="a number of seconds, 0 or more"),
        on_viewer_returns=top.choice(data, "on_viewer_returns", "restart", ON_VIEWER_RETURNS),
        start_trigger=top.choice(data, "start_trigger", "key", START_TRIGGERS),
        fade_seconds=top.number(data, "fade_seconds", 1.0, low=0, expected="a number of seconds, 0 or more"),
    )
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        if "items" not in data:
            raise ProgrammeError(f'{path}: no "items" list; add one entry per film ({{"file": "film.mp4"}})')
        raise top.wrong("items", raw_items, "a list of films")
    items = [_parse_item(raw, number, path, base, warnings) for number, raw in enumerate(raw_items, 1)]
    return options, items


def _parse_item(raw: Any, number: int, path: Path, base: Path, warnings: list[str]) -> ProgrammeItem:
    where = _Where(path, number)
    if isinstance(raw, str):
        raw = {"file": raw}  # shorthand: just the film's path
    if not isinstance(raw, dict):
        raise ProgrammeError(f'{where.label()}: must be a film path or a table/object with "file", not {_show(raw)}; {_FIX}')
    where.unknown_keys(raw, ITEM_KEYS, warnings)
    if "file" not in raw:
        raise ProgrammeError(f'{where.label("file")} is missing; give the film\'s path')
    start = where.number(raw, "start", 0.0, low=0, expected="a number of seconds, 0 or more")
    end = where.number(raw, "end", None, low=0, expected="a number of seconds, 0 or more")
    if end is not None and end <= start:
        raise ProgrammeError(f'{where.label("end")} must be after "start" ({end:g} <= {start:g} s); {_FIX}')
    file = where.text(raw, "file", None)
    sha256 = where.text(raw, "sha256", None)
    if sha256 is not None and not _SHA256.match(sha256):
        raise where.wrong("sha256", sha256, "64 hexadecimal digits (the output of sha256sum)")
    if _URL.match(file) and not _WEB.match(file):
        raise where.wrong("file", file, "a path, or an http:// or https:// link")
    fields = dict(
        title=where.text(raw, "title", None),
        projection=where.choice(raw, "projection", None, tuple(PROJECTIONS)),
        stereo=where.choice(raw, "stereo", None, STEREO_MODES),
        eyes_swapped=where.boolean(raw, "eyes_swapped", None),
        fov=where.number(raw, "fov", None, low=0, high=360, low_open=True, expected="a number of degrees above 0, up to 360"),
        initial_yaw=where.number(raw, "initial_yaw", None, low=-360, high=360, expected="a number of degrees from -360 to 360"),
        volume=where.number(raw, "volume", 1.0, low=0, high=2, expected="a number from 0 to 2"),
        start=start,
        end=end,
        repeat=where.integer(raw, "repeat", 1, 1, MAX_REPEAT),
        title_card=_parse_title_card(raw, where, warnings),
        subtitles=_subtitles(where.text(raw, "subtitles", None), base),
        seconds=where.number(raw, "seconds", PHOTO_SECONDS, low=0, high=86400, low_open=True,
                             expected="a number of seconds above 0 (how long a photo shows)"),
    )
    stream = where.boolean(raw, "stream", False)
    if _WEB.match(file):
        return _url_item(number, file, sha256=sha256.lower() if sha256 else None, stream=stream, **fields)
    if stream:
        warnings.append(f'{where.label("stream")} is only for a film given by a link; ignored')
    if sha256 is not None:
        warnings.append(f'{where.label("sha256")} is only checked for a film fetched from a link; ignored')
    return ProgrammeItem(number=number, file=_resolve(file, base), **fields)


def _subtitles(value: str | None, base: Path) -> str | None:
    """An item's subtitles: "off", a language tag as it is, or a file (resolved against the programme's folder)."""
    if value is None or value == "off" or ("/" not in value and "." not in value):
        return value
    return str(_resolve(value, base))


def _parse_title_card(raw: dict, where: _Where, warnings: list[str]) -> TitleCard | None:
    if "title_card" not in raw:
        return None
    card = raw["title_card"]
    if isinstance(card, str):
        return TitleCard(where.text(raw, "title_card", None))
    if not isinstance(card, dict):
        raise where.wrong("title_card", card, 'a text, or {text, seconds}')
    inner = _Where(where.path, where.item, prefix="title_card.")
    inner.unknown_keys(card, TITLE_CARD_KEYS, warnings)
    if "text" not in card:
        raise ProgrammeError(f"{inner.label('text')} is missing; give the text to show before the film")
    return TitleCard(
        text=inner.text(card, "text", None),
        seconds=inner.number(card, "seconds", TITLE_CARD_SECONDS, low=0, high=600, low_open=True,
                             expected="a number of seconds above 0, up to 600"),
    )


# --- playlist rules --------------------------------------------------------------------------------------------


class ProgrammeCursor:
    """Where the kiosk is in the play order, and which films to skip.

    `order` holds item indexes (from `Programme.play_order()`); `position` is a slot in it: -1 before the first
    film, len(order) after the last when not looping. A film that fails is marked bad for the current pass (one
    run through the order) and its slots are skipped until the order wraps round, when it is tried again — a film
    on a USB stick plugged in late comes back by itself. When every item is bad at once, nothing can play:
    `no_playable` turns true and next() returns None until rewind() (the caller shows the attract screen and
    retries later, or asks staff).
    """

    def __init__(self, order: Sequence[int], loop: bool = True):
        self.order = list(order)
        self.loop = loop
        self.position = -1
        self.bad: set[int] = set()  # only items of the order: no_playable compares sizes (a long list asks it often)
        self.passes = 0  # how many times the order wrapped round
        self._items = frozenset(self.order)

    @property
    def current(self) -> int | None:
        """The item index at the cursor, or None before the start / after the end."""
        return self.order[self.position] if 0 <= self.position < len(self.order) else None

    @property
    def ended(self) -> bool:
        """Past the last film of a non-looping programme."""
        return self.position >= len(self.order)

    @property
    def no_playable(self) -> bool:
        return not self.order or len(self.bad) >= len(self._items)

    def mark_bad(self, index: int | None = None) -> None:
        """Skip this item (default: the current one) for the rest of this pass."""
        index = self.current if index is None else index
        if index in self._items:
            self.bad.add(index)

    def next(self) -> int | None:
        """Move to the next playable slot; its item index, or None at the end (no loop) or when nothing can play."""
        if self.no_playable:
            return None
        position = self.position
        for _ in range(2 * len(self.order) + 1):  # a wrap clears the marks, so one more lap always finds a film
            position += 1
            if position >= len(self.order):
                if not self.loop:
                    self.position = len(self.order)
                    return None
                position = 0
                self.passes += 1
                self.bad.clear()  # a new pass: failed films get another chance
            if self.order[position] not in self.bad:
                self.position = position
                return self.order[position]
        return None  # pragma: no cover - unreachable: no_playable was checked above

    def previous(self) -> int | None:
        """Move to the previous playable slot; at the start it wraps round when looping, else stays on the first."""
        if self.no_playable:
            return None
        position = min(self.position, len(self.order))
        for _ in range(len(self.order)):
            position -= 1
            if position < 0:
                if not self.loop:
                    break
                position = len(self.order) - 1
            if self.order[position] not in self.bad:
                self.position = position
                return self.order[position]
        # Nothing playable before us without looping: start the programme again from its first playable film.
        self.position = -1
        return self.next()

    def goto(self, index: int) -> int:
        """Staff asked for item `index` (0-based; item number N is index N-1): play it even if it failed this pass."""
        if index not in self._items:
            raise IndexError(f"no item {index + 1} in the programme (it has {len(set(self.order))})")
        self.bad.discard(index)
        self.position = self.order.index(index)
        return index

    def rewind(self) -> None:
        """Back to before the first film, every film given another chance (after no_playable, or a new day)."""
        self.position = -1
        self.bad.clear()


def cursor_after_reload(old: Programme, cursor: ProgrammeCursor, new: Programme) -> ProgrammeCursor:
    """A cursor on the reloaded programme, placed where `cursor` was on the old one, so next() plays what follows.

    The current film is found again by its file (the item with the same number first, as the same file may be listed
    twice with different trims), in the same repeat round where it can be; when it was removed, the cursor keeps
    its slot number. Bad marks are not carried over: after an edit every film gets another chance.
    """
    fresh = new.cursor()
    if cursor.position < 0 or not fresh.order:
        return fresh
    if cursor.ended:
        fresh.position = len(fresh.order) if not fresh.loop else -1
        return fresh
    current = cursor.current
    assert current is not None
    file = old.items[current].file
    matches = [i for i, item in enumerate(new.items) if item.file == file]
    if not matches:
        fresh.position = min(cursor.position, len(fresh.order)) - 1
        return fresh
    target = current if current in matches else matches[0]
    round_ = cursor.order[: cursor.position].count(current)  # 0 for the first repeat of this item
    slots = [slot for slot, index in enumerate(fresh.order) if index == target]
    fresh.position = slots[min(round_, len(slots) - 1)]
    return fresh


# --- reloading -------------------------------------------------------------------------------------------------


class ProgrammeWatcher:
    """Reloads the programme when its file changes; meant to be called between films (on the player thread).

    The first load raises ProgrammeError (there is nothing to fall back on). Later, a broken edit keeps the last
    good programme: reload_if_changed() returns its error line once per broken version (not once per film), and
    `error` holds it until the file is fixed, for the status page.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.programme = load_programme(self.path)
        self.error: str | None = None
        self._reported: str | None = None  # hash (or "unreadable") of the broken version already reported

    def reload_if_changed(self) -> tuple[Programme, bool, str | None]:
        """(programme, changed, error): changed is True when a new good programme was loaded."""
        # The file is small: hashing it every time is cheap and catches edits that keep mtime and size (FAT's 2 s
        # mtime resolution on a USB stick, a same-length fix of a typo).
        try:
            st = os.stat(self.path)
            data = self.path.read_bytes()
        except OSError as exc:
            return self._broken("unreadable", f"{self.path}: cannot read the programme ({exc.strerror or exc})")
        digest = hashlib.sha256(data).hexdigest()
        if digest == self.programme.sha256:
            self.error = self._reported = None
            return self.programme, False, None
        try:
            programme = parse_programme(data, self.path, mtime=st.st_mtime, size=st.st_size)
        except ProgrammeError as exc:
            return self._broken(digest, str(exc))
        self.programme, self.error, self._reported = programme, None, None
        return programme, True, None

    def _broken(self, version: str, message: str) -> tuple[Programme, bool, str | None]:
        self.error = f"{message} (still playing the last good programme)"
        if version == self._reported:
            return self.programme, False, None
        self._reported = version
        return self.programme, False, self.error
