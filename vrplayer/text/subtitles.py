"""Subtitle tracks: the cues of a sidecar file (SubRip .srt, WebVTT .vtt, ASS/SSA, TTML), read with pysubs2 (a kept
parser of all of them), each track with its language; the cue on show at a film time (pure).

Sidecars sit beside the film as FILM.LANG.EXT (`festival.zh.srt`, `festival.ar.vtt`) or FILM.EXT; `--subtitles`
names a file, or a language to find among them. Text is decoded by what it says it is: a byte-order mark (UTF-8,
UTF-16), else UTF-8, else the legacy Windows-1252 (said, in a warning naming the file).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from vrplayer import log
from vrplayer.errors import PlayerError, path_text

_log = log.get("subtitles")

EXTENSIONS = (".srt", ".vtt", ".ass", ".ssa", ".ttml")
OVERLAPPING = 16  # cues looked back over for one still on (overlaps are a few at most)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # en, zh, zh-Hans, pt-BR, ara


@dataclass(frozen=True)
class Cue:
    start: float  # seconds of film
    end: float
    text: str  # lines joined by \n
    direction: tuple[float, float] | None = None  # the speaker's yaw, pitch (degrees; text/directions.py)


@dataclass(frozen=True)
class Track:
    cues: tuple[Cue, ...]  # by start
    language: str | None
    source: str  # the file, for messages
    choice: str = ""  # what --subtitles takes to choose this track (its file)
    _starts: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_starts", tuple(cue.start for cue in self.cues))

    def cue_at(self, t: float) -> int | None:
        return cue_index(self.cues, self._starts, len(self.cues), t)


def cue_index(cues, starts, count: int, t: float) -> int | None:
    """The index of the cue on show at film time `t` among the first `count` of `cues` (by start; `starts` their
    start times): start ≤ t < end, of overlapping ones the latest to start; None when none is."""
    k = bisect.bisect_right(starts, t, 0, count) - 1
    for j in range(k, max(-1, k - OVERLAPPING), -1):
        if t < cues[j].end:
            return j
    return None


def decode(data: bytes, source: str) -> str:
    """Subtitle bytes as text: BOM first, then UTF-8, then Windows-1252 (with a warning)."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _log.warning("%s is not UTF-8 (byte %d); read as Windows-1252: save it as UTF-8 if its letters look wrong",
                     source, exc.start)
        return data.decode("cp1252", errors="replace")


def language_of(path: Path, film: Path | None = None) -> str | None:
    """The language in a sidecar's name: FILM.LANG.EXT → LANG; None when it names none."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    if film is not None and stem == film.stem:
        return None
    tag = stem.rsplit(".", 1)[-1] if "." in stem else None
    return tag.lower() if tag and _LANGUAGE.match(tag) else None


def load(path: str | Path, language: str | None = None, film: str | Path | None = None) -> Track:
    """The track in a subtitle file. Raises PlayerError (one line) for a file that cannot be read or holds no
    cue; cues that cannot be read are dropped with one warning naming the file."""
    import pysubs2

    path = Path(path)
    source = path_text(str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlayerError(f"cannot read the subtitles {source} ({exc.strerror})") from None
    text = decode(data, source)
    fmt = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ssa", ".ttml": "ttml", ".xml": "ttml"}.get(path.suffix.lower())
    try:
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    except Exception as exc:  # the parser's own errors name no common base
        raise PlayerError(f"cannot read the subtitles {source}: {exc}; is it a subtitle file?") from None
    from vrplayer.text.directions import read_speakers, ttml_directions

    placed = dict(enumerate(ttml_directions(text, source) if fmt == "ttml" else [], 1))
    placed.update(read_speakers(path))
    cues, dropped = [], 0
    for number, event in enumerate((event for event in subs if not event.is_comment), 1):
        body = event.plaintext.strip()
        if not body or event.end <= event.start:
            dropped += bool(body)
            continue
        cues.append(Cue(event.start / 1000.0, event.end / 1000.0, body, placed.get(number)))
    if dropped:
        _log.warning("%s: %d cues end before they start; they are left out", source, dropped)
    if not cues:
        raise PlayerError(f"the subtitles {source} hold no cue that can be shown")
    cues.sort(key=lambda cue: cue.start)
    return Track(tuple(cues), language or language_of(path, Path(film) if film else None), source, str(path))


def sidecars(film: str | Path) -> list[Path]:
    """The subtitle files beside a film: FILM.EXT and FILM.LANG.EXT, sorted by name."""
    film = Path(film)
    try:
        found = [p for p in film.parent.iterdir() if p.suffix.lower() in EXTENSIONS
                 and (p.stem == film.stem or p.name.startswith(film.stem + "."))]
    except OSError:
        return []
    return sorted(found)


# Two-letter (ISO 639-1) codes and the three-letter (639-2, bibliographic and terminology) codes films are tagged
# with, for the languages festivals subtitle most.
_THREE_LETTERS = {
    "en": ("eng",), "zh": ("chi", "zho"), "ru": ("rus",), "ar": ("ara",), "hi": ("hin",), "fr": ("fre", "fra"),
    "de": ("ger", "deu"), "es": ("spa",), "pt": ("por",), "it": ("ita",), "ja": ("jpn",), "ko": ("kor",),
    "he": ("heb",), "th": ("tha",), "bn": ("ben",), "ta": ("tam",), "el": ("gre", "ell"), "uk": ("ukr",),
    "pl": ("pol",), "nl": ("dut", "nld"), "tr": ("tur",), "fa": ("per", "fas"), "ur": ("urd",),
}


def same_language(a: str | None, b: str | None) -> bool:
    """Whether two language tags name one language: en = eng = en-GB, zh = chi = zho = zh-Hans."""
    if not a or not b:
        return False

    def base(tag: str) -> str:
        tag = tag.lower().split("-")[0].split("_")[0]
        return next((two for two, threes in _THREE_LETTERS.items() if tag in threes), tag)

    return base(a) == base(b)


def available(film: str | Path) -> list[dict]:
    """Every subtitle track of the film: sidecars, then its own streams — {"language", "source", "choice", …};
    "choice" is what --subtitles takes to choose that very track."""
    from vrplayer.text.embedded import streams_of

    tracks = [{"language": language_of(p, Path(film)), "source": "sidecar", "file": str(p), "choice": str(p)}
              for p in sidecars(film)]
    tracks += [{**stream, "source": "stream", "choice": f"stream:{stream['index']}"} for stream in streams_of(str(film))]
    return tracks


def choose(film: str | Path, wanted: str | None):
    """The track `--subtitles` asks for: a file, a language (a sidecar's first, then the film's own stream), or
    None for "off"/None."""
    if wanted is None or wanted == "off":
        return None
    if Path(wanted).suffix.lower() in EXTENSIONS + (".xml",) or Path(wanted).exists():
        return load(wanted, film=film)
    tracks = available(film)
    if wanted.startswith("stream:"):  # one of the film's own streams by its index (key S goes through them)
        from vrplayer.text.embedded import EmbeddedTrack

        for track in tracks:
            if track["source"] == "stream" and f"stream:{track['index']}" == wanted and not track["picture"]:
                return EmbeddedTrack(str(film), track["index"], track["language"])
        raise PlayerError(f"{path_text(str(film))} has no text subtitle {wanted.replace(':', ' ')}")
    for track in tracks:
        if track["source"] == "sidecar" and same_language(track["language"], wanted):
            return load(track["file"], track["language"], film)
    for track in tracks:
        if track["source"] == "stream" and not track["picture"] and same_language(track["language"], wanted):
            from vrplayer.text.embedded import EmbeddedTrack

            return EmbeddedTrack(str(film), track["index"], track["language"])
    found = ", ".join(sorted({t["language"] or "?" for t in tracks})) or "none"
    raise PlayerError(f"no {wanted} subtitles beside or in {path_text(str(film))} (found: {found}); name them "
                      f"{Path(film).stem}.{wanted}.srt, or give the file with --subtitles FILE")
