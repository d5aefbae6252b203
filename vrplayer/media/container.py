"""Opening a film with PyAV, turning every way that can fail into one line a user can act on.

Only regular files are opened: a FIFO, a socket or a device would keep FFmpeg waiting (or reading) forever. Opening
(the headers read, the streams probed) has a time limit, OPEN_TIMEOUT: it runs on a daemon thread, so that a film on
a drive or network share that stopped answering fails with one line instead of hanging the caller, and the thread
stuck in the kernel neither holds the player nor keeps the process from exiting (should it ever come back, it closes
what it opened).
"""

from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import stat
import tempfile
import threading

import av

from vrplayer import log
from vrplayer.errors import MediaError, path_text
from vrplayer.media.network import CONNECT_TIMEOUT, is_url, open_url
from vrplayer.media.spherical import read_container_layout
from vrplayer.media.structure import structure_problems

_log = log.get("media")

SOURCE_BUFFER = 256 * 1024  # bytes FFmpeg asks of a download's reader at a time (each ask is a call into Python)
OPEN_TIMEOUT = 5.0  # seconds; a local film of any size opens in well under one

_NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
# Boxes and elements of 360° metadata, as our reader names them in its problem lines.
_SPHERICAL_NAMES = ("st3d", "sv3d", "proj", "prhd", "equi", "cbmp", "mshp", "Spherical Video", "Projection", "StereoMode")


def open_container(path: str, source=None, kind: str = "video", whole: bool = True) -> av.container.InputContainer:
    """The film at `path` (a file, or an http(s) URL: media/network.py), opened; MediaError, one line, saying why not.
    `source`: the film's download (media/netbuffer.py), read through instead of the path. A camera's take split
    into chapters (media/camera.py) opens as one film of all of them, unless `whole` is False (the file alone)."""
    name = path_text(path)
    if whole and source is None and not is_url(path):
        from vrplayer.media import camera  # (camera's recognisers open files through here)

        parts = camera.chapters(path)
        if len(parts) > 1:
            return _within_time_limit(lambda: _open_chapters(parts), f"{name}: its chapters did not open within"
                                      f" {OPEN_TIMEOUT:g} s: the drive they are on may have stopped answering")
    if source is not None:
        return _within_time_limit(lambda: _open_source(path, source, kind), f"{name}: did not open within "
                                  f"{CONNECT_TIMEOUT:g} s: the server is too slow or stopped answering; check the "
                                  "network, or fetch the film first", CONNECT_TIMEOUT)
    if is_url(path):
        limit = CONNECT_TIMEOUT + 5.0  # (FFmpeg's own time limits come first; this one is for a server that trickles)
        return _within_time_limit(lambda: open_url(path), f"{name}: did not open within {limit:g} s: the server is "
                                  "too slow or stopped answering; check the network, or fetch the film first", limit)
    return _within_time_limit(
        lambda: _open_file(path, name),
        f"{name}: did not open within {OPEN_TIMEOUT:g} s: the drive or network share it is on may have stopped "
        "answering; check that the file can be read (or copy it to a local disk)",
    )


def _within_time_limit(work, late_message: str, limit: float = OPEN_TIMEOUT):
    """work() on a daemon thread; its result (or its exception) if it comes within `limit` seconds, else MediaError
    with `late_message`. A container that opens after the caller gave up is closed by the thread that opened it."""
    lock = threading.Lock()
    outcome: dict = {}
    finished = threading.Event()

    def run() -> None:
        try:
            result, error = work(), None
        except Exception as exc:
            result, error = None, exc
        with lock:
            if outcome.get("abandoned"):
                if result is not None:
                    result.close()
                _log.debug("a film that did not open in time came back: %s", late_message.split(":", 1)[0])
                return
            outcome["result"], outcome["error"] = result, error
        finished.set()

    threading.Thread(target=run, name="open-film", daemon=True).start()
    finished.wait(limit)
    with lock:
        if "result" not in outcome:
            outcome["abandoned"] = True
            raise MediaError(late_message)
    if outcome["error"] is not None:
        raise outcome["error"]
    return outcome["result"]


# A local file that FFmpeg would read as a list of other files to open reaches, through them, past the regular-file
# check: FIFOs, devices, other folders, other hosts. An HLS playlist (an exported stream's folder) plays with every
# file it names checked (_ListedFiles); a concat script is refused. Both are told by the first bytes their demuxers'
# own probes look for.
_HLS = b"#EXTM3U"
_CONCAT = b"ffconcat version"


def _first_bytes(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read(32).removeprefix(b"\xef\xbb\xbf")


class _ListedFiles:
    """FFmpeg's opener for the files a local HLS playlist names (PyAV's io_open): only regular files in the
    playlist's folder or below. One that is not is left out — an empty file to FFmpeg, whose HLS reader steps over
    it — with one warning naming it (an exception here would reach FFmpeg through PyAV's callback, which crashes)."""

    def __init__(self, playlist: str):
        self.playlist = os.path.realpath(playlist)
        self.folder = os.path.dirname(self.playlist)
        self.name = path_text(playlist)

    def __call__(self, url: str, flags: int, options: dict):
        named = url.removeprefix("file:")
        try:
            if "://" in named:
                raise MediaError(f"{path_text(named)}: is on another host; a local playlist plays local files")
            real = os.path.realpath(named)
            if real != self.playlist and not real.startswith(self.folder + os.sep):
                raise MediaError(f"{path_text(named)}: lies outside the playlist's folder")
            check_readable_file(real, path_text(named))
            return open(real, "rb")
        except Exception as exc:  # (MediaError's line, or what open() said)
            why = str(exc).split(";")[0] if isinstance(exc, MediaError) else f"{path_text(named)}: {reason(exc)}"
            if (self.playlist, named) not in _left_out:
                _left_out.add((self.playlist, named))
                _log.warning("%s: names %s; that part is left out", self.name, why)
            return io.BytesIO(b"")


_left_out: set = set()  # (playlist, file) pairs already warned of: the picture's and the sound's readers both ask


def _open_file(path: str, name: str):
    check_readable_file(path, name)
    start = _first_bytes(path)
    if start.startswith(_CONCAT):
        raise MediaError(f"{name}: is an FFmpeg concat script (a list of other files to play), not a film; give the "
                         "films themselves, or a kiosk programme naming them")
    try:
        return _open(path, _ListedFiles(path) if start.startswith(_HLS) else None)
    except (av.error.FFmpegError, OSError) as exc:
        if getattr(exc, "errno", None) == errno.EACCES:
            raise MediaError(f"{name}: permission denied; check the file's read permission") from None
        why = "corrupt or unknown format" if isinstance(exc, av.error.InvalidDataError) else reason(exc)
        raise MediaError(_unreadable(path, name, why)) from None


def _open_chapters(parts: list[str]):
    """A take's chapters as one film: FFmpeg's concat demuxer over them (one timeline, seekable, each chapter's
    streams in the first one's order), from a script in the temporary folder naming each with its duration."""
    lines = ["ffconcat version 1.0"]
    for part in parts:
        check_readable_file(part, path_text(part))
        try:
            with _open(part) as chapter:
                duration = chapter.duration / av.time_base if chapter.duration else None
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"{path_text(part)}: a chapter of {path_text(parts[0])} cannot be read ({reason(exc)});"
                             " move it out of the folder to play the chapters before it, or copy the take again") from None
        quoted = os.path.abspath(part).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if duration:
            lines.append(f"duration {duration:.6f}")
    text = "\n".join(lines) + "\n"
    script = os.path.join(tempfile.gettempdir(), f"vrplayer-chapters-{hashlib.sha1(text.encode()).hexdigest()[:16]}.ffconcat")
    if not os.path.exists(script):
        with open(script + ".part", "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(script + ".part", script)
    try:
        return av.open(script, "r", format="concat", options={"safe": "0"})
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"{path_text(parts[0])}: its chapters cannot be played as one film ({reason(exc)}); play"
                         " each chapter alone") from None


def seek_back(container, stream, seconds: float) -> None:
    """Seek to the key frame at or before `seconds` (the container's own timestamps). Chapters played as one film
    (the concat demuxer) are sought on the common clock: sought by a stream's timestamps, FFmpeg's concat refuses
    some times of it."""
    if container.format.name == "concat":
        container.seek(int(seconds * av.time_base), backward=True)
    else:
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)


def check_readable_file(path: str, name: str) -> None:
    """MediaError, one line, unless `path` is a regular, readable, non-empty file (what a film or photo can be)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise MediaError(f"{name}: no such file; check the path") from None
    except PermissionError:
        raise MediaError(f"{name}: permission denied; check the permissions of the folders on its path") from None
    except OSError as exc:
        raise MediaError(f"{name}: cannot be read ({exc.strerror or exc}); check the drive it is on") from None
    if stat.S_ISDIR(info.st_mode):
        raise MediaError(f"{name}: is a folder, not a film; give the path of a video file")
    for is_kind, kind in _NOT_REGULAR:
        if is_kind(info.st_mode):
            raise MediaError(f"{name}: is {kind}, not a regular file; vrplayer plays films from files: give the path of a video file")
    if info.st_size == 0:
        raise MediaError(f"{name}: is empty (0 bytes), not a video file: a download or copy that never finished? fetch it again")
    if not os.access(path, os.R_OK):
        raise MediaError(f"{name}: permission denied; check the file's read permission")


def _unreadable(path: str, name: str, why: str) -> str:
    """The line for a file FFmpeg refuses (`why`, in its words): what our own readers of its structure found
    broken, when they found something (its 360° metadata, a truncation), else that FFmpeg cannot read it."""
    try:
        layout = read_container_layout(path)
        problems = (layout.problems if layout is not None else []) or structure_problems(path)
    except Exception:
        problems = []
    if not problems:
        return f"{name}: not a video file FFmpeg can read ({why})"
    problem = problems[0]
    finding = problem.rpartition(": ")[0] or problem  # without what our reader did about it ("crop ignored")
    if any(word in problem for word in _SPHERICAL_NAMES):
        return (f"{name}: FFmpeg refuses the film over its broken 360° metadata: {finding}; re-inject the metadata "
                "(e.g. with Google's Spatial Media Metadata Injector) or export the film again")
    return f"{name}: not a video file FFmpeg can read ({why}): {finding}"


def _open_source(path: str, source, kind: str = "video"):
    """The film's download (or, streamed, its first piece of the `kind` reader's lane) opened by FFmpeg."""
    try:
        return open_piece(source.reader(kind), getattr(source, "format", None))
    except (av.error.FFmpegError, OSError) as exc:
        why = "what the server sends is not a film FFmpeg can read" if isinstance(exc, av.error.InvalidDataError) else reason(exc)
        raise MediaError(f"{path_text(path)}: {why}; check that the link is the film itself") from None


def open_piece(reader, format_name: str | None = None):
    """A file-like view of a film's bytes (a download, a streamed film's piece) opened by FFmpeg."""
    return av.open(reader, "r", format=format_name, buffer_size=SOURCE_BUFFER)


def _open(path: str, io_open=None):
    more = {"io_open": io_open} if io_open is not None else {}
    try:
        # PyAV 18: undecodable metadata (a badly tagged title) must not stop the film from opening.
        return av.open(path, "r", metadata_errors="ignore", **more)
    except TypeError:
        return av.open(path, "r", **more)  # PyAV 19 has no such option (and no longer fails on such metadata)


def video_stream(container, path: str):
    name = path_text(path)
    streams = container.streams.video
    # Cover art is stored as a one-picture "video" stream; a film needs a real one.
    films = [s for s in streams if not (s.disposition & av.stream.Disposition.attached_pic)]
    if not films:
        raise MediaError(f"{name}: has no video stream; vrplayer plays films, not audio-only or image files")
    stream = films[0]
    if stream.codec_context is None or not _decoder_exists(stream):
        codec = f"video codec '{stream.codec_context.name}'" if stream.codec_context else "an unknown video codec"
        raise MediaError(f"{name}: {codec} is not supported by this FFmpeg build; re-encode the film to H.264 or HEVC")
    return stream


def audio_stream(container):
    """The sound to play: of the tracks we can decode, the one with the most channels (a film carrying a spatial
    mix and a stereo fallback plays the spatial mix), the first of equals."""
    streams = [s for s in container.streams.audio if _decoder_exists(s)]
    return max(streams, key=lambda s: (s.codec_context.channels or 0, -s.index)) if streams else None


def _decoder_exists(stream) -> bool:
    try:
        return stream.codec_context is not None and stream.codec_context.codec.is_decoder
    except Exception:
        return False


class CorruptPacketCounter:
    """Counts corrupt packets and logs the first few (and every hundredth), so a damaged film cannot flood the log."""

    def __init__(self, logger, what: str):
        self._log = logger
        self._what = what
        self.count = 0

    def __call__(self, packet, exc: BaseException) -> None:
        self.count += 1
        if self.count <= 3 or self.count % 100 == 0:
            when = f"{float(packet.pts * packet.time_base):.3f} s" if packet.pts is not None and packet.time_base else "unknown time"
            self._log.warning("corrupt %s packet skipped at %s (%s); %d so far", self._what, when, reason(exc), self.count)


def decoded_frames(container, stream, keep_going, on_corrupt, logger, before_packet=None):
    """The frames of one stream. Packets the decoder refuses go to `on_corrupt` and are skipped, as FFmpeg's own
    tools skip them; a container that breaks off (truncated file) ends the stream there, and what was decoded still
    plays. Stops when keep_going() is false (asked before each packet). `before_packet(packet)`, when given, sees
    each packet before it is decoded (to set decoder options)."""
    try:
        for packet in container.demux(stream):
            if not keep_going():
                return
            if before_packet is not None:
                before_packet(packet)
            try:
                yield from stream.codec_context.decode(packet)
            except av.error.EOFError:
                raise
            except av.error.FFmpegError as exc:
                # Not only InvalidData: a damaged packet can make a decoder answer with any code (EPERM, EINVAL,
                # patch welcome …); one such packet must not end the film.
                on_corrupt(packet, exc)
    except av.error.FFmpegError as exc:
        logger.warning("%s stream ends early: %s", stream.type, reason(exc))
    # Flush what the decoder still holds (frame threading keeps a few frames in flight).
    try:
        yield from stream.codec_context.decode(None)
    except av.error.FFmpegError:
        pass


def piece_frames(source, kind: str, target: float, keep_going, on_corrupt, logger, on_piece):
    """A streamed film's frames of `kind` ("video" | "audio") from `target` on, piece after piece (a variant switch
    begins the next, media/segments.py). `on_piece(container, stream, origin)` is told of each piece as it opens:
    `origin` is the media time 0 in its timestamps (kept from the first piece, unless a piece disagrees by more
    than a second: variants that were not cut on one timeline)."""
    origin = None
    for reader, start in source.pieces(target, kind):
        if not keep_going():
            return
        container = open_piece(reader, source.format)
        streams = container.streams.video if kind == "video" else [s for s in container.streams.audio if _decoder_exists(s)]
        if not streams:
            container.close()
            logger.warning("a piece of the stream from %.2f s has no %s; skipped", start, kind)
            continue
        stream = streams[0]
        stream.thread_type = "AUTO"
        first = origin_seconds(container)
        if origin is None or abs(first - origin - start) > 1.0:
            origin = first - start
        on_piece(container, stream, origin)
        yield from decoded_frames(container, stream, keep_going, on_corrupt, logger)


def duration_seconds(container, stream) -> float | None:
    """The film's length: the video stream's own duration (or, in Matroska, the track's DURATION tag its muxer
    wrote), else the container's — the longest track's, which a sound running past the picture lengthens — else
    unknown."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if (tagged := _tagged_duration(stream.metadata.get("DURATION"))) is not None:
        return tagged
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _tagged_duration(text) -> float | None:
    """A Matroska track's DURATION tag ("HH:MM:SS.nnnnnnnnn", as FFmpeg's and mkvmerge's muxers write it)."""
    parts = str(text).split(":") if text else []
    try:
        hours, minutes, seconds = (float(part) for part in parts) if len(parts) == 3 else (None, None, None)
    except ValueError:
        return None
    if hours is None or not all(math.isfinite(v) and v >= 0 for v in (hours, minutes, seconds)):
        return None
    return hours * 3600 + minutes * 60 + seconds


def origin_seconds(container) -> float:
    """The container's start time: media time 0 for both video and audio."""
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def reason(exc: BaseException) -> str:
    """Why FFmpeg failed, in words. Its generic error code is EPERM, "Operation not permitted", which says nothing
    about permissions: it is named for what it means."""
    if isinstance(exc, av.error.FFmpegError) and exc.errno == errno.EPERM:
        return "FFmpeg gave up on damaged or unsupported data"
    if isinstance(exc, av.error.FFmpegError) and exc.errno == errno.ENOMEM:
        return "FFmpeg ran out of memory on it: a damaged size in the file, most likely"
    text = getattr(exc, "strerror", None) or str(exc)
    return text.strip().rstrip(".") or type(exc).__name__
