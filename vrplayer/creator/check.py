"""The pre-flight rules: a film's facts (`film_facts.read_film`) against a target's profile (`targets.json`), each
check a verdict — pass, warn or fail — with its reason in one line and the source of the limit it used. Pure: no
files, no decoding."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from vrplayer.creator.targets import load_targets

VERDICTS = ("pass", "warn", "fail")  # in order of worse
CHECKS = ("file", "resolution", "codec", "key_frames", "bit_rate", "projection", "spherical_metadata", "stereo",
          "audio", "spatial_audio", "loudness", "true_peak", "clipping")


@dataclass
class Verdict:
    check: str
    verdict: str
    reason: str
    source: str | None = None


def worst(verdicts) -> str:
    return max(verdicts, key=VERDICTS.index, default="pass")


def check_target(facts: dict, target_id: str) -> dict:
    """One target's verdicts: {"id", "name", "verdict", "checks": [{"check", "verdict", "reason", "source"}]}."""
    data = load_targets()
    target, shared = data["targets"][target_id], data.get("shared", {})
    results = [rule(facts, target, shared) for rule in _RULES]
    return {"id": target_id, "name": target["name"], "verdict": worst(r.verdict for r in results),
            "checks": [asdict(r) for r in results]}


def check_film(facts: dict, target_ids: list[str]) -> dict:
    """The whole answer: the facts measured, each target's verdicts, and the worst of them."""
    targets = [check_target(facts, t) for t in target_ids]
    return {"file": facts["file"], "verdict": worst(t["verdict"] for t in targets), "targets": targets, "facts": facts}


# ---------------------------------------------------------------------------------------------------------------
# The rules, one per check, in the order of CHECKS


def _file(facts, target, shared) -> Verdict:
    if facts["warnings"]:
        more = f" (and {len(facts['warnings']) - 1} more)" if len(facts["warnings"]) > 1 else ""
        return Verdict("file", "fail", facts["warnings"][0] + more, _FILE_SOURCE)
    container = _CONTAINERS.get(facts["container"], facts["container"])
    return Verdict("file", "pass", f"{container}, {_seconds(facts['duration'])}, read whole", _FILE_SOURCE)


def _resolution(facts, target, shared) -> Verdict:
    v, limits = facts["video"], target["decode"]
    source = limits.get("source")
    width, height, fps = v["width"], v["height"], v["frame_rate"] or 0.0
    size = f"{width}×{height}"
    rate = width * height * fps
    name = target["name"]
    if limits.get("max_width") and width > limits["max_width"] or limits.get("max_height") and height > limits["max_height"]:
        return Verdict("resolution", "fail", f"{size} is beyond the {limits['max_width']}×{limits['max_height']} {name} decodes", source)
    if limits.get("max_frame_rate") and fps > limits["max_frame_rate"] + 0.01:
        return Verdict("resolution", "fail", f"{fps:g} fps is above the {limits['max_frame_rate']:g} fps {name} decodes", source)
    said = f"{size} at {fps:g} fps is {_mpx(rate)}"
    if limits.get("max_pixel_rate") and rate > limits["max_pixel_rate"]:
        return Verdict("resolution", "fail", f"{said}, more than the {_mpx(limits['max_pixel_rate'])} {name} decodes", source)
    if limits.get("recommended_pixel_rate") and rate > limits["recommended_pixel_rate"]:
        return Verdict("resolution", "warn", f"{said}, more than the {_mpx(limits['recommended_pixel_rate'])} that plays smoothly on {name}", source)
    ceiling = limits.get("max_pixel_rate") or limits.get("recommended_pixel_rate")
    return Verdict("resolution", "pass", f"{said}" + (f", within {_mpx(ceiling)}" if ceiling else ""), source)


def _codec(facts, target, shared) -> Verdict:
    v, codecs = facts["video"], target["codecs"]
    source = codecs.get("source")
    profile = f" {v['profile']}" if v["profile"] else ""
    level = f" level {v['level']:g}" if v["level"] else ""
    said = f"{v['codec']}{profile}{level}, {v['pixel_format']}"
    if codecs.get("any"):
        return Verdict("codec", "pass", f"{said}: FFmpeg decodes it", source)
    entry = codecs.get(v["codec"])
    if not isinstance(entry, dict):
        known = ", ".join(k for k, e in codecs.items() if isinstance(e, dict))
        return Verdict("codec", "fail", f"{v['codec']} is not a codec {target['name']} takes ({known})", source)
    if entry.get("profiles") and v["profile"] not in entry["profiles"]:
        return Verdict("codec", "fail", f"{v['codec']} profile {v['profile'] or 'unknown'} is not one {target['name']} decodes "
                                        f"({', '.join(entry['profiles'])})", source)
    if entry.get("max_level") and v["level"] and v["level"] > entry["max_level"] + 1e-9:
        return Verdict("codec", "warn", f"{said}: the level is above the {entry['max_level']:g} {target['name']}'s decoder "
                                        "declares; it may refuse the film or drop frames", source)
    return Verdict("codec", "pass", said, source)


def _key_frames(facts, target, shared) -> Verdict:
    v = facts["video"]
    rule = target.get("key_frames") or shared["key_frames"]
    source = rule.get("source")
    if not v["key_frames"]:
        return Verdict("key_frames", "fail", "no key frame at all: the film cannot be decoded from its start", source)
    if not v["first_packet_key"]:
        return Verdict("key_frames", "fail", "the film does not start on a key frame: its first pictures are broken", source)
    longest = v["max_key_interval"] or 0.0
    said = (f"longest gap between key frames {longest:.2f} s ({v['key_frames']} key frames"
            + (f", one every {v['mean_key_interval']:.2f} s on average)" if v["mean_key_interval"] else ")"))
    if longest > rule["max_s"] + 1e-3:
        return Verdict("key_frames", "fail", f"{said}, more than {rule['max_s']:g} s: seeks are slow and errors last", source)
    if rule.get("recommended_s") and longest > rule["recommended_s"] + 1e-3:
        return Verdict("key_frames", "warn", f"{said}, more than the {rule['recommended_s']:g} s {target['name']} recommends", source)
    return Verdict("key_frames", "pass", said, source)


def _bit_rate(facts, target, shared) -> Verdict:
    v, rule = facts["video"], target["bit_rate"]
    source = rule.get("source")
    average, peak = v["bit_rate"], v["peak_bit_rate"]
    if average is None or peak is None:
        return Verdict("bit_rate", "fail", "no video packets to measure", source)
    said = f"video {average / 1e6:.1f} Mb/s on average, {peak / 1e6:.1f} Mb/s in its busiest second"
    if rule.get("max_mbps") and peak > rule["max_mbps"] * 1e6:
        return Verdict("bit_rate", "fail", f"{said}: above the {rule['max_mbps']:g} Mb/s {target['name']} decodes", source)
    per_pixel = average / max(1.0, v["width"] * v["height"] * (v["frame_rate"] or 0.0))
    if rule.get("min_bits_per_pixel") and per_pixel < rule["min_bits_per_pixel"]:
        return Verdict("bit_rate", "warn", f"{said} ({per_pixel:.3f} bit per pixel): below the {rule['min_bits_per_pixel']:g} "
                                           f"{target['name']} recommends, so its re-encode starts from a soft picture", source)
    return Verdict("bit_rate", "pass", said + (f", within {rule['max_mbps']:g} Mb/s" if rule.get("max_mbps") else ""), source)


def _projection(facts, target, shared) -> Verdict:
    layout = facts["layout"]
    said = f"{layout['projection']} {_covered(layout)} ({layout['sources']['projection']})"
    if layout["projection"] not in target["projections"]:
        return Verdict("projection", "fail", f"{said}: {target['name']} shows {', '.join(target['projections'])}",
                       target["stereo"].get("source"))
    return Verdict("projection", "pass", said, target["stereo"].get("source"))


def _spherical_metadata(facts, target, shared) -> Verdict:
    layout, rule = facts["layout"], target["spherical_metadata"]
    source, metadata = rule.get("source"), layout["metadata"]
    if metadata and metadata["problems"]:
        return Verdict("spherical_metadata", "fail", f"{metadata['kind']} is broken: {metadata['problems'][0]}", source)
    if metadata and metadata["misfit"]:
        return Verdict("spherical_metadata", "fail", metadata["misfit"], source)
    if not layout["shape_fits"]:
        return Verdict("spherical_metadata", "fail", f"the {layout['aspect']} picture does not have the shape of {layout['projection']} "
                                                     f"{layout['stereo']} ({layout['sources']['projection']})", source)
    if metadata and metadata["projection"] is not None:
        return Verdict("spherical_metadata", "pass", f"{metadata['kind']}: {layout['projection']} {layout['stereo']}, "
                                                     f"fits the {layout['aspect']} picture", source)
    if layout["projection"] == "flat":
        return Verdict("spherical_metadata", "pass", "a flat film: no spherical metadata needed", source)
    said = f"no spherical metadata: the layout comes from {layout['sources']['projection']}"
    verdict = {"required": "fail", "recommended": "warn"}.get(rule["need"], "pass")
    advice = {"fail": f"; {target['name']} shows it flat — write it with `vrplayer tag`",
              "warn": "; write it with `vrplayer tag` so that players need not guess"}.get(verdict, "")
    return Verdict("spherical_metadata", verdict, said + advice, source)


def _stereo(facts, target, shared) -> Verdict:
    layout, rule = facts["layout"], target["stereo"]
    source = rule.get("source")
    allowed = rule.get(layout["span"] if layout["span"] in ("360", "180") else "other", [])
    eye = "×".join(str(n) for n in layout["eye_size"])
    said = f"{layout['stereo']}" + ("" if layout["stereo"] == "mono" else f", each eye {eye}") + f" ({layout['sources']['stereo']})"
    span = f"{layout['span']}° " if layout["span"] in ("360", "180") else ""
    if layout["stereo"] not in allowed:
        return Verdict("stereo", "fail", f"{said}: {target['name']} plays {span}films as {', '.join(allowed)}", source)
    if layout["eyes_swapped"]:
        verdict = target.get("swapped_eyes", "warn")
        if verdict != "pass":
            return Verdict("stereo", verdict, f"{said}, right eye first: {target['name']} expects the left eye first", source)
    if layout["stereo"] in rule.get("warn", []):
        return Verdict("stereo", "warn", f"{said}: {target['name']}'s own player wants another packing (see source)", source)
    if layout["half_size_eyes"]:
        return Verdict("stereo", "warn", f"{said}: each eye is squeezed to half its size in the packing", source)
    return Verdict("stereo", "pass", said, source)


def _audio(facts, target, shared) -> Verdict:
    audio, rule = facts["audio"], target["audio"]
    source = rule.get("source")
    if audio is None:
        return Verdict("audio", "warn", "no sound track: the film plays silent", source)
    said = f"{audio['codec']} {audio['sample_rate'] / 1000:g} kHz, {audio['channels']} channels as {audio['format']} ({audio['format_source']})"
    if rule.get("codecs") and audio["codec"] not in rule["codecs"]:
        return Verdict("audio", "fail", f"{said}: {audio['codec']} is not a sound codec {target['name']} plays", source)
    if audio["format"] not in rule["formats"]:
        return Verdict("audio", "fail", f"{said}: {target['name']} plays {', '.join(rule['formats'])}", source)
    if audio["format_warning"]:
        return Verdict("audio", "warn", f"{said}: {audio['format_warning']}", source)
    return Verdict("audio", "pass", said, source)


def _spatial_audio(facts, target, shared) -> Verdict:
    audio, rule = facts["audio"], target["audio"]
    source = rule.get("source")
    if audio is None:
        return Verdict("spatial_audio", "pass", "no sound track", source)
    sa3d = audio["sa3d"]
    if sa3d and sa3d["problems"]:
        return Verdict("spatial_audio", "fail", f"SA3D box unusable: {sa3d['problems'][0]}", source)
    need = rule.get("spatial_metadata", "optional")
    marked = audio["format_source"] == "SA3D box" or audio["format_source"].startswith("codec layout 'ambisonic")
    if audio["spatial"] and audio["format"] not in ("quad", "5.1", "7.1"):
        if marked:
            return Verdict("spatial_audio", "pass", f"{audio['format']}, said by the {audio['format_source']}", source)
        verdict = {"required": "fail", "recommended": "warn"}.get(need, "pass")
        said = f"{audio['format']} is said only by the {audio['format_source']}"
        return Verdict("spatial_audio", verdict, said + ("" if verdict == "pass" else f": {target['name']} reads the SA3D box"), source)
    if audio["channels"] > 2 and audio["format"] not in ("5.1", "7.1"):
        verdict = "warn" if need != "optional" else "pass"
        return Verdict("spatial_audio", verdict, f"{audio['channels']} channels with no SA3D box play as {audio['format']}: "
                                                 "if they are a sound field, mark them", source)
    return Verdict("spatial_audio", "pass", f"{audio['format']}: no spatial metadata needed", source)


def _loudness(facts, target, shared) -> Verdict:
    audio, rule = facts["audio"], target["loudness"]
    source = rule.get("source")
    if audio is None:
        return Verdict("loudness", "warn", "no sound track to measure", source)
    measured = audio["loudness"]["integrated_lufs"]
    if measured is None:
        return Verdict("loudness", "warn", "the sound is silent (no block above the −70 LUFS gate)", source)
    low, high = rule["integrated_lufs"]
    said = f"integrated {measured:.1f} LUFS ({audio['loudness']['measured_as']}), range {low:g} to {high:g}"
    if low <= measured <= high:
        return Verdict("loudness", "pass", said, source)
    off = low - measured if measured < low else measured - high
    which = "quiet" if measured < low else "loud"
    verdict = "warn" if off <= rule["warn_lu"] else "fail"
    return Verdict("loudness", verdict, f"{said}: {off:.1f} LU too {which}", source)


def _true_peak(facts, target, shared) -> Verdict:
    audio, rule = facts["audio"], target["loudness"]
    source = rule.get("source")
    if audio is None:
        return Verdict("true_peak", "pass", "no sound track", source)
    peak = audio["loudness"]["true_peak_dbtp"]
    if peak is None:
        return Verdict("true_peak", "pass", "the sound is silent", source)
    said = f"true peak {peak:+.1f} dBTP"
    if peak > 0.0:
        return Verdict("true_peak", "fail", f"{said}: above full scale, it clips when played", source)
    if peak > rule["true_peak_max_dbtp"]:
        return Verdict("true_peak", "warn", f"{said}: above {rule['true_peak_max_dbtp']:g} dBTP, it may clip after re-encoding", source)
    return Verdict("true_peak", "pass", f"{said}, at most {rule['true_peak_max_dbtp']:g}", source)


def _clipping(facts, target, shared) -> Verdict:
    audio, rule = facts["audio"], shared["clipping"]
    source = rule.get("source")
    if audio is None:
        return Verdict("clipping", "pass", "no sound track", source)
    clip = audio["clipping"]
    if not clip["clipped_samples"]:
        return Verdict("clipping", "pass", f"no clipped samples in {clip['samples']:,}", source)
    said = f"{clip['clipped_samples']:,} clipped samples ({100 * clip['fraction']:.3f} %)"
    return Verdict("clipping", "warn" if clip["fraction"] <= rule["warn_fraction"] else "fail", said, source)


_RULES = (_file, _resolution, _codec, _key_frames, _bit_rate, _projection, _spherical_metadata, _stereo, _audio,
          _spatial_audio, _loudness, _true_peak, _clipping)


def _mpx(rate: float) -> str:
    return f"{rate / 1e6:,.0f} Mpx/s"


def _seconds(value) -> str:
    return "unknown duration" if value is None else f"{value:.1f} s"


def _covered(layout: dict) -> str:
    covered = layout["covered"]
    return f"{covered['horizontal']:g}°×{covered['vertical']:g}°"


_FILE_SOURCE = ("the container's structure as vrplayer's box and element readers find it (a truncated file, two moov "
                "boxes) and FFmpeg's demuxer reading every packet")
# FFmpeg's demuxer names, as a person names the container.
_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV", "matroska,webm": "Matroska/WebM"}
