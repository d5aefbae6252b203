"""Subtitle tracks: the cues of a sidecar file (SubRip .srt, WebVTT .vtt, ASS/SSA, TTML), read with pysubs2 (a kept
parser of all of them), each track with its language; the cue on show at a film time (pure).

Sidecars sit beside the film as FILM.LANG.EXT (`festival.zh.srt`, `festival.ar.vtt`) or FILM.EXT; `--subtitles`
names a file, or a language to find among them. Text is decoded by what it says it is: a byte-order mark (UTF-8,
UTF-16), else UTF-8; else (said, in a warning naming the file) UTF-16 without a mark, an XML file's declared
encoding, the legacy code page of the file's language, or charset-normalizer's guess.
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


# The legacy code pages subtitles in a language were saved in before UTF-8, most common first: a file's language
# (its name's tag) settles what a guess from a few short lines cannot (French in cp1252 reads as cp1250 too).
LEGACY = {
    "ru": ("cp1251", "koi8_r"), "uk": ("cp1251", "koi8_u"), "bg": ("cp1251",), "sr": ("cp1251", "cp1250"),
    "ar": ("cp1256",), "fa": ("cp1256",), "ur": ("cp1256",), "he": ("cp1255",), "el": ("cp1253",),
    "tr": ("cp1254",), "th": ("cp874",), "vi": ("cp1258",), "zh": ("gb18030", "big5"), "ja": ("cp932",),
    "ko": ("cp949",), "pl": ("cp1250",), "cs": ("cp1250",), "sk": ("cp1250",), "hu": ("cp1250",),
    "ro": ("cp1250",), "hr": ("cp1250",), "sl": ("cp1250",), "lt": ("cp1257",), "lv": ("cp1257",), "et": ("cp1257",),
}
WESTERN = ("cp1252",)  # every other language written in Latin letters
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def decode(data: bytes, source: str, language: str | None = None) -> str:
    """Subtitle bytes as text: a byte-order mark, else UTF-8, else UTF-16 without its mark, else the encoding an
    XML file declares, else the legacy code page of the file's `language`, else charset-normalizer's guess —
    each but UTF-8 said in a warning naming the file."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        not_utf8 = exc.start
    text, encoding, why = _legacy(data, language)
    _log.warning("%s is not UTF-8 (byte %d); read as %s (%s): save it as UTF-8 if its letters look wrong",
                 source, not_utf8, encoding, why)
    return text


def _legacy(data: bytes, language: str | None) -> tuple[str, str, str]:
    """(text, encoding, how it was chosen) for bytes that are not UTF-8."""
    head = data[:200]
    for order, encoding in ((1, "utf-16-le"), (0, "utf-16-be")):  # ASCII in UTF-16: every other byte is zero
        if len(head) >= 8 and head[order::2].count(0) >= 0.8 * len(head[order::2]):
            return data.decode(encoding, errors="replace"), encoding.upper(), "UTF-16 without its byte-order mark"
    declared = _DECLARED.match(data)
    if declared:
        name = declared.group(1).decode("ascii")
        try:
            return data.decode(name), name, "as the file declares"
        except (LookupError, UnicodeDecodeError):
            pass
    if language:
        for encoding in LEGACY.get(base_language(language), WESTERN):
            try:
                return data.decode(encoding), encoding, f"the legacy code page of its language, {language}"
            except UnicodeDecodeError:
                continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding, "guessed from its letters"
    return data.decode("cp1252", errors="replace"), "cp1252", "a last resort"


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
    text = decode(data, source, language or language_of(path, Path(film) if film else None))
    fmt = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ssa", ".ttml": "ttml", ".xml": "ttml"}.get(path.suffix.lower())
    if fmt in ("srt", "vtt"):
        text = _without_malformed_blocks(text, fmt, source)
    if fmt == "ttml":  # decoded already: a declared encoding would have the XML parser decode it again
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
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
    language = language or language_of(path, Path(film) if film else None)
    if language is None and fmt == "ttml":  # the document's own xml:lang
        declared = re.search(r"""<tt\b[^>]*\bxml:lang\s*=\s*["']([A-Za-z0-9-]+)["']""", text)
        language = declared.group(1) if declared and _LANGUAGE.match(declared.group(1)) else None
    return Track(tuple(cues), language, source, str(path))


_TIMING = re.compile(r"^\s*(\d+:)?\d{1,2}:\d{2}[,.]\d{1,3}\s*-->\s*(\d+:)?\d{1,2}:\d{2}[,.]\d{1,3}(\s.*)?$")
_VTT_BLOCKS = ("WEBVTT", "NOTE", "STYLE", "REGION")


def _without_malformed_blocks(text: str, fmt: str, source: str) -> str:
    """SubRip and WebVTT cues are blocks between blank lines, each with one timing line (`start --> end`). A block
    without a timing line that can be read is left out — with one warning naming the file and its first line —
    rather than handed to the parser, which would show it as text of the cue before."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept, bad, block, first = [], [], [], 0
    for number, line in enumerate([*lines, ""], 1):
        if line.strip():
            if not block:
                first = number
            block.append(line)
            continue
        if block:
            head = block[0].strip()
            timed = any(_TIMING.match(row) for row in block[:2])
            if timed or (fmt == "vtt" and head.split(" ")[0] in _VTT_BLOCKS):
                kept.extend(block)
            else:
                bad.append(first)
            kept.append("")
            block = []
    if bad:
        _log.warning("%s line %d%s: not a cue (no start --> end timing line that can be read); left out",
                     source, bad[0], f" (and {len(bad) - 1} more blocks)" if len(bad) > 1 else "")
    return "\n".join(kept)


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
    return base_language(a) == base_language(b)


def base_language(tag: str) -> str:
    """A language tag's language, as its two-letter code where it has one: zh-Hans → zh, chi → zh, pt_BR → pt."""
    tag = tag.lower().split("-")[0].split("_")[0]
    return next((two for two, threes in _THREE_LETTERS.items() if tag in threes), tag)


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
