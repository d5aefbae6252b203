"""Canon's RF 5.2 mm F2.8 L Dual Fisheye (EOS R5 / R5 C): a VR180 stereo pair as two fisheye circles side by side,
the right eye's on the left (facts: vrplayer/cameras/facts.py). Recognised from the file's own tags; each unit's
circles sit a little off centre, by its own amount: the manifest's "lenses" gives them."""

from __future__ import annotations

from vrplayer.cameras import facts
from vrplayer.media.camera import CameraFile


def _tags(container) -> list[tuple[str, str]]:
    found = list((container.metadata or {}).items())
    for stream in container.streams.video:
        found += list((stream.metadata or {}).items())
    return [(str(key).lower(), str(value)) for key, value in found]


def _plain(text: str) -> str:
    return " ".join(text.upper().split())


def recognise(path: str, container) -> CameraFile | None:
    tags = _tags(container)
    made_by_canon = any(key in ("make", "com.apple.quicktime.make") and facts.CANON_MAKE in value.lower()
                        for key, value in tags)
    lens = _plain(facts.CANON_DUAL_FISHEYE_LENS)
    if not made_by_canon or not any(lens in _plain(value) for _, value in tags):
        return None
    model = next((value for key, value in tags if key in ("model", "com.apple.quicktime.model")), "Canon")
    radius = facts.CANON_CIRCLE_DIAMETER / 2.0
    return CameraFile(
        camera=f"{model} with the {facts.CANON_DUAL_FISHEYE_LENS}",
        layout={"projection": "fisheye", "stereo": "side-by-side", "eyes_swapped": True, "fov": facts.CANON_LENS_FOV,
                "lens_circles": ((0.5, 0.5, radius, 0.0), (0.5, 0.5, radius, 0.0))},
        notes=(f"a VR180 pair of {facts.CANON_LENS_FOV:g}° fisheye circles, the right eye's on the left; the circles"
               " are drawn centred in their halves: a unit's own centre and radius go in the manifest's \"lenses\"",),
    )
