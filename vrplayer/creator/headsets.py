"""Headsets' fields of view, for the outline the creator's overview draws: what a viewer in that headset sees at once.

Figures are horizontal × vertical degrees of the whole view (both eyes together, as a viewer sees it), from the
makers where they publish both, else measured through the lens; each with where it comes from. Real lenses are not
rectangles and the figure moves with the face and the eye relief, so the outline is the nominal view, a guide for
framing, not a promise about any one viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from vrplayer.errors import PlayerError


@dataclass(frozen=True)
class Headset:
    name: str
    title: str
    horizontal: float  # degrees
    vertical: float
    source: str


HEADSETS = {
    headset.name: headset
    for headset in (
        Headset("quest3", "Meta Quest 3", 110.0, 96.0, "Meta, Quest 3 technical specifications: 110° horizontal, 96° vertical"),
        Headset("quest2", "Meta Quest 2", 97.0, 93.0,
                "Meta's figures as set beside Quest 3's at its launch (97° × 93°); through-the-lens measurements "
                "run a few degrees lower at a 65 mm IPD"),
        Headset("pico4", "Pico 4", 105.0, 105.0, "Pico, Pico 4 specifications: a 105° field of view, one figure for both axes"),
        Headset("visionpro", "Apple Vision Pro", 100.0, 90.0,
                "Apple publishes no figure; about 100° × 90° as reviewers measured through the lens"),
        Headset("index", "Valve Index", 108.0, 105.0,
                "crowd-sourced through-the-lens measurements (infinite.cz VR FOV database): median 108° × 105°"),
        Headset("vivepro2", "HTC Vive Pro 2", 116.0, 96.0,
                "HTC: up to 120° (horizontal); measured about 116° × 96° through the lens"),
    )
}
DEFAULT_HEADSET = "quest3"


@dataclass(frozen=True)
class FieldOfView:
    horizontal: float
    vertical: float
    title: str  # what the outline is labelled with

    def text(self) -> str:
        return f"{self.title}: {self.horizontal:g}° × {self.vertical:g}°"


def field_of_view(headset: str | None = None, fov: str | None = None) -> FieldOfView:
    """The view to outline: `fov` ("H×V" or "HxV" degrees) when given, else the named headset (default Quest 3).
    PlayerError, one line, for an unknown name or a figure that is no field of view."""
    if fov is not None:
        horizontal, vertical = parse_fov(fov)
        return FieldOfView(horizontal, vertical, f"{horizontal:g}° × {vertical:g}°")
    name = (headset or DEFAULT_HEADSET).lower().replace(" ", "").replace("-", "")
    if name not in HEADSETS:
        raise PlayerError(f"unknown headset '{headset}'; known: {', '.join(HEADSETS)} (or give --headset-fov H×V)")
    chosen = HEADSETS[name]
    return FieldOfView(chosen.horizontal, chosen.vertical, chosen.title)


def parse_fov(text: str) -> tuple[float, float]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        horizontal, vertical = (float(part) for part in parts)
    except ValueError:
        raise PlayerError(f"'{text}' is not a field of view like 110x96 (horizontal × vertical degrees)") from None
    if not (0 < horizontal < 180 and 0 < vertical < 180):
        raise PlayerError(f"a headset's field of view is between 0 and 180 degrees each way, not {text}")
    return horizontal, vertical
