"""What `vrplayer check` measures in a film, in one pass over its packets: the video's key frames and bit rate from
the packets alone (no picture is decoded), the sound decoded and measured by FFmpeg's own EBU R128 meter (the
`ebur128` filter, through PyAV's filter graph, with true peak), and clipped samples counted on the decoded sound.

The film's other facts come from where `vrplayer probe` gets them: the container (`media.container`), the layout
decision (`media.probe.decide_film_layout`: flags none, manifest, metadata, file name, shape), the sound's format
(`media.soundtrack.decide_sound`, with the SA3D box) and the structure's warnings (`media.structure`).
"""

from __future__ import annotations

import math
import os
from fractions import Fraction

import av
import numpy as np

from vrplayer import layout as layouts
from vrplayer import log
from vrplayer.errors import path_text
from vrplayer.layout.aspect import aspect_text, fitting_packing, guess_from_aspect
from vrplayer.media.container import (
    CorruptPacketCounter, audio_stream, duration_seconds, open_container, origin_seconds, reason, video_stream,
)
from vrplayer.media.probe import decide_film_layout, sound_facts
from vrplayer.media.sa3d import read_sa3d
from vrplayer.media.soundtrack import decide_sound
from vrplayer.media.spherical import read_container_layout
from vrplayer.media.structure import structure_warnings

_log = log.get("check")

# Full scale in the decoded (float) sound. A sample beyond it cannot be played without clipping; a run of
# CLIP_RUN samples at it is a waveform that was flattened when it was mixed or converted.
FULL_SCALE = 0.9999
CLIP_RUN = 3
# ebur128 reports this integrated loudness when no block passes its gates: silence.
SILENCE_LUFS = -70.0
METER = "peak=true+sample"  # the ebur128 filter's options: true peak (4× oversampled) and sample peak
PEAK_WINDOW_S = 1.0  # the bit rate's peak is the most bits in any window this long


def read_film(path: str, progress=None) -> dict:
    """The film's facts as a JSON-ready dict. `progress(done_s, total_s)` is called as the packets are read.
    MediaError (one line) when the film cannot be opened or has no video."""
    container = open_container(path)
    try:
        video = video_stream(container, path)
        sound = audio_stream(container)
        duration = duration_seconds(container, video)
        facts = {
            "file": path,
            "container": container.format.name,
            "size_bytes": os.path.getsize(path),
            "duration": duration,
            "warnings": _structure(path),
            "video": _video_header(video),
            "audio": None,
        }
        cc = video.codec_context
        decision = decide_film_layout(path, cc.width, cc.height, None)
        facts["layout"] = _layout(path, decision)
        meter = None
        if sound is not None:
            facts["audio"] = _audio_header(path, sound, decision)
            meter = _SoundMeter(sound, facts["audio"]["format_decision"])
        packets = _read_packets(container, video, sound, meter, duration, progress)
        facts["video"].update(packets.pop("video"))
        facts["warnings"] += packets.pop("warnings")
        if facts["duration"] is None:
            facts["duration"] = facts["video"]["measured_duration"]
        if meter is not None:
            facts["audio"].update(meter.result())
        if facts["audio"] is not None:
            facts["audio"].pop("format_decision")
        facts["video"]["bit_rate"] = _rate(facts["video"]["bytes"], facts["video"]["measured_duration"] or facts["duration"])
        facts["bit_rate"] = _rate(facts["size_bytes"], facts["duration"])
        return facts
    finally:
        container.close()


def _structure(path: str) -> list[str]:
    try:
        return structure_warnings(path)
    except OSError:
        return []


def _video_header(stream) -> dict:
    cc = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate
    fmt = cc.format
    return {
        "codec": cc.name,
        "profile": cc.profile,
        "level": _level(cc.name, cc.level),
        "width": cc.width,
        "height": cc.height,
        "frame_rate": float(rate) if rate else None,
        "pixel_format": cc.pix_fmt,
        "bit_depth": max((c.bits for c in fmt.components), default=None) if fmt else None,
    }


def _level(codec: str, raw) -> float | None:
    """The codec's level as its specification writes it (5.1, 6.2), from FFmpeg's number for it."""
    if raw is None or raw <= 0:
        return None
    if codec == "h264":
        return 1.1 if raw == 9 else raw / 10  # level 1b is stored as 9 in some streams
    if codec == "hevc":
        return round(raw / 30, 1)  # general_level_idc is 30 × the level
    if codec == "av1":
        return 2 + raw // 4 + (raw % 4) / 10  # seq_level_idx: 0 is 2.0, 13 is 5.1
    if codec == "vp9":
        return raw / 10
    return None


def _layout(path: str, decision) -> dict:
    """The layout decision (as `probe --json` gives it), with what the container's metadata said and whether the
    picture's shape fits the decided projection and packing."""
    out = layouts.decision_json(decision)
    try:
        metadata = read_container_layout(path)
    except OSError:
        metadata = None
    layout = decision.layout
    crop = (layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)
    fixed_shape = layout.projection in ("equirectangular", "eac", "cubemap-3x2", "cubemap-6x1")
    fits = True
    if fixed_shape and decision.width and decision.height:
        fits = guess_from_aspect(decision.width, decision.height, layout.projection, layout.stereo, crop)[3]
    horizontal = out["covered"]["horizontal"]
    out.update({
        "aspect": aspect_text(decision.width, decision.height) if decision.width and decision.height else None,
        "metadata": None if metadata is None else {
            "kind": metadata.kind, "projection": metadata.projection, "stereo": metadata.stereo,
            "problems": list(metadata.problems), "misfit": _metadata_misfit(metadata, decision, crop)},
        "shape_fits": fits,
        # Each eye's own picture, and whether the packing squeezed it to half its shape.
        "eye_size": _eye_size(decision.width, decision.height, layout.stereo),
        "half_size_eyes": _half_size(decision, crop) if layout.stereo != "mono" and fixed_shape else False,
        "span": "360" if horizontal >= 359 else "180" if abs(horizontal - 180) < 1 else f"{horizontal:g}",
    })
    return out


def _metadata_misfit(metadata, decision, crop) -> str | None:
    """What is wrong when the stereo packing the metadata claims cannot fit the picture's shape (None: it fits)."""
    layout = decision.layout
    if metadata.stereo not in layouts.STEREO_MODES or not (decision.width and decision.height):
        return None
    fitting = fitting_packing(layout.projection, crop, metadata.stereo, decision.width / decision.height)
    if fitting is None:
        return None
    shape = aspect_text(decision.width, decision.height)
    looks = f"looks {fitting}" if fitting != metadata.stereo else f"fits no {layout.projection} packing"
    return f"{metadata.kind} says {metadata.stereo} but the {decision.width}x{decision.height} picture ({shape}) {looks}"


def _eye_size(width: int, height: int, stereo: str) -> list[int]:
    if stereo == "top-bottom":
        return [width, height // 2]
    if stereo == "side-by-side":
        return [width // 2, height]
    return [width, height]


def _half_size(decision, crop) -> bool:
    """True when each eye of a stereo picture is squeezed (the whole frame has one eye's shape)."""
    layout = decision.layout
    return guess_from_aspect(decision.width, decision.height, layout.projection, "mono", crop)[3]


def _audio_header(path: str, stream, decision) -> dict:
    acc = stream.codec_context
    layout_name = acc.layout.name if acc.layout else None
    sound = decide_sound(path, stream.index, acc.channels, layout_name, decision.audio, None)
    try:
        sa3d = read_sa3d(path, stream.index)
    except OSError:
        sa3d = None
    return {
        **sound_facts(acc, layout_name, sound),
        "format_warning": sound.warning,
        "sa3d": None if sa3d is None else {"format": sa3d.name, "problems": list(sa3d.problems)},
        "format_decision": sound.format,
    }


def _read_packets(container, video, sound, meter, duration, progress) -> dict:
    """One pass over the packets: the video's are only looked at, the sound's are decoded into the meter."""
    origin = origin_seconds(container)
    times: list[float] = []  # each video packet's decoding time, for the bit rate's peak
    sizes: list[int] = []
    keys: list[float] = []  # each key frame's presentation time
    first_key = None
    ends: list[float] = []
    warnings: list[str] = []
    corrupt = CorruptPacketCounter(_log, "audio")
    streams = [video] + ([sound] if sound is not None else [])
    shown_at = -math.inf
    try:
        for packet in container.demux(*streams):
            if packet.size == 0:
                continue  # the demuxer's end-of-stream packet
            base = packet.time_base
            if packet.stream.index == video.index:
                pts = packet.pts if packet.pts is not None else packet.dts
                when = float(pts * base) - origin if pts is not None else (times[-1] if times else 0.0)
                if first_key is None:
                    first_key = bool(packet.is_keyframe)
                if packet.is_keyframe:
                    keys.append(when)
                times.append(float(packet.dts * base) - origin if packet.dts is not None else when)
                sizes.append(packet.size)
                ends.append(when + (float(packet.duration * base) if packet.duration else 0.0))
                if progress is not None and when - shown_at >= 0.25:
                    shown_at = when
                    progress(when, duration)
            elif meter is not None:
                meter.decode(packet, corrupt)
    except av.error.FFmpegError as exc:
        stopped = max(ends, default=0.0)
        warnings.append(f"the film's data breaks off at {stopped:.1f} s ({reason(exc)}): it will stop there")
    if meter is not None:
        meter.finish()
    if corrupt.count:
        warnings.append(f"{corrupt.count} damaged sound packets were skipped")
    measured = (max(ends) - min(times[0], keys[0] if keys else times[0])) if ends else None
    if progress is not None:
        progress(duration or measured or 0.0, duration or measured)
    return {"video": _key_frames_and_rate(times, sizes, keys, first_key, measured), "warnings": warnings}


def _key_frames_and_rate(times, sizes, keys, first_key, measured) -> dict:
    end = (min(times) + measured) if measured is not None and times else None
    keys = sorted(keys)
    marks = keys + ([end] if end is not None and keys and end > keys[-1] else [])
    gaps = np.diff(marks) if len(marks) > 1 else np.array([])
    return {
        "packets": len(sizes),
        "bytes": int(sum(sizes)),
        "measured_duration": measured,
        "key_frames": len(keys),
        "first_packet_key": first_key,
        # The longest stretch without a key frame, the last one to the film's end included.
        "max_key_interval": float(gaps.max()) if len(gaps) else (measured if keys else None),
        "mean_key_interval": float(gaps.mean()) if len(gaps) else None,
        "peak_bit_rate": _peak_rate(times, sizes),
    }


def _peak_rate(times: list[float], sizes: list[int]) -> float | None:
    """The most bits per second in any PEAK_WINDOW_S of the video packets (by decoding time)."""
    if not times:
        return None
    order = np.argsort(times, kind="stable")
    t = np.asarray(times)[order]
    total = np.concatenate(([0], np.cumsum(np.asarray(sizes, dtype=np.int64)[order])))
    ends = np.searchsorted(t, t + PEAK_WINDOW_S, side="left")
    most = int((total[ends] - total[np.arange(len(t))]).max())
    span = min(PEAK_WINDOW_S, max(t[-1] - t[0], 1e-3)) if t[-1] - t[0] < PEAK_WINDOW_S else PEAK_WINDOW_S
    return 8.0 * most / span


def _rate(size: int, seconds) -> float | None:
    return 8.0 * size / seconds if seconds else None


class _SoundMeter:
    """The sound decoded, counted for clipping, and fed to FFmpeg's `ebur128` filter (true peak on). A sound field
    is measured as a listener hears it facing anywhere: its omnidirectional component W on both ears (dual
    mono), the head-locked stereo added; a loudspeaker layout as BS.1770 weighs its channels; mono and stereo as
    they are."""

    def __init__(self, stream, fmt):
        self.stream = stream
        self.format = fmt
        self.mix = _measured_mix(fmt)
        self.graph = None
        self.metadata: dict = {}
        self.samples = 0
        self.clipped = 0
        self.frames_in = 0

    def decode(self, packet, corrupt) -> None:
        try:
            frames = self.stream.codec_context.decode(packet)
        except av.error.FFmpegError as exc:
            corrupt(packet, exc)
            return
        for frame in frames:
            self._take(frame)

    def finish(self) -> None:
        try:
            for frame in self.stream.codec_context.decode(None):
                self._take(frame)
        except av.error.FFmpegError:
            pass
        if self.graph is not None:
            self.graph.push(None)
            self._drain()

    def _take(self, frame) -> None:
        self._count_clipping(frame)
        if self.graph is None:
            self.graph = self._graph(frame)
        frame.pts = None  # the meter needs only the samples; a film's first packets may carry negative times
        self.graph.push(frame)
        self._drain()

    def _graph(self, frame):
        graph = av.filter.Graph()
        source = graph.add_abuffer(format=frame.format.name, sample_rate=frame.sample_rate, layout=frame.layout.name,
                                   time_base=Fraction(1, frame.sample_rate))
        chain = [source]
        if self.mix is not None:
            chain.append(graph.add("pan", self.mix))
        chain.append(graph.add("ebur128", f"{METER}:metadata=1"))
        chain.append(graph.add("abuffersink"))
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()
        return graph

    def _drain(self) -> None:
        while True:
            try:
                out = self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            if out.metadata:
                self.metadata = dict(out.metadata)  # each carries the measurement so far: the last is the film's

    def _count_clipping(self, frame) -> None:
        data = frame.to_ndarray()
        if data.dtype.kind in "iu":
            data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
        channels = len(frame.layout.channels)
        samples = data.reshape(channels, -1) if frame.format.is_planar else data.reshape(-1, channels).T
        level = np.abs(samples)
        at_full = level >= FULL_SCALE
        run = np.ones_like(at_full[:, : max(0, at_full.shape[1] - CLIP_RUN + 1)])
        for k in range(CLIP_RUN):
            run &= at_full[:, k: at_full.shape[1] - CLIP_RUN + 1 + k]
        in_run = np.zeros_like(at_full)
        for k in range(CLIP_RUN):
            in_run[:, k: k + run.shape[1]] |= run
        self.clipped += int(np.count_nonzero(in_run | (level > 1.0)))
        self.samples += samples.size

    def result(self) -> dict:
        m = self.metadata
        integrated = _number(m.get("lavfi.r128.I"))
        true_peak = _number(m.get("lavfi.r128.true_peak"))
        sample_peak = _number(m.get("lavfi.r128.sample_peak"))
        return {
            "loudness": {
                "integrated_lufs": None if integrated is None or integrated <= SILENCE_LUFS else integrated,
                "range_lu": _number(m.get("lavfi.r128.LRA")),
                "true_peak_dbtp": _decibels(true_peak),
                "sample_peak_dbfs": _decibels(sample_peak),
                "measured_as": _measured_as(self.format),
                "filter": (f"pan={self.mix}," if self.mix else "") + f"ebur128={METER}",
            },
            "clipping": {"clipped_samples": self.clipped, "samples": self.samples,
                         "fraction": self.clipped / self.samples if self.samples else 0.0},
        }


def _measured_mix(fmt) -> str | None:
    """The `pan` filter's arguments that turn a sound field into what both ears hear of it facing anywhere (W on
    each, head-locked stereo added); None for sound measured as it is."""
    if fmt.kind not in ("ambix", "fuma", "tbe"):
        return None
    from vrplayer.audio.ambisonics import format_matrices

    to_sh, bus = format_matrices(fmt)
    ears = []
    for ear in (0, 1):
        weights = [(to_sh[0, c] + bus[ear, c], c) for c in range(fmt.channels)]
        ears.append("+".join(f"{w:.6g}*c{c}" for w, c in weights if w) or "0*c0")
    return f"stereo|c0={ears[0]}|c1={ears[1]}"


def _measured_as(fmt) -> str:
    if fmt.kind in ("ambix", "fuma", "tbe"):
        return f"{fmt.name}: its W on both ears" + (" with the head-locked stereo" if fmt.head_locked else "")
    if fmt.kind == "speakers":
        return f"{fmt.name} loudspeakers, weighted as BS.1770 weighs them (LFE left out)"
    return fmt.name


def _number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _decibels(linear: float | None) -> float | None:
    return round(20.0 * math.log10(linear), 2) if linear else None


def film_name(path: str) -> str:
    return path_text(os.path.basename(path))
