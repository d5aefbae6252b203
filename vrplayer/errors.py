"""Errors a user can act on: each carries one line saying what is wrong and what to do."""


class PlayerError(Exception):
    """A failure the command line reports as one line (no traceback) before exiting non-zero."""


class MediaError(PlayerError):
    """The file cannot be opened, is not a video, or cannot be decoded."""


class DisplayUnavailable(PlayerError):
    """No display of the asked-for kind can be opened here."""


class AudioUnavailable(PlayerError):
    """No audio output device can be opened; the player goes on silently."""
