"""Opening a film with PyAV, turning every way that can fail into one line a user can act on."""

from __future__ import annotations

import os

import av

from vrplayer.errors import MediaError


def open_container(path: str) -> av.container.InputContainer:
    if not os.path.exists(path):
        raise MediaError(f"{path}: no such file; check the path")
    if os.path.isdir(path):
        raise MediaError(f"{path}: is a folder, not a film; give the path of a video file")
    try:
        return _open(path)
    except av.error.InvalidDataError:
        raise MediaError(f"{path}: not a video file FFmpeg can read (corrupt or unknown format)") from None
    except av.error.PermissionError:
        raise MediaError(f"{path}: permission denied; check the file's read permission") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"{path}: cannot be opened ({_reason(exc)})") from None


def _open(path: str):
    try:
        # PyAV 18: undecodable metadata (a badly tagged title) must not stop the film from opening.
        return av.open(path, "r", metadata_errors="ignore")
    except TypeError:
        return av.open(path, "r")  # PyAV 19 has no such option (and no longer fails on such metadata)


def video_stream(container, path: str):
    streams = container.streams.video
    # Cover art is stored as a one-picture "video" stream; a film needs a real one.
    films = [s for s in streams if not (s.disposition & av.stream.Disposition.attached_pic)]
    if not films:
        raise MediaError(f"{path}: has no video stream; vrplayer plays films, not audio-only or image files")
    stream = films[0]
    if stream.codec_context is None or not _decoder_exists(stream):
        codec = f"video codec '{stream.codec_context.name}'" if stream.codec_context else "an unknown video codec"
        raise MediaError(f"{path}: {codec} is not supported by this FFmpeg build; re-encode the film to H.264 or HEVC")
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
            self._log.warning("corrupt %s packet skipped at %s (%s); %d so far", self._what, when, _reason(exc), self.count)


def decoded_frames(container, stream, keep_going, on_corrupt, logger, before_packet=None):
    """The frames of one stream. Corrupt packets go to `on_corrupt` and are skipped; a container that breaks off
    (truncated file) ends the stream there, and what was decoded still plays. Stops when keep_going() is false.
    `before_packet(packet)`, when given, sees each packet before it is decoded (to set decoder options)."""
    try:
        for packet in container.demux(stream):
            if not keep_going():
                return
            if before_packet is not None:
                before_packet(packet)
            try:
                yield from stream.codec_context.decode(packet)
            except av.error.InvalidDataError as exc:
                on_corrupt(packet, exc)
    except av.error.FFmpegError as exc:
        logger.warning("%s stream ends early: %s", stream.type, _reason(exc))
    # Flush what the decoder still holds (frame threading keeps a few frames in flight).
    try:
        yield from stream.codec_context.decode(None)
    except av.error.FFmpegError:
        pass


def duration_seconds(container, stream) -> float | None:
    """The film's length: the video stream's own duration, else the container's, else unknown."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def origin_seconds(container) -> float:
    """The container's start time: media time 0 for both video and audio."""
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.strip().rstrip(".") or type(exc).__name__
