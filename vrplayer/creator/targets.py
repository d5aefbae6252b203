"""The target profiles `vrplayer check` judges a film against: `targets.json` beside this module, each limit with
where it comes from."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from vrplayer.errors import PlayerError

TARGETS_FILE = Path(__file__).with_name("targets.json")
# What every target must say (the checks read them without asking twice).
_SECTIONS = ("name", "codecs", "decode", "bit_rate", "projections", "stereo", "spherical_metadata", "audio", "loudness")


@lru_cache(maxsize=1)
def load_targets() -> dict:
    """{"shared": {...}, "targets": {id: profile}}, checked. PlayerError names what is wrong with the file."""
    try:
        data = json.loads(TARGETS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlayerError(f"cannot read the target profiles {TARGETS_FILE.name}: {exc}") from None
    for key, profile in data.get("targets", {}).items():
        missing = [s for s in _SECTIONS if s not in profile]
        if missing:
            raise PlayerError(f"{TARGETS_FILE.name}: target {key!r} lacks {', '.join(missing)}")
    return data


def target_ids() -> list[str]:
    return list(load_targets()["targets"])


def choose(names: list[str] | None) -> tuple[list[str], list[str]]:
    """(the target ids asked for, in the order asked — all when none; the names that are not targets)."""
    known = target_ids()
    if not names:
        return known, []
    lowered = {k.lower(): k for k in known}
    chosen, unknown = [], []
    for name in names:
        key = lowered.get(name.strip().lower())
        if key is None:
            unknown.append(name)
        elif key not in chosen:
            chosen.append(key)
    return chosen, unknown
