"""What a film's picture is: its projection, how the two eyes are packed, what part of the sphere it covers, and
where the viewer faces first — and how that was decided.

Pure logic (no GL, no PyAV): the decision rules run on facts gathered elsewhere (command-line flags, a sidecar
manifest, container metadata read by `vrplayer.media.spherical`, the file name, the picture size).

- `model`: the names (`PROJECTIONS`, `STEREO_MODES`, `EYE_MODES`), `Layout`, `LayoutDecision`, what a layout
  covers, and the decision's reports for `probe`;
- `tags`: layout tags in file names (`FILENAME_TAGS`);
- `manifest`: the sidecar manifest, its keys and checks;
- `aspect`: what the picture's shape says, and the packings it cannot have;
- `rules`: the order of trust and the decision (`decide_layout`).
"""

from vrplayer.layout.aspect import ASPECT_RULES, ASPECT_TOLERANCE, IMPOSSIBLE_FACTOR
from vrplayer.layout.manifest import MANIFEST_KEYS, load_manifest, manifest_paths, validate_manifest
from vrplayer.layout.model import (
    DEFAULT_FOV,
    EYE_MODES,
    FACTS,
    FULL,
    PROJECTIONS,
    STEREO_MODES,
    VR180,
    Layout,
    LayoutDecision,
    covered,
    decision_json,
    describe_decision,
    flat_screen_aspect,
)
from vrplayer.layout.rules import FLAG_OPTIONS, decide_layout, initial_view_from_pose, validate_flags
from vrplayer.layout.tags import FILENAME_TAGS, FilenameTag, filename_tags

__all__ = [
    "ASPECT_RULES", "ASPECT_TOLERANCE", "DEFAULT_FOV", "EYE_MODES", "FACTS", "FILENAME_TAGS", "FLAG_OPTIONS", "FULL",
    "IMPOSSIBLE_FACTOR", "MANIFEST_KEYS", "PROJECTIONS", "STEREO_MODES", "VR180", "FilenameTag", "Layout",
    "LayoutDecision", "covered", "decide_layout", "decision_json", "describe_decision", "filename_tags",
    "flat_screen_aspect", "initial_view_from_pose", "load_manifest", "manifest_paths", "validate_flags",
    "validate_manifest",
]
