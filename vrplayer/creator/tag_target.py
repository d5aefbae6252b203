"""What `vrplayer tag` writes: the film's layout and sound as vrplayer decides them (flags, its sidecar manifest, its
container's metadata, its name, its picture's shape: `vrplayer.layout`), with the tag's overrides on top, and the
container family the copy keeps."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from vrplayer import log
from vrplayer.errors import PlayerError, path_text
from vrplayer.formats.sound import AudioFormat, parse_format_name
from vrplayer.layout import Layout, LayoutDecision
from vrplayer.media.boxes import looks_like_mp4
from vrplayer.media.container import audio_stream, open_container, video_stream
from vrplayer.media.ebml import looks_like_ebml
from vrplayer.media.probe import decide_film_layout
from vrplayer.media.soundtrack import decide_sound
from vrplayer.media.spherical import ContainerLayout, read_container_layout

_log = log.get("tag")

# File name endings of each container family: a copy keeps its film's container, so its name should say so.
EXTENSIONS = {"mp4": (".mp4", ".mov", ".m4v", ".qt"), "matroska": (".mkv", ".webm", ".mk3d")}


class TagRefused(PlayerError):
    """The asked layout or sound has no representation in the film's container (or the film cannot be tagged)."""


@dataclass(frozen=True)
class TagTarget:
    container: str  # "mp4" | "matroska"
    layout: Layout
    decision: LayoutDecision
    width: int
    height: int
    found: ContainerLayout | None  # what the film's container says today
    sound: AudioFormat | None  # None: no audio track
    sound_source: str | None
    audio_index: int | None  # the stream (MP4: trak) whose sound is described
    audio_layout: str | None  # the codec's channel layout name
    audio_asked: bool  # --audio-format was given


def container_family(path: str) -> str:
    """"mp4" or "matroska", from the file's first bytes; TagRefused for anything else."""
    with open(path, "rb") as film:
        head = film.read(8)
    if looks_like_mp4(head):
        return "mp4"
    if looks_like_ebml(head):
        return "matroska"
    raise TagRefused(f"{path_text(path)}: is neither MP4/MOV nor Matroska/WebM; tag writes the metadata of those two"
                     " (remux it first, e.g. ffmpeg -i FILM -c copy FILM.mp4)")


def decide_target(path: str, output: str, flags: dict, initial_pitch: float | None, initial_roll: float | None,
                  audio_format: str | None) -> TagTarget:
    """The layout and sound to write into a copy of `path`: what vrplayer decides for it, `flags` (the layout
    overrides of `decide_layout`) and the pitch and roll of the initial view on top."""
    family = container_family(path)
    other = next(name for name in EXTENSIONS if name != family)
    if output.lower().endswith(EXTENSIONS[other]):
        raise TagRefused(f"{path_text(output)}: names a {other} file, but the copy keeps the film's container"
                         f" ({family}); give it one of {', '.join(EXTENSIONS[family])}")
    container = open_container(path)
    try:
        cc = video_stream(container, path).codec_context
        width, height = cc.width, cc.height
        audio = audio_stream(container)
        audio_facts = None if audio is None else (
            audio.index, audio.codec_context.channels, audio.codec_context.layout.name if audio.codec_context.layout else None)
    finally:
        container.close()
    decision = decide_film_layout(path, width, height, flags)
    for warning in decision.warnings:
        _log.warning("%s", warning)
    layout = decision.layout
    if initial_pitch is not None:
        if not (math.isfinite(initial_pitch) and -90.0 <= initial_pitch <= 90.0):
            raise TagRefused(f"--initial-pitch {initial_pitch:g}: must be degrees from -90 to 90")
        layout = dataclasses.replace(layout, initial_pitch=float(initial_pitch))
    if initial_roll is not None:
        if not math.isfinite(initial_roll):
            raise TagRefused(f"--initial-roll {initial_roll}: must be degrees")
        layout = dataclasses.replace(layout, initial_roll=wrap180(initial_roll))
    found = read_container_layout(path)
    if found is not None and found.projection == "mesh" and not found.meshes and "projection" not in flags:
        raise TagRefused(f"{path_text(path)}: its projection is a mesh ({found.kind}) that cannot be read, so it"
                         " cannot be written back; say what the picture is with --projection")
    sound = source = None
    if audio_facts is not None:
        index, channels, layout_name = audio_facts
        decided = decide_sound(path, index, channels, layout_name, decision.audio, audio_format)
        if audio_format and decided.source != "--audio-format":
            asked = parse_format_name(audio_format)
            size = f"is {asked.channels} channels" if asked is not None else "is no format known"
            raise TagRefused(f"cannot tag: --audio-format {audio_format} {size}, but the film's sound track has"
                             f" {channels}")
        sound, source = decided.format, decided.source
    elif audio_format:
        raise TagRefused(f"--audio-format {audio_format}: {path_text(path)} has no sound track to describe")
    return TagTarget(family, layout, decision, width, height, found, sound, source,
                     audio_facts[0] if audio_facts else None, audio_facts[2] if audio_facts else None,
                     bool(audio_format))


def wrap180(degrees: float) -> float:
    """Degrees wrapped to (-180, 180], without a negative zero."""
    wrapped = float(degrees) % 360.0
    return (wrapped - 360.0 if wrapped > 180.0 else wrapped) + 0.0


def describe_target(target: TagTarget) -> str:
    """The layout and sound written, in words, for the log line."""
    layout = target.layout
    parts = [layout.projection]
    if layout.projection == "equirectangular" and any(
            (layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)):
        parts.append(f"crop left {layout.crop_left:g} top {layout.crop_top:g} right {layout.crop_right:g}"
                     f" bottom {layout.crop_bottom:g}")
    parts.append(layout.stereo + (" (right eye first)" if layout.eyes_swapped else ""))
    parts.append(f"initial view yaw {layout.initial_yaw:g} pitch {layout.initial_pitch:g} roll {layout.initial_roll:g}")
    if target.sound is not None:
        parts.append(f"sound {target.sound.name}")
    return ", ".join(parts)
