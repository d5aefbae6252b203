"""One readable line per event: `12:03:04.512 INFO  media: opened film.mp4 (h264 1920x960 30 fps)`."""

import logging
import sys

_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s: %(message)s"


class _ShortNames(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # "vrplayer.media.video" reads as "media.video" on a log line.
        record.name = record.name.removeprefix("vrplayer.")
        return True


def setup(verbosity: int = 0, stream=None) -> None:
    """verbosity: -1 quiet (warnings), 0 info, 1+ debug."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
    handler.addFilter(_ShortNames())
    root = logging.getLogger("vrplayer")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # FFmpeg's own chatter ("Invalid NAL unit size", …) would flood the log on a corrupt film; we log our own line.
    # Leave PyAV's log callback off (None) unless asked: when it is on, FFmpeg's decoder threads take the GIL to
    # log, and a decoder being freed (which waits for those threads, GIL held) deadlocks.
    try:
        import av.logging

        av.logging.set_level(None if verbosity < 2 else av.logging.WARNING)
    except Exception:  # pragma: no cover - PyAV without logging control
        pass


def get(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("vrplayer") else f"vrplayer.{name}")
