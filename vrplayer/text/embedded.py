"""Subtitle streams inside a film (MP4 `mov_text`, WebVTT, Matroska SubRip and ASS/SSA), read through PyAV: each
stream's language from its tag; its cues read by a thread of their own (the subtitle packets are spread through
the whole file) and shown as they arrive, which is long before the picture reaches them.
"""

from __future__ import annotations

import bisect
import re
import threading
import time

import av

from vrplayer import log
from vrplayer.errors import PlayerError, path_text
from vrplayer.media.container import open_container
from vrplayer.text.subtitles import Cue, cue_index

_log = log.get("subtitles")

TEXT_CODECS = ("mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text")
_OVERRIDES = re.compile(r"\{[^}]*\}")  # ASS override blocks: {\i1}, {\pos(…)}


def streams_of(path: str) -> list[dict]:
    """The film's text subtitle streams: [{"index", "language", "codec"}]; a picture-based one (DVD, PGS) is
    listed with "codec" and "picture": True (not shown: it has no text to draw)."""
    found = []
    try:
        with open_container(path) as container:
            for stream in container.streams.subtitles:
                name = stream.codec_context.name
                found.append({"index": stream.index, "language": _language(stream), "codec": name,
                              "picture": name not in TEXT_CODECS})
    except (av.FFmpegError, OSError, PlayerError):
        return []
    return found


def _language(stream) -> str | None:
    language = (stream.metadata.get("language") or "").strip().lower()
    return None if language in ("", "und") else language


def cue_text(dialogue: bytes | str) -> str:
    """An ASS dialogue's text as plain lines: override blocks dropped, \\N and \\n as line breaks."""
    text = dialogue.decode("utf-8", errors="replace") if isinstance(dialogue, bytes) else dialogue
    text = _OVERRIDES.sub("", text).replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    return "\n".join(line.strip() for line in text.split("\n")).strip()


class EmbeddedTrack:
    """A subtitle stream's cues, as a Track (text/subtitles.py) is: `cues`, `language`, `source`, `cue_at(t)`."""

    def __init__(self, path: str, index: int, language: str | None):
        self.path, self.index, self.language = path, index, language
        self.source = f"{path_text(path)} (stream {index})"
        self.choice = f"stream:{index}"  # what --subtitles takes to choose it
        self.cues: list = []
        self._starts: list[float] = []
        self.done = threading.Event()
        self._stop = False
        threading.Thread(target=self._read, name="subtitle-reader", daemon=True).start()

    def cue_at(self, t: float) -> int | None:
        return cue_index(self.cues, self._starts, len(self._starts), t)  # (the reader appends: what has come)

    def wait_for(self, t: float, timeout: float = 10.0) -> None:
        """Until the cues up to film time `t` are read (a snapshot's one moment; the player never waits)."""
        deadline = time.monotonic() + timeout
        while not self.done.is_set() and not (self._starts and self._starts[-1] > t) and time.monotonic() < deadline:
            self.done.wait(0.01)

    def close(self) -> None:
        self._stop = True

    def _read(self) -> None:
        try:
            with open_container(self.path) as container:
                stream = container.streams[self.index]
                for packet in container.demux(stream):
                    if self._stop:
                        return
                    if packet.pts is None:
                        continue
                    start = float(packet.pts * packet.time_base)
                    end = start + float((packet.duration or 0) * packet.time_base)
                    for text in _texts(packet.decode()):
                        if text and end > start:
                            self._add(Cue(start, end, text))
        except (av.FFmpegError, OSError, PlayerError) as exc:
            _log.warning("%s: subtitles stopped being read (%s); those read so far are shown", self.source, exc)
        finally:
            self.done.set()

    def _add(self, cue) -> None:
        k = bisect.bisect_right(self._starts, cue.start)
        if k == len(self._starts):  # (in order, as muxers write them: appended, safe to read meanwhile)
            self.cues.append(cue)
            self._starts.append(cue.start)
        else:
            self.cues.insert(k, cue)
            self._starts.insert(k, cue.start)


def _texts(decoded) -> list[str]:
    """The text of what a subtitle packet decodes to (PyAV gives subtitles, or sets of them, by version)."""
    texts = []
    for item in decoded:
        pieces = list(item) if not hasattr(item, "dialogue") and hasattr(item, "__iter__") else [item]
        for piece in pieces:
            dialogue = getattr(piece, "dialogue", None)
            if dialogue:
                texts.append(cue_text(dialogue))
            elif getattr(piece, "text", None):
                texts.append(cue_text(piece.text))
    return texts
