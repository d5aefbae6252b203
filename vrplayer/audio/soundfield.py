"""What a film's sound is, and how it reaches the ears: played as it is (mono, stereo), or rendered for the head
(ambisonics, 5.1/7.1, TBE: rotated by the head's orientation, decoded binaurally with an HRTF).

Ties the format decision (`vrplayer.formats.sound.format_for`: --audio-format, the SA3D box, the codec's own
layout, the sidecar manifest, the channel count) to the renderer the mixer runs in the audio callback.
"""

from __future__ import annotations

from dataclasses import dataclass

from vrplayer import log
from vrplayer.errors import PlayerError
from vrplayer.formats.sound import AudioFormat, format_for
from vrplayer.media.sa3d import read_sa3d

_log = log.get("audio")


@dataclass
class SoundDecision:
    format: AudioFormat
    source: str  # where the format came from, in words
    warning: str | None
    channels: int  # the track's channel count

    @property
    def rendered(self) -> bool:
        """True when the track's own channels go to the renderer (a sound field, or a wider track of which the
        first two channels play); False when the decoder resamples it to the output's channels."""
        return self.format.spatial or self.channels > 2

    def describe(self) -> str:
        what = f"{self.format.name}, rendered for the head (binaural)" if self.format.spatial else self.format.name
        return f"{what} — {self.source}"


def decide_sound(path: str, stream_index: int, channels: int, layout_name: str | None, manifest_audio: str | None,
                 override: str | None) -> SoundDecision:
    try:
        sa3d = read_sa3d(path, stream_index)
    except OSError:
        sa3d = None
    fmt, source, warning = format_for(channels, sa3d, manifest_audio, override, layout_name)
    return SoundDecision(fmt, source, warning, channels)


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
