"""What a film's sound track holds, and the decision of which it is: plain (mono, stereo), a loudspeaker layout
(quad, 5.1, 7.1), or a sound field (AmbiX, FuMa, FB360 TBE, with or without head-locked stereo).

A description only: media reads it from the file (the SA3D box), audio renders it (`vrplayer.audio.ambisonics`
turns a format into the matrices that take its channels to AmbiX, `vrplayer.audio.binaural` renders those for the
head).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def channels_for_order(order: int) -> int:
    """How many channels a sound field of this ambisonic order has: (order + 1)²."""
    return (order + 1) ** 2


# Virtual loudspeaker azimuths (ambisonic convention: left-positive), in FFmpeg's channel order, None for the LFE.
# 5.1 surrounds at ±110° (ITU-R BS.775); 7.1 sides at ±90°, backs at ±135° (ITU-R BS.2051 ranges 90–110 / 135–150).
SPEAKER_LAYOUTS: dict[str, tuple[float | None, ...]] = {
    "quad": (45.0, -45.0, 135.0, -135.0),  # FL FR BL BR
    "5.1": (30.0, -30.0, 0.0, None, 110.0, -110.0),  # FL FR FC LFE BL|SL BR|SR
    "7.1": (30.0, -30.0, 0.0, None, 135.0, -135.0, 90.0, -90.0),  # FL FR FC LFE BL BR SL SR
}

_KINDS = ("plain", "ambix", "fuma", "tbe", "speakers")


@dataclass(frozen=True)
class AudioFormat:
    """What a film's audio track holds.

    `name`: "mono", "stereo", "quad", "5.1", "7.1", "ambixN", "ambixN+stereo" (N ≥ 1; rendered at most at
    `vrplayer.audio.ambisonics.MAX_ORDER`), "fumaN" (N = 1..3), "tbe", "tbe+stereo". `channels`: how many channels
    the track has (a plain stereo fallback of a wider track keeps its real count and uses channels 1 and 2).
    `channel_map`: AmbiX only, from SA3D: ACN component k is track channel channel_map[k], head-locked L, R
    follow; None is the identity.
    """

    name: str
    channels: int
    kind: str  # "plain" | "ambix" | "fuma" | "tbe" | "speakers"
    order: int = 0  # ambisonic order as stored (0 for plain and speaker layouts)
    head_locked: int = 0  # head-locked channels after the sound field (0 or 2)
    channel_map: tuple[int, ...] | None = field(default=None, compare=False)

    @property
    def spatial(self) -> bool:
        """True when the sound is rendered binaurally and follows the head."""
        return self.kind != "plain"


def _format(name: str) -> AudioFormat | None:
    """The format a canonical name stands for, None when there is none."""
    if name == "mono":
        return AudioFormat("mono", 1, "plain")
    if name == "stereo":
        return AudioFormat("stereo", 2, "plain")
    if name in SPEAKER_LAYOUTS:
        return AudioFormat(name, len(SPEAKER_LAYOUTS[name]), "speakers")
    if name in ("tbe", "tbe+stereo"):
        return AudioFormat(name, 10 if name.endswith("+stereo") else 8, "tbe", 2, 2 if name.endswith("+stereo") else 0)
    match = re.fullmatch(r"(ambix|fuma)([1-7])(\+stereo)?", name)
    if match is None:
        return None
    kind, order, stereo = match.group(1), int(match.group(2)), bool(match.group(3))
    if kind == "fuma" and (order > 3 or stereo):
        return None
    head_locked = 2 if stereo else 0
    return AudioFormat(name, channels_for_order(order) + head_locked, kind, order, head_locked)


# The names the command line (--audio-format) and the manifest ("audio") take.
FORMAT_NAMES = (
    "stereo", "mono", "5.1", "7.1", "quad",
    "ambix1", "ambix1+stereo", "ambix2", "ambix2+stereo", "ambix3", "ambix3+stereo",
    "fuma1", "fuma2", "fuma3", "tbe", "tbe+stereo",
)
_ALIASES = {
    "foa": "ambix1", "ambix": "ambix1", "ambisonic": "ambix1", "ambisonics": "ambix1", "fuma": "fuma1",
    "fb360": "tbe", "tbe8": "tbe", "tbe8+2": "tbe+stereo", "tbe10": "tbe+stereo", "5.1(side)": "5.1",
    "2.0": "stereo", "1.0": "mono",
}


def parse_format_name(text: str) -> AudioFormat | None:
    """An `AudioFormat` from a name as a person writes it ("ambix1+stereo", "AmbiX 2", "ambisonic 1", "FuMa",
    "tbe", "5.1", …); None when the name means nothing known."""
    key = re.sub(r"\s+", "", str(text).strip().lower()).replace("_", "")
    key = _ALIASES.get(key, key)
    key = re.sub(r"^ambisonic(s)?", "ambix", key)
    key = re.sub(r"^(ambix\d)\+?(stereo|2|hl|headlocked)$", r"\1+stereo", key)
    key = key.replace("tbe+2", "tbe+stereo")
    return _format(key)


def _fallback(channels: int) -> AudioFormat:
    if channels <= 1:
        return AudioFormat("mono", 1, "plain")
    return AudioFormat("stereo", channels, "plain")


def format_for(channels: int, sa3d_info=None, manifest_audio: str | None = None, override: str | None = None,
               layout_name: str | None = None) -> tuple[AudioFormat, str, str | None]:
    """Decide what the track's `channels` channels are: (format, where that came from, warning or None).

    Sources, strongest first (the first that speaks and fits the channel count wins; one that does not fit, or
    cannot be read, adds a line to the warning and the next is tried):

    1. `override`: the `--audio-format` flag (flags beat metadata everywhere in vrplayer);
    2. `sa3d_info`: the SA3D box of the audio track (`vrplayer.media.sa3d.Sa3d`), AmbiX with its channel map;
    3. `layout_name` "ambisonic N": the codec's own ambisonic layout (PyAV reports it for PCM, FLAC and Opus
       channel mapping family 2 / 3 — e.g. YouTube's WebM);
    4. `manifest_audio`: the sidecar manifest's "audio" string;
    5. the channel count with the codec layout's name: 1 mono, 2 stereo, 4 "quad" (only when the layout says
       quad), 6 5.1, 8 7.1;
    6. otherwise a one-line warning and plain stereo of the first two channels.

    Source texts: "--audio-format", "SA3D box", "codec layout 'ambisonic 1'", "manifest", "channel layout '5.1'",
    "channel count", "fallback".
    """
    warnings: list[str] = []

    def fits(fmt: AudioFormat, where: str) -> bool:
        if fmt.channels == channels:
            return True
        warnings.append(f"{where} says {fmt.name} ({fmt.channels} channels) but the track has {channels}: ignored")
        return False

    def result(fmt: AudioFormat, source: str):
        return fmt, source, "; ".join(warnings) or None

    if override:
        fmt = parse_format_name(override)
        if fmt is None:
            warnings.append(f"--audio-format {override!r} is not a known format ({', '.join(FORMAT_NAMES)}): ignored")
        elif fits(fmt, f"--audio-format {override}"):
            return result(fmt, "--audio-format")
    if sa3d_info is not None:
        fmt = sa3d_info.audio_format() if hasattr(sa3d_info, "audio_format") else None
        problems = list(getattr(sa3d_info, "problems", []) or [])
        if fmt is None:
            warnings.append("SA3D box unusable" + (f" ({problems[0]})" if problems else "") + ": ignored")
        elif fits(fmt, "the SA3D box"):
            return result(fmt, "SA3D box")
    if layout_name and layout_name.startswith("ambisonic"):
        fmt = parse_format_name(layout_name)
        if fmt is not None and fits(fmt, f"the codec layout '{layout_name}'"):
            return result(fmt, f"codec layout '{layout_name}'")
    if manifest_audio:
        fmt = parse_format_name(manifest_audio)
        if fmt is None:
            warnings.append(f"the manifest's audio {manifest_audio!r} is not a known format: ignored")
        elif fits(fmt, f"the manifest (audio {manifest_audio!r})"):
            return result(fmt, "manifest")
    if layout_name in ("mono", "stereo", "quad", "5.1", "5.1(side)", "7.1"):
        fmt = parse_format_name(layout_name)
        if fmt is not None and fmt.channels == channels:
            return result(fmt, f"channel layout '{layout_name}'")
    by_count = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}.get(channels)
    if by_count is not None:
        return result(_format(by_count), "channel count")
    fmt = _fallback(channels)
    warnings.append(f"{channels} audio channels fit no known layout: playing the first two as stereo "
                    f"(name the format with --audio-format)")
    return result(fmt, "fallback")
