"""The opening view, saved: a view (yaw, pitch, roll in the player's conventions) written as the film's
`initial_view` into its sidecar manifest, which the layout decision reads before the container's metadata — so the
film opens (and recenters) there. `vrplayer set-view`, and the desktop's key, both call `save_opening_view`."""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

from vrplayer import log
from vrplayer.errors import PlayerError, path_text
from vrplayer.layout import load_manifest, manifest_paths, validate_manifest

_log = log.get("set-view")

DECIMALS = 3  # a thousandth of a degree: far below what an eye tells apart, and no float noise in the file


def save_opening_view(film_path: str | os.PathLike, yaw: float, pitch: float, roll: float = 0.0) -> Path:
    """Write (yaw, pitch, roll) degrees as the film's initial view into its sidecar manifest; the manifest's path.

    The film's existing manifest (`FILM.mp4.json`, else `FILM.json`) keeps its file and its other keys; without one,
    `FILM.mp4.json` is made. Yaw and roll are wrapped to (-180, 180]; pitch must be from -90 to 90. The manifest is
    written whole to a temporary file beside it and renamed, so it is never half-written. PlayerError (one line)
    when the film is not a file, the view is not finite, the existing manifest is malformed (it is left as it is),
    or the manifest cannot be written.
    """
    film = Path(film_path)
    if not film.is_file():
        raise PlayerError(f"{path_text(film)}: no such film (or not a regular file); check the path")
    view = _checked_view(yaw, pitch, roll)
    try:
        manifest, found = load_manifest(film)
    except ValueError as exc:
        raise PlayerError(f"{exc} (not changed)") from None
    path = Path(found) if found is not None else manifest_paths(film)[0]
    manifest = dict(manifest or {})
    manifest["initial_view"] = view
    validate_manifest(manifest, str(path))  # what is written must be a manifest the player reads
    _write_atomically(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path


def _checked_view(yaw: float, pitch: float, roll: float) -> dict:
    for name, value in (("yaw", yaw), ("pitch", pitch), ("roll", roll)):
        if not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise PlayerError(f"the view's {name} must be a number of degrees, not {value!r}")
    if not -90.0 <= pitch <= 90.0:
        raise PlayerError(f"the view's pitch must be from -90 to 90 degrees, not {pitch:g}")
    return {"yaw": _wrap180(yaw), "pitch": round(float(pitch), DECIMALS) + 0.0, "roll": _wrap180(roll)}


def _wrap180(degrees: float) -> float:
    wrapped = round(float(degrees), DECIMALS) % 360.0
    return round(wrapped - 360.0 if wrapped > 180.0 else wrapped, DECIMALS) + 0.0  # + 0.0: no negative zero


def _write_atomically(path: Path, text: str) -> None:
    target = path.resolve()  # a manifest that is a link stays one: its target is rewritten
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise PlayerError(f"cannot write {path_text(path)} ({exc.strerror or exc}); check the folder is writable") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        _remove(temporary)
        raise PlayerError(f"cannot write {path_text(path)} ({exc.strerror or exc}); check the folder is writable") from None
    except BaseException:
        _remove(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------------------------
# The command


def add_parser(sub) -> argparse.ArgumentParser:
    command = sub.add_parser(
        "set-view", help="save a view as the film's opening view (in its sidecar manifest)",
        description="Write the view as the film's initial view (\"initial_view\") into its sidecar manifest "
                    "(FILM.mp4.json, or an existing FILM.json), keeping the manifest's other keys: the film then "
                    "opens, and recenters, there. `vrplayer tag` can then write it into the container.")
    command.add_argument("file", metavar="FILM")
    command.add_argument("--yaw", type=float, required=True, metavar="D", help="D degrees right of the picture's centre")
    command.add_argument("--pitch", type=float, required=True, metavar="D", help="D degrees up (-90 to 90)")
    command.add_argument("--roll", type=float, default=0.0, metavar="D", help="the view's right side tipped down by D degrees (default 0)")
    return command


def run(args) -> int:
    path = save_opening_view(args.file, args.yaw, args.pitch, args.roll)
    view = json.loads(path.read_text(encoding="utf-8"))["initial_view"]
    _log.info("%s: opening view yaw %g, pitch %g, roll %g saved in %s", path_text(args.file), view["yaw"],
              view["pitch"], view["roll"], path_text(path))
    return 0
