"""`vrplayer tag FILM -o OUT`: a copy of the film whose container says its layout — Spherical Video V2 and SA3D in
MP4 / MOV, StereoMode and Projection in Matroska / WebM — without re-encoding. What is written is what vrplayer
decides for the film (its flags, sidecar manifest, metadata, name, shape), with the command's overrides on top; the
copy is read back before it takes OUT's name, and refused if it would not say the same."""

from __future__ import annotations

import argparse
import math
import os

import numpy as np

from vrplayer import log
from vrplayer.creator.rewrite import check_paths, write_copy
from vrplayer.creator.tag_matroska import matroska_edits, matroska_metadata
from vrplayer.creator.tag_mp4 import mp4_edits, mp4_metadata
from vrplayer.creator.tag_target import TagRefused, TagTarget, decide_target, describe_target
from vrplayer.errors import path_text
from vrplayer.formats.sound import FORMAT_NAMES
from vrplayer.layout import PROJECTIONS, STEREO_MODES, decide_layout
from vrplayer.media.sa3d import read_sa3d
from vrplayer.media.spherical import read_container_layout

_log = log.get("tag")

LAYOUT_FLAGS = ("projection", "stereo", "eyes_swapped", "fov_covered", "initial_yaw")


def add_parser(sub) -> argparse.ArgumentParser:
    tag = sub.add_parser(
        "tag", help="write a copy of a film whose container says its layout (no re-encoding)",
        description="Copy FILM to OUT with its layout in the container: Spherical Video V2 (st3d, sv3d: prhd, equi or "
                    "cbmp) and SA3D in MP4/MOV, StereoMode and Projection in Matroska/WebM. The media data is copied "
                    "byte for byte. Every fact not given is what vrplayer detects for FILM (see `vrplayer probe`).")
    tag.add_argument("file", metavar="FILM")
    tag.add_argument("-o", "--output", required=True, metavar="OUT", help="the copy (same container as FILM); an existing OUT is replaced once the copy is complete")
    group = tag.add_argument_group("layout", "What to write, where it differs from what vrplayer detects.")
    group.add_argument("--projection", choices=tuple(PROJECTIONS), help="the film's projection (MP4: equirectangular, eac, flat, or mesh: the film's own; Matroska: the same)")
    group.add_argument("--stereo", choices=STEREO_MODES, help="how the two eyes are packed")
    group.add_argument("--eyes-swapped", action="store_true", default=None, help="the right eye comes first (right-left; bottom-top in Matroska only)")
    group.add_argument("--fov-covered", type=_degrees_covered, metavar="D", help="degrees an equirectangular picture covers, centred (180 for VR180)")
    group.add_argument("--initial-yaw", type=_finite, metavar="D", help="the initial view: D degrees right of the picture's centre")
    group.add_argument("--initial-pitch", type=_finite, metavar="D", help="the initial view: D degrees up (-90 to 90)")
    group.add_argument("--initial-roll", type=_finite, metavar="D", help="the initial view: its right side tipped down by D degrees")
    group.add_argument("--audio-format", choices=FORMAT_NAMES, metavar="NAME",
                       help=f"what the sound is (MP4: ambixN[+stereo] writes SA3D, a plain format removes it): {', '.join(FORMAT_NAMES)}")
    return tag


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("must be a number of degrees")
    return value


def _degrees_covered(text: str) -> float:
    value = float(text)
    if not 0 < value <= 360:
        raise argparse.ArgumentTypeError("must be degrees between 0 and 360")
    return value


def run(args) -> int:
    film, output = args.file, args.output
    if not os.path.isfile(film):
        raise TagRefused(f"{path_text(film)}: no such film (or not a regular file); check the path")
    check_paths(film, output)
    flags = {name: getattr(args, name) for name in LAYOUT_FLAGS if getattr(args, name, None) is not None}
    target = decide_target(film, output, flags, args.initial_pitch, args.initial_roll, args.audio_format)
    if target.container == "mp4":
        edits = mp4_edits(film, mp4_metadata(target))
    else:
        edits = matroska_edits(film, matroska_metadata(target))
    write_copy(film, output, edits, verify=lambda written: verify_copy(written, output, target))
    _log.info("wrote %s: %s", path_text(output), describe_target(target))
    return 0


def _same_meshes(got, want) -> bool:
    return len(got) == len(want) and all(
        np.array_equal(a.positions, b.positions) and np.array_equal(a.uv, b.uv) and np.array_equal(a.triangles, b.triangles)
        for a, b in zip(got, want))


def verify_copy(written: str, output: str, target: TagTarget) -> None:
    """TagRefused unless the copy at `written` (to be named `output`) reads back as `target`: its container's
    metadata alone (no flags, no manifest) decides the same layout, and the same sound where SA3D was written."""
    found = read_container_layout(written)
    decision = decide_layout(width=target.width, height=target.height, filename=os.path.basename(output),
                             container=found)
    want, got = target.layout, decision.layout
    differences = [f"{fact} {getattr(got, fact)} (not {getattr(want, fact)})"
                   for fact in ("projection", "stereo", "eyes_swapped") if getattr(got, fact) != getattr(want, fact)]
    for fact in ("crop_left", "crop_top", "crop_right", "crop_bottom"):
        if want.projection == "equirectangular" and abs(getattr(got, fact) - getattr(want, fact)) > 1e-6:
            differences.append(f"{fact.replace('_', ' ')} {getattr(got, fact):g} (not {getattr(want, fact):g})")
    if want.projection == "mesh" and got.projection == "mesh" and not _same_meshes(got.meshes, want.meshes):
        differences.append("other meshes")
    for fact in ("initial_yaw", "initial_pitch", "initial_roll"):
        if abs(getattr(got, fact) - getattr(want, fact)) > 1e-3:
            differences.append(f"{fact.replace('_', ' ')} {getattr(got, fact):g} (not {getattr(want, fact):g})")
    if differences:
        if want.projection == "flat" and target.container == "mp4":
            why = ("Spherical Video V2 has no flat projection: a film without sv3d is read by its shape and name, and"
                   " has no initial view")
        else:  # the layout decision overrides metadata that the picture's shape contradicts, and says so
            why = decision.warnings[0] if decision.warnings else "its container cannot say all of it"
        instead = "a sidecar manifest, or a Matroska copy" if target.container == "mp4" else "a sidecar manifest"
        raise TagRefused(f"cannot tag {path_text(output)}: the copy would read back as {', '.join(differences)} ({why});"
                         f" keep the layout in {instead}")
    if target.container == "mp4" and target.sound is not None and target.sound.kind == "ambix":
        sa3d = read_sa3d(written, target.audio_index)
        if sa3d is None or sa3d.name != target.sound.name:
            raise TagRefused(f"cannot tag {path_text(output)}: the copy's SA3D box reads back as"
                             f" {sa3d.name if sa3d else 'missing'}, not {target.sound.name}")
