"""A streamed film (HLS or DASH): its segments fetched ahead of where the picture and the sound are read, the
picture's variant chosen segment by segment from the throughput measured (media/adaptive.py), a segment that fails
retried, and one that fails for good skipped and told as a hole.

Each reader (the picture's demuxer, the sound's) reads the film as a run of pieces: a piece is one variant's
initialisation segment (fMP4) followed by its media segments in order, as one byte stream FFmpeg reads like a file
(`format`: mpegts or mp4); a piece ends where the next segment fetched is another variant's, and the reader opens
the next piece, whose first segment starts with a key frame (HLS and DASH variants are cut at the same times), so
the switch falls between segments without a jump. The sound, when it comes apart (an HLS audio rendition, a DASH
audio AdaptationSet), has a lane of its own; muxed with the picture, it reads the picture's lane.

Same doors as media/netbuffer.py for the player: seconds_ahead_of, throughput, complete, idle_for, error, close.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from vrplayer import log
from vrplayer.errors import MediaError
from vrplayer.media import manifests
from vrplayer.media.adaptive import Throughput, VariantChooser
from vrplayer.media.manifests import ManifestError, Presentation, Segment, Track
from vrplayer.media.network import connection_line, status_line

_log = log.get("media.stream")

AHEAD_SECONDS = 30.0  # a lane fetches this far ahead of its readers
TRIES = 3  # a segment is asked for this many times before it is skipped as a hole
TIMEOUT = 10.0
_BACKOFF = (0.3, 1.0, 2.0)
LIVE_EDGE_SEGMENTS = 3  # a live stream starts this many segments from its end (RFC 8216 6.3.3)


def fetch(url: str, byterange: tuple[int, int] | None = None) -> bytes:
    """One GET (a byte range of it when given); OSError or urllib's errors when it fails."""
    headers = {"Accept-Encoding": "identity"}
    if byterange is not None:
        headers["Range"] = f"bytes={byterange[0]}-{byterange[0] + byterange[1] - 1}"
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT) as response:
        return response.read()


def read_presentation(url: str) -> Presentation:
    """The stream's manifest, and (HLS) the media playlists of its variants and sound; MediaError, one line."""
    kind = manifests.is_manifest(url)
    try:
        text = fetch(url).decode("utf-8", "replace")
        if kind == "dash":
            return manifests.dash(text, url)
        master = manifests.hls_master(text, url)
        if master is None:  # a media playlist alone: one variant
            track = Track("video", 0, playlist=url)
            live, target = manifests.hls_media(text, url, track)
            return Presentation("hls", [track], None, live, target)
        variants, audio = master
        live, target = False, 2.0
        for track in variants + ([audio] if audio else []):
            live, target = manifests.hls_media(fetch(track.playlist).decode("utf-8", "replace"), track.playlist, track)
        return Presentation("hls", variants, audio, live, target)
    except urllib.error.HTTPError as error:
        raise MediaError(status_line(url, error.code, error.reason)) from None
    except (urllib.error.URLError, OSError) as error:
        raise MediaError(connection_line(url, error)) from None
    except ManifestError as error:
        raise MediaError(f"{url}: {error}; check that the link is the stream's manifest") from None


@dataclass
class _Fetched:
    segment: Segment
    variant: int  # index into the lane's tracks
    data: bytes | None  # None: it failed for good (a hole)


class _Lane:
    """The segments of one kind (the picture's variants, or the sound), fetched in order on a thread of its own."""

    def __init__(self, source: "StreamSource", tracks: list[Track], adaptive: bool):
        self.source = source
        self.tracks = tracks
        self.adaptive = adaptive
        self.chooser = VariantChooser([track.bandwidth for track in tracks])
        self.inits: dict[int, bytes] = {}
        self.fetched: dict[int, _Fetched] = {}  # by segment number
        self.readers: dict[int, int] = {}  # reader id → the segment number it reads
        self.next_number: int | None = None  # the next segment to fetch
        self.base = 0.0  # a live stream's time of the segment it was joined at: media time 0 for the player
        self.thread = threading.Thread(target=self._run, name=f"stream-{tracks[0].kind}", daemon=True)

    @property
    def segments(self) -> list[Segment]:
        return self.tracks[self.chooser.current].segments

    def start_at(self, seconds: float | None) -> int:
        """The number of the segment holding `seconds` (None: a live stream's start near its edge)."""
        segments = self.segments
        if not segments:
            raise MediaError(f"{self.source.url}: the stream has no segments yet")
        if seconds is None:
            return segments[max(0, len(segments) - LIVE_EDGE_SEGMENTS)].number
        chosen = segments[0]
        for segment in segments:
            if segment.start <= seconds + 1e-6:
                chosen = segment
        return chosen.number

    def segment(self, number: int, variant: int | None = None) -> Segment | None:
        for segment in self.tracks[self.chooser.current if variant is None else variant].segments:
            if segment.number == number:
                return segment
        return None

    def _run(self) -> None:
        source = self.source
        while not source.closed:
            with source.cond:
                number = self._wanted()
                if number is None:
                    source.cond.wait(0.2)
                    continue
            try:
                self._fetch(number)
            except Exception as error:  # (the lane must never die silently: its readers would wait for good)
                _log.warning("%s: fetching segment %d went wrong (%s); trying again", source.url, number, error)
                time.sleep(_BACKOFF[-1])

    def _wanted(self) -> int | None:
        """The next segment to fetch: from where the readers are, within AHEAD_SECONDS (under the lock)."""
        if self.next_number is None:
            return None
        if self.readers:
            low = min(self.readers.values())
            if self.next_number < low or self.next_number in self.fetched:
                self.next_number = max(low, self.next_number)
                while self.next_number in self.fetched:
                    self.next_number += 1
            first = self.segment(low)
            upcoming = self.segment(self.next_number)
            if first is not None and upcoming is not None and upcoming.start - first.start > AHEAD_SECONDS:
                return None
        return self.next_number if self.segment(self.next_number) is not None else None

    def _fetch(self, number: int) -> None:
        source = self.source
        variant = self.chooser.current
        segment = self.segment(number, variant)
        track = self.tracks[variant]
        if segment is None:  # (gone from a live playlist meanwhile, or not in this variant's list)
            with source.cond:
                self.next_number = number + 1
                source.cond.notify_all()
            return
        data, why = None, "no answer"
        if track.init is not None and variant not in self.inits:
            try:
                self.inits[variant] = fetch(track.init.url, track.init.byterange)
            except (urllib.error.URLError, OSError) as error:
                _log.warning("%s: the initialisation segment of %s failed (%s); trying again", source.url, track.name, error)
                time.sleep(_BACKOFF[0])
                return
        for attempt in range(TRIES):
            started = time.monotonic()
            try:
                data = fetch(segment.url, segment.byterange)
                break
            except urllib.error.HTTPError as error:
                why = f"{error.code} {error.reason}"
            except (urllib.error.URLError, OSError) as error:
                why = str(getattr(error, "reason", error))
            if source.closed:
                return
            _log.warning("segment %d of %s failed (%s), try %d of %d", number, track.name or track.kind, why, attempt + 1, TRIES)
            time.sleep(_BACKOFF[min(attempt, len(_BACKOFF) - 1)])
        with source.cond:
            if data is None:
                source.holes.append((segment.start, segment.start + segment.duration, f"segment {number} failed: {why}"))
                _log.error("%s: segment %d (%.2f–%.2f s) failed %d times (%s): skipped, a hole in the %s", source.url,
                           number, segment.start, segment.start + segment.duration, TRIES, why, track.kind)
            else:
                source.arrived(len(data), time.monotonic() - started, self.adaptive)
            self.fetched[number] = _Fetched(segment, variant, data)
            self.next_number = number + 1
            self._forget_behind()
            source.cond.notify_all()
        if self.adaptive and data is not None:
            self._adapt()

    def _adapt(self) -> None:
        before = self.chooser.current
        after = self.chooser.choose(self.source.meter.estimate)
        if after != before:
            old, new = self.tracks[before], self.tracks[after]
            _log.info("stream: %s (%d kb/s) → %s (%d kb/s): %.0f kb/s measured", _size(old), old.bandwidth // 1000,
                      _size(new), new.bandwidth // 1000, (self.source.meter.estimate or 0) / 1000)
            self.source.switches += 1

    def _forget_behind(self) -> None:
        """Segments every reader is past, beyond a few kept for a step back, go."""
        if not self.readers:
            return
        low = min(self.readers.values()) - 3
        for number in [n for n in self.fetched if n < low]:
            del self.fetched[number]


class _PieceReader:
    """A file-like run of one variant's segments (its init first), as FFmpeg reads a file; ends where the next
    segment is another variant's (a switch) or the stream ends."""

    _ids = iter(range(1, 1 << 62))

    def __init__(self, lane: _Lane, number: int, variant: int, reader_id: int):
        self._lane, self._number, self.variant, self._id = lane, number, variant, reader_id
        self._buffer = lane.inits.get(variant, b"")
        self.next_number: int | None = None  # where the following piece starts (None: the end)
        self.holes = 0

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            if not self._next_segment():
                return b""
        size = len(self._buffer) if size is None or size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _next_segment(self) -> bool:
        lane, source = self._lane, self._lane.source
        with source.cond:
            while not source.closed:
                lane.readers[self._id] = self._number
                if lane.segment(self._number) is None and not source.live:
                    self.next_number = None
                    return False  # the stream's end
                got = lane.fetched.get(self._number)
                if got is not None:
                    if got.variant != self.variant:  # a switch: the next piece starts here
                        self.next_number = self._number
                        return False
                    self._number += 1
                    if got.data is None:
                        self.holes += 1
                        continue
                    self._buffer = got.data
                    return True
                if lane.next_number is None or lane.next_number > self._number + 1 or lane.next_number < self._number:
                    lane.next_number = self._number  # this reader went elsewhere (a seek): fetch from here
                source.cond.notify_all()
                source.cond.wait(0.2)
            raise OSError("the stream was closed")

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        pass


class StreamSource:
    segmented = True
    size = None

    def __init__(self, url: str):
        self.url = url
        presentation = read_presentation(url)
        self.presentation = presentation
        self.live = presentation.live
        self.duration = presentation.duration
        self.format = "mpegts" if presentation.kind == "hls" and presentation.variants[0].init is None else "mp4"
        self.cond = threading.Condition()
        self.closed = False
        self.holes: list[tuple[float, float, str]] = []
        self.switches = 0
        self.meter = Throughput()
        self.error: str | None = None
        self._arrivals: list[tuple[float, int]] = []
        self._last_arrival = time.monotonic()
        self.video = _Lane(self, presentation.variants, adaptive=True)
        self.audio = _Lane(self, [presentation.audio], adaptive=False) if presentation.audio else None
        for lane in self._lanes():
            lane.thread.start()
        if self.live:
            threading.Thread(target=self._reload, name="stream-reload", daemon=True).start()
        variants = ", ".join(f"{_size(t)} {t.bandwidth // 1000} kb/s" for t in presentation.variants)
        _log.info("%s: %s %s, %d variants (%s)%s", url, presentation.kind.upper(), "live" if self.live else "on demand",
                  len(presentation.variants), variants, ", sound apart" if self.audio else "")

    def _lanes(self) -> list[_Lane]:
        return [self.video] + ([self.audio] if self.audio else [])

    def pieces(self, target: float, kind: str):
        """The pieces (file-like, piece start in seconds) the `kind` reader reads from `target` on ("video" or
        "audio"; the sound of a stream that has it muxed reads the picture's lane)."""
        lane = self.audio if kind == "audio" and self.audio is not None else self.video
        reader_id = next(_PieceReader._ids)
        with self.cond:
            joining = self.live and target <= 0
            number = lane.start_at(None if joining else target)
            if joining:  # media time 0 is where the stream is joined
                lane.base = lane.segment(number).start
            lane.readers[reader_id] = number
            if lane.next_number is None or not (number <= lane.next_number <= number + 1) and number not in lane.fetched:
                lane.next_number = number
            self.cond.notify_all()
        try:
            while number is not None and not self.closed:
                with self.cond:
                    while number not in lane.fetched and not self.closed:
                        self.cond.wait(0.2)
                    if self.closed:
                        return
                    variant = lane.fetched[number].variant
                segment = lane.segment(number, variant)
                piece = _PieceReader(lane, number, variant, reader_id)
                yield piece, (segment.start - lane.base) if segment is not None else 0.0
                number = piece.next_number
        finally:
            with self.cond:
                lane.readers.pop(reader_id, None)

    def reader(self, kind: str = "video"):
        """The first piece of the `kind` reader's lane, for reading the stream's facts."""
        first, _ = next(self.pieces(0.0, kind))
        return first

    def init_bytes(self, kind: str = "video") -> bytes | None:
        """The fMP4 initialisation segment of the variant playing (its 360° and sound metadata), or None."""
        lane = self.audio if kind == "audio" and self.audio is not None else self.video
        track = lane.tracks[lane.chooser.current]
        if track.init is None:
            return None
        if lane.chooser.current not in lane.inits:
            lane.inits[lane.chooser.current] = fetch(track.init.url, track.init.byterange)
        return lane.inits[lane.chooser.current]

    # -- what the player asks (as of media/netbuffer.py) --------------------------------------------------------

    def arrived(self, size: int, seconds: float, measure: bool) -> None:
        now = time.monotonic()
        self._last_arrival = now
        self._arrivals.append((now, size))
        if measure:
            self.meter.add(size, seconds)

    def seconds_ahead_of(self, position: float) -> float:
        with self.cond:
            lane = self.video
            if not lane.readers:
                return 0.0
            number = min(lane.readers.values())
            end = position
            while number in lane.fetched:
                got = lane.fetched[number]
                end = got.segment.start + got.segment.duration - lane.base
                number += 1
            if not self.live and lane.segment(number) is None:
                return float("inf")
            return max(0.0, end - position)

    def throughput(self) -> float:
        """Bytes per second arriving (the link's estimate, from the segments' downloads)."""
        estimate = self.meter.estimate
        return 0.0 if estimate is None else estimate / 8

    @property
    def complete(self) -> bool:
        return self.seconds_ahead_of(0.0) == float("inf")

    def idle_for(self) -> float:
        with self.cond:
            wanted = any(lane._wanted() is not None for lane in self._lanes())
        return time.monotonic() - self._last_arrival if wanted else 0.0

    @property
    def byte_rate(self) -> float:
        """Bytes per second the variant playing needs (its manifest's bandwidth)."""
        return self.variant().bandwidth / 8

    def variant(self) -> Track:
        return self.video.tracks[self.video.chooser.current]

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _reload(self) -> None:
        """A live stream's playlists, read again as often as they change, so its new segments can be fetched."""
        every = self.presentation.reload_every
        while not self.closed:
            time.sleep(every)
            try:
                if self.presentation.kind == "dash":
                    fresh = manifests.dash(fetch(self.url).decode("utf-8", "replace"), self.url)
                    with self.cond:
                        for lane, tracks in ((self.video, fresh.variants), (self.audio, [fresh.audio] if fresh.audio else [])):
                            if lane is not None:
                                for old, new in zip(lane.tracks, tracks):
                                    old.segments = new.segments
                        self.cond.notify_all()
                    continue
                for lane in self._lanes():
                    for track in lane.tracks:
                        text = fetch(track.playlist).decode("utf-8", "replace")
                        with self.cond:
                            live, _ = manifests.hls_media(text, track.playlist, track)
                            self.live = self.live and live
                            self.cond.notify_all()
            except (urllib.error.URLError, OSError, ManifestError) as error:
                self.error = f"the live playlist could not be read again ({error})"
                _log.warning("%s: %s", self.url, self.error)


def _size(track: Track) -> str:
    return f"{track.width}x{track.height}" if track.width else track.name or track.kind
