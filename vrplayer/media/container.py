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
        return av.open(path, "r", metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise MediaError(f"{path}: not a video file FFmpeg can read (corrupt or unknown format)") from None
    except av.error.PermissionError:
        raise MediaError(f"{path}: permission denied; check the file's read permission") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"{path}: cannot be opened ({_reason(exc)})") from None


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
    streams = [s for s in container.streams.audio if _decoder_exists(s)]
    return streams[0] if streams else None


def _decoder_exists(stream) -> bool:
    try:
        return stream.codec_context is not None and stream.codec_context.codec.is_decoder
    except Exception:
        return False


def origin_seconds(container) -> float:
    """The container's start time: media time 0 for both video and audio."""
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.strip().rstrip(".") or type(exc).__name__
