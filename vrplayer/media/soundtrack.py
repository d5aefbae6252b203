"""What a film's sound track is: its format decided (`vrplayer.formats.sound.format_for`: --audio-format, the SA3D
box, the codec's own layout, the sidecar manifest, the channel count), for `probe` to report and the audio stage to
render.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from vrplayer.formats.sound import AudioFormat, format_for
from vrplayer.media import camera
from vrplayer.media.sa3d import read_sa3d, read_sa3d_from


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
                 override: str | None, source=None) -> SoundDecision:
    """`source`: the film's download (media/netbuffer.py), whose bytes its SA3D box is read from."""
    try:
        if getattr(source, "segmented", False):  # a stream: its sound's fMP4 init segment holds any SA3D box
            init = source.init_bytes("audio")
            sa3d = read_sa3d_from(io.BytesIO(init), None) if init else None
        else:
            sa3d = read_sa3d_from(source.reader(), stream_index) if source is not None else read_sa3d(path, stream_index)
    except OSError:
        sa3d = None
    # A camera file's sound track says what it is where its file does not (a GoPro MAX's PCM has no SA3D box).
    found = camera.recognise(path) if source is None else None
    camera_audio = found.sound_format if found is not None and found.sound_track == stream_index else None
    fmt, where, warning = format_for(channels, sa3d, manifest_audio or camera_audio, override, layout_name)
    if where == "manifest" and manifest_audio is None:
        where = f"camera file ({found.camera})"
    return SoundDecision(fmt, where, warning, channels)
