"""What a film is: container, codecs, picture, colour, sound, and how it will be projected."""

from __future__ import annotations

import io
import os

from vrplayer import layout as layouts
from vrplayer.errors import MediaError, PlayerError, path_text
from vrplayer.media.audio import sound_stream
from vrplayer.media.container import audio_stream, duration_seconds, open_container, video_stream
from vrplayer.media import camera, photo
from vrplayer.media.manifests import is_manifest
from vrplayer.media.network import is_url
from vrplayer.media.segments import StreamSource
from vrplayer.media.structure import structure_warnings
from vrplayer.media.video import VideoDecoder
from vrplayer.formats.pixels import NATIVE, conversion_target
from vrplayer.media.spherical import read_container_layout, read_layout_from
from vrplayer.formats import colourspace


def film_manifest(path: str) -> tuple[dict | None, str | None]:
    """The film's sidecar manifest and its file name ((None, None) when there is none); a broken one is an error
    naming it."""
    try:
        return layouts.load_manifest(path)
    except ValueError as exc:
        raise PlayerError(str(exc)) from None


def decide_film_layout(path: str, width: int, height: int, flags: dict | None = None, source=None,
                       photo_facts: photo.PhotoFacts | None = None) -> layouts.LayoutDecision:
    """The film's layout, from (first that speaks) flags, its sidecar manifest, its container's spherical metadata,
    its file name, its picture's aspect. A broken manifest is an error naming it; metadata problems are warnings.
    `source`: the film's download (media/netbuffer.py), whose bytes the metadata is read from; `photo_facts`: a
    photo's, already read (its XMP stands for the container's metadata)."""
    try:
        if photo_facts is not None:
            container = photo_facts.layout
        elif getattr(source, "segmented", False):  # a stream: its fMP4 init segment says what MP4 metadata says
            init = source.init_bytes()
            container = read_layout_from(io.BytesIO(init)) if init else None
        elif source is not None:
            container = read_layout_from(source.reader())
        elif photo.looks_like_photo(path):
            container = photo.read_facts(path).layout
        else:
            container = read_container_layout(path)
    except (OSError, MediaError):
        container = None  # opening the film for decoding reports an unreadable file
    manifest, manifest_source = film_manifest(path)
    found = camera.recognise(path) if source is None and photo_facts is None else None
    if found is not None and found.canvas is not None:
        width, height = found.canvas.size  # (a camera's picture put together from its tracks: what is drawn)
    try:
        decision = layouts.decide_layout(
            width=width, height=height, filename=os.path.basename(path), flags=flags, manifest=manifest,
            manifest_source=manifest_source, container=container,
            camera=found.layout if found is not None else None, camera_name=found.camera if found is not None else "",
        )
    except ValueError as exc:
        raise PlayerError(str(exc)) from None
    if found is not None:
        decision.warnings.extend(found.warnings)
    return decision


def probe(path: str, flags: dict | None = None, audio_format: str | None = None) -> tuple[dict, layouts.LayoutDecision]:
    """The film's facts as a JSON-ready dict, and its layout decision. Its "warnings" say what will keep the film
    from playing (whole): what its structure shows (truncated, two headers), and that its first picture cannot be
    decoded (tried, as playing it would)."""
    if photo.looks_like_photo(path):
        return _probe_photo(path, flags, audio_format)
    stream_source = StreamSource(path) if is_url(path) and is_manifest(path) else None  # HLS, DASH: our reader
    try:
        return _probe_film(path, flags, audio_format, stream_source)
    finally:
        if stream_source is not None:
            stream_source.close()


def _probe_film(path: str, flags: dict | None, audio_format: str | None, source) -> tuple[dict, layouts.LayoutDecision]:
    container = open_container(path, source)
    audio_container = open_container(path, source, "audio") if source is not None and source.audio else None
    try:
        stream = video_stream(container, path)
        cc = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        duration = source.duration if source is not None else duration_seconds(container, stream)
        pix_fmt = cc.pix_fmt or "unknown"
        fmt = cc.format
        converted = conversion_target(pix_fmt, fmt.is_rgb, max((c.bits for c in fmt.components), default=8)) if fmt else None
        matrix, matrix_source = colourspace.matrix_name(cc.colorspace, cc.height)
        value_range, range_source = colourspace.range_name(cc.color_range, pix_fmt)
        if pix_fmt in NATIVE and NATIVE[pix_fmt].kind == "gbr":
            matrix, matrix_source = "rgb", "planar RGB"
        info = {
            "file": path,
            "warnings": film_warnings(path, source),
            "container": container.format.name,
            "duration": duration,
            "bit_rate": container.bit_rate,
            "video": {
                "codec": cc.name,
                "profile": cc.profile,
                "width": cc.width,
                "height": cc.height,
                "frame_rate": float(rate) if rate else None,
                "frames": stream.frames or (round(duration * float(rate)) if duration and rate else None),
                "pixel_format": pix_fmt,
                "uploaded_as": converted or pix_fmt,
                "colour_matrix": matrix,
                "colour_matrix_source": matrix_source,
                "colour_range": value_range,
                "colour_range_source": range_source,
            },
            "audio": None,
        }
        if source is not None:
            info["stream"] = {"kind": source.presentation.kind, "live": source.live, "variants": [
                {"width": t.width, "height": t.height, "bandwidth": t.bandwidth} for t in source.presentation.variants]}
        found = camera.recognise(path) if source is None else None
        width, height = found.canvas.size if found is not None and found.canvas else (cc.width, cc.height)
        parts = camera.chapters(path) if source is None else [path]
        if len(parts) > 1:
            info["chapters"] = parts
        if found is not None:
            info["camera"] = {"camera": found.camera, "notes": list(found.notes), "sound_track": found.sound_track,
                              "video_tracks": [track for _, track in found.canvas.tracks] if found.canvas else [stream.index],
                              "files": [os.path.basename(path)] + [os.path.basename(f) for f in found.files],
                              "picture": [width, height]}
        decision = decide_film_layout(path, width, height, flags, source)
        info["layout"] = layouts.decision_json(decision)
        audio = sound_stream(path, container) if audio_container is None else audio_stream(audio_container)
        if audio is not None:
            acc = audio.codec_context
            from vrplayer.media.soundtrack import decide_sound

            layout_name = acc.layout.name if acc.layout else None
            sound = decide_sound(path, audio.index, acc.channels, layout_name, decision.audio, audio_format, source)
            info["audio"] = {**sound_facts(acc, layout_name, sound), "warning": sound.warning}
        return info, decision
    finally:
        container.close()
        if audio_container is not None:
            audio_container.close()



def _probe_photo(path: str, flags: dict | None, audio_format: str | None) -> tuple[dict, layouts.LayoutDecision]:
    """A photo's facts, as a film's: one picture, no duration; its sound, the file its manifest names."""
    warnings = []
    try:
        _, facts = photo.read_pixels(path)  # as playing it would: a damaged picture says so here
    except MediaError as exc:
        warnings.append(f"{exc} — the photo will not show")
        facts = photo.read_facts(path)
    info = {
        "file": path,
        "warnings": warnings,
        "container": f"photo ({facts.format})",
        "duration": None,
        "bit_rate": None,
        "video": {
            "codec": facts.format.lower(), "profile": None, "width": facts.width, "height": facts.height,
            "frame_rate": None, "frames": 1, "pixel_format": "rgb24", "uploaded_as": "gbrp",
            "colour_matrix": "rgb", "colour_matrix_source": "a photo's RGB", "colour_range": "full",
            "colour_range_source": "a photo's RGB",
            "right_eye": photo.RIGHT_EYE_SOURCE if facts.right_eye is not None else None,
        },
        "audio": None,
    }
    decision = decide_film_layout(path, facts.width, facts.height, flags, photo_facts=facts)
    info["layout"] = layouts.decision_json(decision)
    sound = photo.soundtrack(path)
    if sound is not None:
        container = open_container(sound)
        try:
            audio = audio_stream(container)
            if audio is not None:
                from vrplayer.media.soundtrack import decide_sound

                acc = audio.codec_context
                layout_name = acc.layout.name if acc.layout else None
                decided = decide_sound(sound, audio.index, acc.channels, layout_name, None, audio_format)
                info["audio"] = {**sound_facts(acc, layout_name, decided), "warning": decided.warning, "file": sound}
        finally:
            container.close()
    return info, decision


def film_warnings(path: str, source=None) -> list[str]:
    """What will keep the film from playing (whole), one line each: its structure, then its first picture.
    `source`: a streamed film's reader (media/segments.py)."""
    try:
        warnings = structure_warnings(path) if source is None else []
    except OSError:
        warnings = []  # the decoder below says what keeps the file from being read
    try:
        decoder = VideoDecoder(path, source=source)
        try:
            decoder.wait_picture(0.0)
        finally:
            decoder.close()
    except MediaError as exc:
        warnings.append(f"{exc} — the film will not play")
    return warnings


def describe(info: dict, decision: layouts.LayoutDecision) -> str:
    """Human-readable summary, one fact per line."""
    v = info["video"]
    still = info["container"].startswith("photo")
    lines = [
        f"file:        {path_text(info['file'])}",
        f"container:   {info['container']}, " + ("a still picture" if still else _seconds(info['duration']))
        + (f", {info['bit_rate'] / 1e6:.1f} Mb/s" if info.get("bit_rate") else ""),
        f"video:       {v['codec']} {v['width']}x{v['height']} {v['frame_rate'] or 0:.3f} fps, {v['pixel_format']}"
        + (f" (uploaded as {v['uploaded_as']})" if v["uploaded_as"] != v["pixel_format"] else ""),
        f"colour:      {v['colour_matrix']} ({v['colour_matrix_source']}), {v['colour_range']} range ({v['colour_range_source']})",
    ]
    a = info["audio"]
    if still:
        lines[2] = f"picture:     {v['codec']} {v['width']}x{v['height']}" + (f", right eye: {v['right_eye']}" if v.get("right_eye") else "")
        lines[3] = "colour:      RGB, full range"
    lines.append(f"audio:       {a['codec']} {a['sample_rate']} Hz, {a['channels']} ch ({a['layout']})" if a else "audio:       none (plays on the wall clock)")
    if a and a.get("file"):
        lines[-1] += f" — {path_text(a['file'])}, named in the manifest"
    if a:
        lines.append(f"sound:       {a['format']}{', follows the head (binaural)' if a['spatial'] else ''} — {a['format_source']}")
        if a["warning"]:
            lines.append(f"warning:     {a['warning']}")
    if info.get("camera"):
        found = info["camera"]
        tracks = " + ".join(str(t) for t in found["video_tracks"])
        lines.insert(3, f"camera:      {found['camera']}: video track{'s' if len(found['video_tracks']) > 1 else ''}"
                        f" {tracks} as one {found['picture'][0]}x{found['picture'][1]} picture"
                        + (f", sound track {found['sound_track']}" if found["sound_track"] is not None else ""))
        lines[4:4] = [f"camera note: {note}" for note in found["notes"]]
    if info.get("chapters"):
        names = " + ".join(os.path.basename(part) for part in info["chapters"])
        lines.insert(2, f"chapters:    {names}, played as one film")
    if info.get("stream"):
        stream = info["stream"]
        variants = ", ".join(f"{v['width']}x{v['height']} {v['bandwidth'] // 1000} kb/s" for v in stream["variants"])
        lines.insert(2, f"stream:      {stream['kind'].upper()} {'live' if stream['live'] else 'on demand'}, "
                        f"{len(stream['variants'])} variants: {variants}")
    lines += layouts.describe_decision(decision)
    lines += [f"warning:     {w}" for w in info["warnings"] + decision.warnings]
    return "\n".join(lines)


def _seconds(value) -> str:
    if value is None:
        return "unknown duration"
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}:{seconds:06.3f}"


def sound_facts(acc, layout_name: str | None, sound) -> dict:
    """What `probe` (and the pre-flight check) say of a sound track: its codec context's facts and the decided
    sound format (a media.soundtrack.SoundDecision)."""
    return {
        "codec": acc.name,
        "sample_rate": acc.sample_rate,
        "channels": acc.channels,
        "layout": layout_name,
        "format": sound.format.name,
        "spatial": sound.format.spatial,
        "format_source": sound.source,
    }
