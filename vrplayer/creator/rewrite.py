"""Writing a film's tagged copy: the source streamed to a temporary file beside OUT with a few byte spans replaced
(a header, a box, an element), then renamed over OUT. Everything outside the spans — the media data — is copied
byte for byte; OUT is never half-written: a failed or interrupted copy leaves OUT as it was."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vrplayer import log
from vrplayer.errors import PlayerError, path_text

_log = log.get("tag")

CHUNK = 8 << 20
PROGRESS_FROM = 64 << 20  # copies this big say how far they are, every tenth


@dataclass(frozen=True)
class Edit:
    """Source bytes [start, end) are written as `data` (start == end: `data` is inserted there)."""

    start: int
    end: int
    data: bytes


def check_paths(source: str, output: str) -> None:
    """PlayerError unless `output` is a new name (or another file) in a folder that exists, apart from `source`."""
    out = Path(output)
    if out.is_dir():
        raise PlayerError(f"{path_text(output)}: is a folder; give the name of the copy to write")
    if not out.parent.is_dir():
        raise PlayerError(f"{path_text(output)}: the folder {path_text(out.parent)} does not exist; create it first")
    same = os.path.samefile(source, output) if out.exists() else Path(source).resolve() == out.resolve()
    if same:
        raise PlayerError(f"{path_text(output)}: is the film itself; give the copy another name (-o OUT)")


def write_copy(source: str, output: str, edits: list[Edit], verify: Callable[[str], None] | None = None) -> None:
    """Write `source` with `edits` (non-overlapping) applied to a temporary file beside `output`; `verify(path)`
    may refuse it (raising) before it is renamed to `output`. The copy gets the source's permission bits."""
    out = Path(output)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as target, open(source, "rb") as film:
            _copy(film, target, sorted(edits, key=lambda e: e.start), os.fstat(film.fileno()).st_size, output)
            target.flush()
            os.fsync(target.fileno())
        os.chmod(temporary, os.stat(source).st_mode & 0o777)
        if verify is not None:
            verify(temporary)
        os.replace(temporary, output)
    except OSError as exc:
        _remove(temporary)
        raise PlayerError(f"cannot write {path_text(output)} ({exc.strerror or exc}); check the folder is writable"
                          " and has room for a copy of the film") from None
    except BaseException:
        _remove(temporary)
        raise


def _copy(film, target, edits: list[Edit], size: int, output: str) -> None:
    total = size + sum(len(e.data) - (e.end - e.start) for e in edits)
    reported = [0]

    def progress(written: int) -> None:
        tenth = written * 10 // max(total, 1)
        if total >= PROGRESS_FROM and tenth > reported[0]:
            reported[0] = tenth
            _log.info("%s: %d%% written (%.1f of %.1f MB)", path_text(output), tenth * 10, written / 1e6, total / 1e6)

    written = position = 0
    for edit in edits + [Edit(size, size, b"")]:
        while position < edit.start:  # the source's bytes up to the edit, as they are
            film.seek(position)
            data = film.read(min(CHUNK, edit.start - position))
            if not data:
                raise PlayerError(f"the film ended at byte {position} while it was copied (was it changed meanwhile?)")
            target.write(data)
            position += len(data)
            written += len(data)
            progress(written)
        target.write(edit.data)
        written += len(edit.data)
        position = edit.end


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
