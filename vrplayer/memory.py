"""Memory between films: handing freed memory back to the system, and keeping the cyclic collector out of a film.

A film's decoded pictures (a 4K frame is 12 MB, a few dozen are in flight) are allocated and freed by the decoder
threads. glibc keeps what they free in per-thread arenas for re-use and gives little of it back, so a kiosk's
resident memory after a 4K film stays hundreds of MB above what it holds, and swings by as much from one film to the
next (measured over 30 films: 268–381 MB resident untrimmed, 228–263 MB trimmed). Trimming once a film is closed
gives it back: a machine running a kiosk all day keeps its memory, and a real leak is not hidden among the swings.
Trimming gives back only whole free pages, though, and each thread that allocates while another holds an arena gets
an arena of its own (up to eight per core): with the sound's threads beside the decoders', a kiosk's films were
spread over a dozen arenas whose part-used pages trimming cannot return — resident memory climbed from 230 MB to
450–800 MB in the first five minutes of a soak and stayed there. So the process keeps to two arenas
(`limit_arenas`, at start): the same soak sits at 232 MB.

Python's cyclic collector, when it reaches its oldest generation, walks every object the process holds while it
keeps the interpreter's lock: 24–32 ms in a playing film (measured), during which the audio callback cannot run —
a gap or a skip in the sound. So before each film plays, the collector gathers what earlier films left in cycles,
and everything alive then is exempted from it (gc.freeze) until the film ends: its passes during the film walk only
what the film itself made since.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

_trim = None
_looked = False
M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def _libc():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Keep the allocator to `arenas` arenas (glibc's mallopt M_ARENA_MAX), unless MALLOC_ARENA_MAX already says
    how many; called before the process starts its threads. False where there is no such allocator."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # not glibc (musl, macOS)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def give_back() -> bool:
    """Return the allocator's free memory to the system (glibc's malloc_trim); False where there is none."""
    global _trim, _looked
    if not _looked:
        _looked = True
        _trim = getattr(_libc(), "malloc_trim", None)  # None: not glibc (musl, macOS), nothing to do
        if _trim is not None:
            _trim.argtypes, _trim.restype = [ctypes.c_size_t], ctypes.c_int
    if _trim is None:
        return False
    _trim(0)
    return True


def settle() -> None:
    """Before a film plays (nothing sounding yet): collect the cycles earlier films left, then freeze every object
    alive now out of the cyclic collector's passes until `thaw`."""
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Once the film has ended: the frozen objects are the collector's again (what the film left in cycles is
    gathered by the next collection, at the latest the next film's `settle`)."""
    gc.unfreeze()
