"""The layout decision: what each source claims, fact by fact, and which claim wins.

Order of trust, decided separately for each fact (projection, stereo, eyes_swapped, coverage, fov, initial_view):

1. command-line flags;
2. the sidecar manifest (`FILM.mp4.json` or `FILM.json` next to the film);
3. container metadata (Spherical Video V1/V2 in MP4, the Projection element in Matroska);
4. a camera file's own facts (vrplayer.cameras: a GoPro MAX's two tracks make an EAC picture);
5. tags in the file name (`FILENAME_TAGS`);
6. the picture's aspect ratio (`ASPECT_RULES`);
7. defaults: equirectangular 360x180, mono, the projection's default fov (`DEFAULT_FOV`), facing straight ahead.

A fact that depends on another is taken only from a source that agrees with the winner of that other fact (or says
nothing about it): the fov of `_MKX200` applies only if the film ends up fisheye, the eye order of `_BT` only if
the winning stereo claim is top-bottom.

Where a claimed packing contradicts the picture's shape, `vrplayer.layout.aspect` says which claims give way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vrplayer.layout.aspect import aspect_text, fitting_packing, guess_from_aspect
from vrplayer.layout.manifest import validate_manifest
from vrplayer.layout.model import (
    DEFAULT_FOV, FULL, PROJECTIONS, STEREO_MODES, Layout, LayoutDecision, is_number, name_list, valid_crop,
)
from vrplayer.layout.tags import filename_tags

if TYPE_CHECKING:
    from vrplayer.media.spherical import ContainerLayout

# How the command line spells each flag, for source texts and messages.
FLAG_OPTIONS = {
    "projection": "--projection",
    "stereo": "--stereo",
    "eyes_swapped": "--eyes-swapped",
    "fov_covered": "--fov-covered",
    "initial_yaw": "--initial-yaw",
}


# --------------------------------------------------------------------------------------------------------------
# Claims: what each source says
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    value: Any
    text: str  # the source in words, for `sources`
    origin: str  # "flags" | "manifest" | "metadata" | "filename" | "aspect" | "default"


_Claims = dict  # fact -> _Claim, one dict per source


def _crop_for_coverage(degrees: float) -> tuple[float, float, float, float]:
    """A horizontal coverage, centred ahead, as an equirectangular crop (full height)."""
    side = (1.0 - degrees / 360.0) / 2.0
    return (side, 0.0, side, 0.0)


def validate_flags(flags: dict | None) -> dict:
    """The flags that were given (None values dropped), checked; ValueError names what is wrong."""
    given = {key: value for key, value in (flags or {}).items() if value is not None}
    for key, value in given.items():
        if key not in FLAG_OPTIONS:
            raise ValueError(f"unknown layout flag {key!r} (valid: {name_list(FLAG_OPTIONS)})")
        option = FLAG_OPTIONS[key]
        if key == "projection" and value not in PROJECTIONS:
            raise ValueError(f"{option}: unknown projection {value!r} (valid: {name_list(PROJECTIONS)})")
        if key == "stereo" and value not in STEREO_MODES:
            raise ValueError(f"{option}: unknown stereo mode {value!r} (valid: {name_list(STEREO_MODES)})")
        if key == "eyes_swapped" and not isinstance(value, bool):
            raise ValueError(f"{option}: must be true or false, not {value!r}")
        if key == "fov_covered" and not (is_number(value) and 0 < value <= 360):
            raise ValueError(f"{option}: must be degrees between 0 and 360, not {value!r}")
        if key == "initial_yaw" and not is_number(value):
            raise ValueError(f"{option}: must be degrees, not {value!r}")
    return given


def _flag_claims(flags: dict) -> _Claims:
    claims: _Claims = {}
    for key in ("projection", "stereo", "eyes_swapped"):
        if key in flags:
            claims[key] = _Claim(flags[key], f"flag {FLAG_OPTIONS[key]}", "flags")
    if "fov_covered" in flags:  # one flag, two meanings: whichever the projection uses
        text = f"flag {FLAG_OPTIONS['fov_covered']}"
        claims["coverage"] = _Claim(_crop_for_coverage(float(flags["fov_covered"])), text, "flags")
        claims["fov"] = _Claim(float(flags["fov_covered"]), text, "flags")
    if "initial_yaw" in flags:
        claims["initial_yaw"] = _Claim(float(flags["initial_yaw"]), f"flag {FLAG_OPTIONS['initial_yaw']}", "flags")
    return claims


def _manifest_claims(manifest: dict, name: str) -> _Claims:
    text = f"manifest {name}"
    claims: _Claims = {}
    for key in ("projection", "stereo", "eyes_swapped"):
        if key in manifest:
            claims[key] = _Claim(manifest[key], text, "manifest")
    if "fov" in manifest:
        claims["fov"] = _Claim(float(manifest["fov"]), text, "manifest")
    if "coverage" in manifest:
        claims["coverage"] = _Claim(_crop_for_coverage(float(manifest["coverage"])), text, "manifest")
    if "crop" in manifest:
        crop = manifest["crop"]
        claims["coverage"] = _Claim(tuple(float(crop.get(k, 0.0)) for k in ("left", "top", "right", "bottom")),
                                    text, "manifest")
    if "initial_view" in manifest:
        view = manifest["initial_view"]
        claims["initial_view"] = _Claim(tuple(float(view.get(k, 0.0)) for k in ("yaw", "pitch", "roll")),
                                        text, "manifest")
    return claims


def _camera_claims(camera: dict, name: str) -> _Claims:
    """What a camera file's own facts say (vrplayer.cameras, through media/camera.py): projection, stereo, eye
    order, a lens's fov."""
    text = f"camera file ({name})"
    claims: _Claims = {key: _Claim(camera[key], text, "camera") for key in ("projection", "stereo", "eyes_swapped")
                       if camera.get(key) is not None}
    if camera.get("fov") is not None:
        claims["fov"] = _Claim(float(camera["fov"]), text, "camera")
    return claims


def initial_view_from_pose(kind: str, pose: tuple[float, float, float]) -> tuple[float, float, float]:
    """The stored pose of a film's metadata as our initial view (yaw right-positive, pitch up-positive, roll
    right-side-down positive), in degrees, yaw wrapped to (-180, 180].

    - "Spherical Video V2" (`prhd`) and "Matroska Projection" (ProjectionPose*): the stored yaw turns
      counter-clockwise about the up axis seen from above, i.e. to the left, so our yaw is its negative; pitch and
      roll keep their sign. (Matroska's spec text calls its yaw "clockwise"; the sign is to be checked against
      tagged files and rendered pictures — change it here, in one place.)
    - "Spherical Video V1": (InitialViewHeadingDegrees, InitialViewPitchDegrees, InitialViewRollDegrees); the
      heading is a compass bearing (clockwise seen from above, i.e. to the right), so all three keep their sign.
      "GPano XMP" (a photo sphere's; V1 took its tags from it): the same, the heading taken relative to the
      panorama's centre (media/xmp.py).

    ValueError for any other kind.
    """
    yaw, pitch, roll = (float(v) for v in pose)
    if kind in ("Spherical Video V2", "Matroska Projection"):
        yaw = -yaw
    elif kind not in ("Spherical Video V1", "GPano XMP"):
        raise ValueError(f"no pose convention known for {kind!r}")
    return (_wrap180(yaw), pitch + 0.0, roll + 0.0)


def _wrap180(degrees: float) -> float:
    wrapped = degrees % 360.0
    return (wrapped - 360.0 if wrapped > 180.0 else wrapped) + 0.0  # + 0.0: no negative zero


def _container_claims(container: ContainerLayout, film: str, warnings: list[str]) -> tuple[_Claims, str | None]:
    """What the metadata says, and the label of a projection it names that cannot be drawn (None if none)."""
    text = f"metadata ({container.kind})"
    claims: _Claims = {}
    undrawable = None
    projection = container.projection
    if projection == "equirectangular":
        claims["projection"] = _Claim("equirectangular", text, "metadata")
        if container.crop is not None:
            if valid_crop(container.crop):
                claims["coverage"] = _Claim(tuple(float(v) for v in container.crop), text, "metadata")
            else:
                warnings.append(f"{film}: {text} has an impossible crop {tuple(container.crop)}; ignoring it")
    elif projection == "cubemap" and container.cubemap_layout in (0, None):
        # Spherical Video V2 defines one cubemap layout (0, 3x2 faces); the films that use it are YouTube's, whose
        # faces are equi-angular: read it as eac.
        claims["projection"] = _Claim("eac", f"metadata ({container.kind} cubemap layout 0, read as YouTube's EAC)",
                                      "metadata")
    elif projection == "rectangular":
        claims["projection"] = _Claim("flat", text, "metadata")
    elif projection == "mesh" and container.meshes:
        box = " mshp" if container.kind == "Spherical Video V2" else ""
        claims["projection"] = _Claim("mesh", f"metadata ({container.kind}{box})", "metadata")
        if container.stereo == "custom" and len(container.meshes) == 2:
            # Stereo-custom: each eye's mesh points into the whole picture, so the packing is mono's.
            claims["stereo"] = _Claim("mono", f"metadata ({container.stereo_source or container.kind}"
                                              " stereo-custom: each eye's own mesh)", "metadata")
    elif projection is not None:
        box = " mshp" if (projection == "mesh" and container.kind == "Spherical Video V2") else ""
        layout = f" layout {container.cubemap_layout}" if projection == "cubemap" else ""
        undrawable = f"projection '{projection}'{layout} ({container.kind}{box})"

    stereo_kind = container.stereo_source or container.kind  # Matroska: StereoMode, beside the Projection element
    stereo_text = f"metadata ({stereo_kind})"
    if "stereo" in claims:
        pass
    elif container.stereo in STEREO_MODES:
        claims["stereo"] = _Claim(container.stereo, stereo_text, "metadata")
    elif container.stereo is not None:
        warnings.append(f"{film}: stereo mode '{container.stereo}' ({stereo_kind}) is not supported; deciding the"
                        f" packing from the file name or the picture — use {FLAG_OPTIONS['stereo']} to choose")
    if container.eyes_swapped is not None:
        claims["eyes_swapped"] = _Claim(bool(container.eyes_swapped), stereo_text, "metadata")
    if container.pose is not None:
        try:
            claims["initial_view"] = _Claim(initial_view_from_pose(container.kind, container.pose), text, "metadata")
        except ValueError as error:
            warnings.append(f"{film}: initial view ignored: {error}")
    warnings.extend(container.problems)
    return claims, undrawable


def _filename_claims(filename: str, warnings: list[str]) -> _Claims:
    film = Path(filename).name
    claimed: dict[str, tuple[_Claim, int]] = {}  # fact -> (claim, generality of the tag that made it)
    # Specific tags first (the sort is stable): a generic word never beats a specific one.
    for tag, written in sorted(filename_tags(filename), key=lambda found: found[0].generality):
        text = f"filename tag {written}"
        said = {"projection": tag.projection, "stereo": tag.stereo, "eyes_swapped": tag.eyes_swapped,
                "fov": None if tag.fov is None else float(tag.fov),
                "coverage": None if tag.coverage is None else _crop_for_coverage(tag.coverage)}
        for fact, value in said.items():
            if value is None:
                continue
            # The eye order comes from the tag whose packing won: "_BT" says both.
            if fact == "eyes_swapped" and "stereo" in claimed and claimed["stereo"][0].text != text:
                continue
            level = tag.generality if fact in ("projection", "stereo") else 0
            if fact in claimed:
                earlier, earlier_level = claimed[fact]
                if earlier.value != value and earlier_level == level:
                    warnings.append(f"{film}: {earlier.text} and {text} disagree about {fact.replace('_', ' ')};"
                                    f" using {earlier.text}")
                continue
            claimed[fact] = (_Claim(value, text, "filename"), level)
    return {fact: claim for fact, (claim, _) in claimed.items()}


# --------------------------------------------------------------------------------------------------------------
# The decision
# --------------------------------------------------------------------------------------------------------------


def _first(sources: list[_Claims], fact: str, parent: str | None = None, parent_value: Any = None) -> _Claim | None:
    """The first source's claim on `fact`; with a parent fact, only from a source that claims nothing about the
    parent or the same value as the winner."""
    for claims in sources:
        if fact in claims:
            if parent is not None and parent in claims and claims[parent].value != parent_value:
                continue
            return claims[fact]
    return None


def decide_layout(*, width: int, height: int, filename: str, flags: dict | None = None, manifest: dict | None = None,
                  manifest_source: str | None = None, container: ContainerLayout | None = None,
                  camera: dict | None = None, camera_name: str = "camera") -> LayoutDecision:
    """Decide how to draw a film's picture, fact by fact: flags, then the manifest, the container metadata, the
    file name's tags, the picture's aspect ratio, and defaults (see the module docstring).

    width, height: the whole decoded picture (both eyes); 0 when unknown (the shape then says nothing).
    flags: optional keys (None values are ignored) projection, stereo, eyes_swapped (bool), fov_covered (degrees:
    an equirectangular film's horizontal coverage, centred; a fisheye's or dual fisheye's lens fov; a flat
    screen's width), initial_yaw (degrees, right-positive; pitch and roll then come from the next source).
    manifest: parsed by `load_manifest`; manifest_source: its path, named in the sources.
    container: what `vrplayer.media.spherical` read, or None.
    camera: a camera file's facts (media/camera.py's CameraFile.layout: projection, stereo, eyes_swapped, fov,
    eac_padding), trusted after the container's metadata; camera_name says whose, in the sources.

    ValueError for bad flags or a malformed manifest, with a one-line message.
    """
    film = Path(filename).name
    warnings: list[str] = []
    sources: list[_Claims] = [_flag_claims(validate_flags(flags))]
    if manifest is not None:
        name = Path(manifest_source).name if manifest_source else "manifest"
        warnings.extend(validate_manifest(manifest, name))
        sources.append(_manifest_claims(manifest, name))
    undrawable = None
    if container is not None:
        claims, undrawable = _container_claims(container, film, warnings)
        sources.append(claims)
    if camera:
        sources.append(_camera_claims(camera, camera_name))
    sources.append(_filename_claims(filename, warnings))
    has_shape = width > 0 and height > 0
    shape = aspect_text(width, height) if has_shape else None

    projection = _first(sources, "projection")
    stereo = _first(sources, "stereo")
    # A coverage without a projection (only flags and the manifest give one) means an equirectangular crop.
    coverage = _first(sources, "coverage", "projection", projection.value if projection else "equirectangular")

    meshes = _decide_meshes(projection, container, film)
    if meshes and stereo is None:
        stereo = _Claim("mono", "default (the film's mesh says where each eye's picture is)", "default")
    # The picture's shape fills what no source said.
    if has_shape and (projection is None or stereo is None or (coverage is None and _equirect(projection))):
        known_crop = coverage.value if coverage is not None and _equirect(projection) else None
        p, c, s, matched = guess_from_aspect(width, height, projection and projection.value,
                                              stereo and stereo.value, known_crop)
        seen = f"aspect {shape}"
        if projection is None:
            projection = _Claim(p, seen, "aspect") if (matched or p == "flat") else _Claim(p, "default", "default")
        if stereo is None and matched:
            stereo = _Claim(s, seen, "aspect")
        if coverage is None and matched and p == "equirectangular":
            coverage = _Claim(c, seen, "aspect")
    projection = projection or _Claim("equirectangular", "default", "default")
    stereo = stereo or _Claim("mono", "default", "default")
    if projection.value == "equirectangular":
        coverage = coverage or _Claim(FULL, "default", "default")
    crop = coverage.value if projection.value == "equirectangular" else FULL

    stereo_claimed = stereo.value
    if has_shape:
        stereo = _check_packing(projection.value, crop, stereo, width, height, shape, warnings)

    eyes = _decide_eyes(sources, stereo, stereo_claimed, warnings)
    fov = _decide_fov(sources, projection.value, warnings)
    initial_view = _decide_initial_view(sources)
    _warn_unused_manifest_keys(sources, projection.value, warnings)
    if undrawable:
        warnings.append(f"{film}: {undrawable} cannot be drawn; showing it as {projection.value} — use"
                        f" {FLAG_OPTIONS['projection']} to choose another")

    circles, circles_text = _decide_lens_circles(manifest, manifest_source, camera, camera_name, projection.value,
                                                 stereo.value, width, height)
    layout = Layout(projection=projection.value, stereo=stereo.value, eyes_swapped=eyes.value,
                    crop_left=crop[0], crop_top=crop[1], crop_right=crop[2], crop_bottom=crop[3], fov=fov.value,
                    initial_yaw=initial_view.value[0], initial_pitch=initial_view.value[1],
                    initial_roll=initial_view.value[2], meshes=meshes,
                    eac_padding=(camera or {}).get("eac_padding") if projection.value == "eac" else None,
                    lens_circles=circles)
    return LayoutDecision(
        layout=layout,
        sources={"projection": projection.text, "stereo": stereo.text, "eyes_swapped": eyes.text,
                 "coverage": coverage.text if projection.value == "equirectangular" else _coverage_text(layout),
                 "fov": fov.text, "initial_view": initial_view.text, **({"lenses": circles_text} if circles else {})},
        warnings=warnings, width=width, height=height,
        audio=manifest.get("audio") if manifest is not None else None,
    )


def _decide_meshes(projection: _Claim | None, container: ContainerLayout | None, film: str) -> tuple | None:
    """The film's own meshes when the winning projection is "mesh" (a flag or manifest asking for it on a film
    that has none is a ValueError: there is nothing to draw)."""
    if projection is None or projection.value != "mesh":
        return None
    if container is None or not container.meshes:
        raise ValueError(f"{projection.text}: {film} carries no mesh of its own (Spherical Video V2 mshp, or a"
                         " Matroska mesh Projection) to draw; choose another projection")
    return tuple(container.meshes)


def _decide_lens_circles(manifest: dict | None, manifest_source: str | None, camera: dict | None, camera_name: str,
                         projection: str, stereo: str, width: int, height: int) -> tuple[tuple | None, str]:
    """A fisheye's lens circles (Layout.lens_circles) and where they came from: the manifest's `lenses` (pixels of
    the whole picture, in picture order), else the camera file's (fractions already), else None (centred)."""
    if projection not in ("fisheye", "dual-fisheye"):
        return None, ""
    if manifest and manifest.get("lenses") and width > 0 and height > 0:
        circles = []
        for index, lens in enumerate(manifest["lenses"]):
            x0, y0, w, h = _lens_picture(stereo if projection == "fisheye" else "mono", index, width, height)
            (x, y), radius = lens["centre"], lens["radius"]
            circles.append(((x - x0) / w, (y - y0) / h, radius / h, float(lens.get("turn", 0.0))))
        return tuple(circles), f"manifest {Path(manifest_source).name if manifest_source else 'manifest'}"
    if camera and camera.get("lens_circles"):
        return tuple(camera["lens_circles"]), f"camera file ({camera_name})"
    return None, ""


def _lens_picture(stereo: str, index: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The picture (x0, y0, width, height) the `index`th lens circle (picture order) is measured in: its eye's."""
    if stereo == "side-by-side":
        return (width // 2 if index else 0, 0, width // 2, height)
    if stereo == "top-bottom":
        return (0, height // 2 if index else 0, width, height // 2)
    return (0, 0, width, height)


def _equirect(projection: _Claim | None) -> bool:
    return projection is None or projection.value == "equirectangular"


def _check_packing(projection: str, crop: tuple, stereo: _Claim, width: int, height: int, shape: str,
                   warnings: list[str]) -> _Claim:
    """Warn about (and, for metadata and file names, correct) a packing the picture cannot have."""
    fitting = fitting_packing(projection, crop, stereo.value, width / height)
    if fitting is None:
        return stereo
    picture = f"the {width}x{height} picture ({shape})"
    if stereo.origin in ("default", "aspect"):  # nothing said it: the shape decides, quietly
        return stereo if fitting == stereo.value else _Claim(fitting, f"aspect {shape}", "aspect")
    if fitting == stereo.value:
        warnings.append(f"{stereo.text} says {stereo.value} but {picture} fits no {projection} packing;"
                        f" keeping {stereo.value}")
        return stereo
    if stereo.origin in ("flags", "manifest"):
        warnings.append(f"{stereo.text} says {stereo.value} but {picture} looks {fitting}; keeping {stereo.value}"
                        " as asked")
        return stereo
    warnings.append(f"{stereo.text} says {stereo.value} but {picture} looks {fitting}; using {fitting}")
    return _Claim(fitting, f"aspect {shape} (overriding {stereo.text})", "aspect")


def _decide_eyes(sources: list[_Claims], stereo: _Claim, stereo_claimed: str, warnings: list[str]) -> _Claim:
    eyes = _first(sources, "eyes_swapped", "stereo", stereo_claimed)
    if stereo.value == "mono":
        if eyes is not None and eyes.value:
            warnings.append(f"{eyes.text} says the eyes are swapped, but the picture is mono; ignoring it")
        return _Claim(False, "not used (mono)", "default")
    return eyes or _Claim(False, "default", "default")


def _decide_fov(sources: list[_Claims], projection: str, warnings: list[str]) -> _Claim:
    if projection not in DEFAULT_FOV:
        return _Claim(None, f"not used by {projection}", "default")
    for claims in sources:
        claim = claims.get("fov")
        if claim is None or ("projection" in claims and claims["projection"].value != projection):
            continue
        if projection == "flat" and claim.value >= 180:
            warnings.append(f"{claim.text}: a flat screen cannot be {claim.value:g}° wide; using"
                            f" {DEFAULT_FOV['flat']:g}°")
            break
        return claim
    return _Claim(DEFAULT_FOV[projection], "default", "default")


def _decide_initial_view(sources: list[_Claims]) -> _Claim:
    view = _first(sources, "initial_view") or _Claim((0.0, 0.0, 0.0), "default", "default")
    flag = _first(sources, "initial_yaw")
    if flag is None:
        return view
    text = flag.text if view.origin == "default" else f"{flag.text} (pitch and roll: {view.text})"
    return _Claim((_wrap180(flag.value), view.value[1], view.value[2]), text, "flags")


def _warn_unused_manifest_keys(sources: list[_Claims], projection: str, warnings: list[str]) -> None:
    """A manifest's coverage means nothing to a fisheye, nor its fov to an equirectangular film: say so."""
    for claims in sources:
        for fact, claim in claims.items():
            if claim.origin != "manifest":
                continue
            if fact == "coverage" and projection != "equirectangular":
                warnings.append(f"{claim.text}: coverage/crop apply to equirectangular films only; ignored for"
                                f" {projection} (use fov)")
            if fact == "fov" and projection not in DEFAULT_FOV:
                warnings.append(f"{claim.text}: fov applies to fisheye, dual-fisheye and flat films only; ignored"
                                f" for {projection}" + (" (use coverage)" if projection == "equirectangular" else ""))


def _coverage_text(layout: Layout) -> str:
    if layout.projection in ("fisheye", "dual-fisheye"):
        return "from the fov"
    if layout.projection == "flat":
        return "from the fov and the picture's shape"
    if layout.projection == "mesh":
        return "from the mesh"
    return f"whole sphere ({layout.projection})"
