"""How a film's sound reaches the ears: played as it is (mono, stereo), or rendered for the head (ambisonics,
5.1/7.1, TBE: rotated by the head's orientation, decoded binaurally with an HRTF).

Ties the sound decision (`vrplayer.media.soundtrack.decide_sound`) to the renderer the mixer runs in the audio
callback.
"""

from __future__ import annotations

from vrplayer import log
from vrplayer.errors import PlayerError
from vrplayer.media.soundtrack import SoundDecision

_log = log.get("audio")


def make_renderer(decision: SoundDecision, rate: int, hrtf_path: str | None):
    """The BinauralRenderer for the film's sound at the output's rate, or None to play it as decoded. An HRTF that
    cannot be read is one warning: the sound then plays as a plain downmix rather than not at all."""
    if not decision.rendered:
        return None
    from vrplayer.audio.binaural import BinauralRenderer

    try:
        return BinauralRenderer(decision.format, rate, sofa_path=hrtf_path)
    except PlayerError as exc:  # hrtf.HrtfError: a missing or broken SOFA file
        _log.warning("%s; playing the sound as a plain stereo downmix", exc)
        return None
