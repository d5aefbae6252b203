"""Errors a user can act on: each carries one line saying what is wrong and what to do."""


class PlayerError(Exception):
    """A failure the command line reports as one line (no traceback) before exiting non-zero."""


class MediaError(PlayerError):
    """The file cannot be opened, is not a video, or cannot be decoded."""


class DisplayUnavailable(PlayerError):
    """No display of the asked-for kind can be opened here."""


class AudioUnavailable(PlayerError):
    """No audio output device can be opened; the player goes on silently."""


def path_text(path) -> str:
    """A file's path as it goes into a one-line message: as it is when it prints on one line, else quoted with its
    control characters (a newline, a tab, bytes that are not text) escaped, so that the message stays one line."""
    text = str(path)
    return text if text.isprintable() else repr(text)
