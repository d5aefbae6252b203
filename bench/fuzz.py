#!/usr/bin/env python3
"""Feed vrplayer damaged copies of its own small films and check that it never falls over and never lies.

Each case is one seeded mutation of one of our films (an MP4 with sound, the same with Spherical Video V2 metadata,
a Matroska film): truncations, bit flips, box and element sizes of 0, 1 and huge, deeply nested and looping boxes,
garbage spherical metadata (st3d, sv3d/proj/equi/prhd bodies, a Spherical Video V1 XML bomb). Every case runs through
`vrplayer probe --json`, `snapshot` and `play --display offscreen --no-audio --duration 1` as subprocesses, and
each run must end one of two ways: exit 0 with its output (valid JSON, a PNG, a played film), or non-zero with
exactly one error line; never a traceback, a crash, or a hang (a run past --timeout).

    .venv/bin/python bench/fuzz.py                         # 300 cases, 3 commands each (~10 min on 2 cores)
    .venv/bin/python bench/fuzz.py --cases 40 --seed 7     # another set
    .venv/bin/python bench/fuzz.py --keep OUT/             # keep the damaged films (to replay a failing case)

Progress goes to stderr, a summary (and each failure, with its case) to stdout; the exit status is 1 when any run
failed. tests/test_robustness.py runs a few dozen of the same cases.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sample_media"))

VRPLAYER = [sys.executable, "-m", "vrplayer"]
COMMANDS = ("probe", "snapshot", "play")
DEFAULT_TIMEOUT = 60.0  # seconds a run may take before it counts as a hang (a 1 s play takes 2-3 s)

# ---------------------------------------------------------------------------------------------------------------
# Our films, and the boxes in them

# Boxes that hold boxes (after a fixed part of `_FIXED` bytes for some).
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta", b"stsd", b"avc1", b"mp4a",
               b"sv3d", b"proj"}
_FIXED = {b"stsd": 8, b"avc1": 78, b"mp4a": 28}


@dataclass
class Box:
    fourcc: bytes
    start: int  # offset of its size field
    header: int  # 8, or 16 with a largesize
    size: int
    path: tuple[int, ...]  # start offsets of its ancestors, outermost first

    @property
    def body(self) -> int:
        return self.start + self.header

    @property
    def end(self) -> int:
        return self.start + self.size


_MAX_DEPTH = 12  # deeper boxes (our own nested-box cases) are not walked into


def boxes(data: bytes, start: int = 0, end: int | None = None, path: tuple[int, ...] = ()) -> list[Box]:
    """Every box of a well-formed MP4 (our own films), depth first, down to _MAX_DEPTH."""
    end = len(data) if end is None else end
    found, pos = [], start
    while pos + 8 <= end:
        size, fourcc = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        box = Box(fourcc, pos, header, size, path)
        found.append(box)
        if fourcc in _CONTAINERS and len(path) < _MAX_DEPTH:
            found += boxes(data, box.body + _FIXED.get(fourcc, 0), box.end, path + (pos,))
        pos += size
    return found


def insert(data: bytes, at: int, payload: bytes, ancestors: tuple[int, ...]) -> bytes:
    """`payload` inserted at `at` inside the boxes starting at `ancestors`, their sizes grown to hold it, and the
    chunk offsets moved when the media data moves (so the film still plays)."""
    out = bytearray(data[:at] + payload + data[at:])
    grow = len(payload)
    for start in ancestors:
        size = struct.unpack_from(">I", out, start)[0]
        if size == 1:
            struct.pack_into(">Q", out, start + 8, struct.unpack_from(">Q", out, start + 8)[0] + grow)
        else:
            struct.pack_into(">I", out, start, size + grow)
    mdat = next((b for b in boxes(bytes(out)) if b.fourcc == b"mdat"), None)
    if mdat is not None and at <= mdat.start:
        for table in boxes(bytes(out)):
            if table.fourcc in (b"stco", b"co64"):
                wide = table.fourcc == b"co64"
                count = struct.unpack_from(">I", out, table.body + 4)[0]
                for i in range(count):
                    where = table.body + 8 + i * (8 if wide else 4)
                    fmt = ">Q" if wide else ">I"
                    struct.pack_into(fmt, out, where, struct.unpack_from(fmt, out, where)[0] + grow)
    return bytes(out)


def box_bytes(fourcc: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), fourcc) + body


def video_entry(data: bytes) -> Box:
    return next(b for b in boxes(data) if b.fourcc == b"avc1")


def with_entry_boxes(data: bytes, payload: bytes) -> bytes:
    """`payload` (boxes) appended to the video sample entry, where Spherical Video V2 puts st3d and sv3d."""
    entry = video_entry(data)
    return insert(data, entry.end, payload, entry.path + (entry.start,))


def spherical_v2(top: int = 0, bottom: int = 0, left: int = 0, right: int = 0, stereo: int = 0) -> bytes:
    prhd = box_bytes(b"prhd", bytes(4) + struct.pack(">3i", 0, 0, 0))
    equi = box_bytes(b"equi", bytes(4) + struct.pack(">4I", top, bottom, left, right))
    sv3d = box_bytes(b"sv3d", box_bytes(b"svhd", bytes(4) + b"fuzz\0") + box_bytes(b"proj", prhd + equi))
    return box_bytes(b"st3d", bytes(4) + bytes([stereo])) + sv3d


def make_seed_films(folder: Path) -> dict[str, bytes]:
    """Our films to damage: {name: bytes}. 160x80, 1.5 s at 24 fps; made once per folder."""
    import make_sample

    films = {}
    for name, options in (("film.mp4", {}), ("film.mkv", {})):
        path = folder / name
        if not path.exists():
            make_sample.make_film(str(path), width=160, height=80, seconds=1.5, fps=24, **options)
        films[name] = path.read_bytes()
    films["v2.mp4"] = with_entry_boxes(films["film.mp4"], spherical_v2())
    return films


# ---------------------------------------------------------------------------------------------------------------
# Mutations: each takes (film bytes, random) and returns (damaged bytes, what was done)


def truncate(data: bytes, rng: random.Random):
    at = rng.randrange(1, len(data))
    return data[:at], f"truncated at byte {at} of {len(data)}"


def flip_bits(data: bytes, rng: random.Random):
    out = bytearray(data)
    count = rng.choice((1, 4, 16, 64, 256))
    for _ in range(count):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out), f"{count} bits flipped"


def scribble(data: bytes, rng: random.Random):
    out = bytearray(data)
    at, length = rng.randrange(len(out)), rng.choice((16, 256, 4096))
    out[at:at + length] = bytes(rng.randrange(256) for _ in range(min(length, len(out) - at)))
    return bytes(out), f"{length} random bytes at {at}"


def box_size(data: bytes, rng: random.Random):
    if data[:4] == _EBML:
        return element_size(data, rng)
    box = rng.choice(boxes(data))
    value = rng.choice((0, 1, 7, 0xFFFFFFFF, box.size + rng.randrange(1, 64)))
    out = bytearray(data)
    struct.pack_into(">I", out, box.start, value)
    return bytes(out), f"{box.fourcc.decode('latin-1')} at {box.start}: size {value}"


_EBML = b"\x1a\x45\xdf\xa3"
# Segment, Tracks, Cluster, SeekHead, TrackEntry, Video
_ELEMENT_IDS = (b"\x18\x53\x80\x67", b"\x16\x54\xae\x6b", b"\x1f\x43\xb6\x75", b"\x11\x4d\x9b\x74", b"\xae", b"\xe0")


def _vint_length(first: int) -> int:
    return 9 - first.bit_length() if first else 8


def _vint(value: int, length: int) -> bytes:
    return ((1 << (7 * length)) | value).to_bytes(length, "big")


def element_size(data: bytes, rng: random.Random):
    """Matroska: the size of an element (found by its ID) made 0, 1, unknown (all ones) or huge, in as many bytes
    as it had."""
    wanted = rng.choice(_ELEMENT_IDS)
    starts = [i for i in range(len(data) - 12) if data.startswith(wanted, i)][:50] or [0]
    at = rng.choice(starts) + len(wanted)
    length = _vint_length(data[at])
    value = rng.choice((0, 1, (1 << (7 * length)) - 1, (1 << (7 * length)) - 2))
    out = bytearray(data)
    out[at:at + length] = _vint(value, length)
    return bytes(out), f"element {wanted.hex()} at {at}: size {value}"


def nested_boxes(data: bytes, rng: random.Random):
    """A chain of boxes nested deeper than any reader should follow, inside moov or the video sample entry."""
    depth = rng.choice((50, 500, 5000))
    kind = rng.choice((b"moov", b"trak", b"proj", b"sv3d"))
    chain = b""
    for _ in range(depth):
        chain = box_bytes(kind, chain)
    if kind in (b"moov", b"trak"):
        moov = next(b for b in boxes(data) if b.fourcc == b"moov")
        return insert(data, moov.end, chain, (moov.start,)), f"{depth} nested {kind.decode()} boxes in moov"
    return with_entry_boxes(data, chain), f"{depth} nested {kind.decode()} boxes in the sample entry"


def looping_offsets(data: bytes, rng: random.Random):
    """Chunk offsets that all point at the film's own headers, or at one chunk again and again."""
    out = bytearray(data)
    tables = [b for b in boxes(data) if b.fourcc in (b"stco", b"co64")]
    target = rng.choice((0, next(b for b in boxes(data) if b.fourcc == b"moov").start, None))
    for table in tables:
        wide = table.fourcc == b"co64"
        count = struct.unpack_from(">I", out, table.body + 4)[0]
        first = struct.unpack_from(">Q" if wide else ">I", out, table.body + 8)[0]
        for i in range(count):
            struct.pack_into(">Q" if wide else ">I", out, table.body + 8 + i * (8 if wide else 4),
                             first if target is None else target)
    return bytes(out), f"every chunk offset at {'the first chunk' if target is None else target}"


def looping_seek_head(data: bytes, rng: random.Random):
    """Matroska: every SeekPosition pointing back at the SeekHead itself (or at the Segment's start)."""
    head, segment = data.find(b"\x11\x4d\x9b\x74"), data.find(b"\x18\x53\x80\x67")
    if head < 0 or segment < 0:
        return flip_bits(data, rng)
    segment_body = segment + 4 + _vint_length(data[segment + 4])
    target = rng.choice((head - segment_body, 0))
    out = bytearray(data)
    pos = head
    while (pos := data.find(b"\x53\xac", pos + 1, head + 400)) > 0:
        length = _vint_length(data[pos + 2])
        width = int.from_bytes(data[pos + 2:pos + 2 + length], "big") & ((1 << (7 * length)) - 1)
        if 1 <= width <= 8 and target < 1 << (8 * width):
            out[pos + 2 + length:pos + 2 + length + width] = target.to_bytes(width, "big")
    return bytes(out), f"every SeekPosition at {target}"


def garbage_spherical(data: bytes, rng: random.Random):
    """Spherical Video V2 boxes whose bodies are garbage: random bytes, bounds all ones, unknown modes."""
    choice = rng.randrange(6)
    junk = bytes(rng.randrange(256) for _ in range(rng.choice((3, 20, 300))))
    if choice == 0:
        payload, what = spherical_v2(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), "equi bounds all ones"
    elif choice == 1:
        payload, what = box_bytes(b"sv3d", junk), "sv3d of random bytes"
    elif choice == 2:
        payload, what = box_bytes(b"sv3d", box_bytes(b"svhd", bytes(5)) + box_bytes(b"proj", junk)), "proj of random bytes"
    elif choice == 3:
        payload, what = box_bytes(b"st3d", bytes(4) + bytes([rng.randrange(5, 256)])), "st3d with an unknown mode"
    elif choice == 4:
        prhd = box_bytes(b"prhd", junk[:rng.randrange(len(junk) + 1)])
        payload = box_bytes(b"sv3d", box_bytes(b"proj", prhd + box_bytes(b"equi", junk)))
        what = "prhd and equi of random bytes"
    else:
        return v1_xml_bomb(data, rng)
    return with_entry_boxes(data, payload), what


def v1_xml_bomb(data: bytes, rng: random.Random):
    """A Spherical Video V1 uuid box whose XML expands entities a billion times (or is cut off)."""
    entities = "".join(f'<!ENTITY e{i} "{"&e%d;" % (i - 1) * 10 if i else "lol"}">' for i in range(9))
    xml = (f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><rdf:SphericalVideo xmlns:rdf="r" '
           f'xmlns:GSpherical="g"><GSpherical:Spherical>&e8;</GSpherical:Spherical></rdf:SphericalVideo>').encode()
    if rng.random() < 0.5:
        xml = xml[:rng.randrange(len(xml))]
    uuid = box_bytes(b"uuid", bytes.fromhex("ffcc8263f8554a938814587a02521fdd") + xml)
    trak = next(b for b in boxes(data) if b.fourcc == b"trak")
    return insert(data, trak.end, uuid, trak.path + (trak.start,)), "Spherical Video V1 XML bomb"


MUTATIONS = {
    "truncate": truncate, "flip": flip_bits, "scribble": scribble, "box-size": box_size, "nested": nested_boxes,
    "looping": looping_offsets, "spherical": garbage_spherical,
}
# Which films each mutation applies to (Matroska has no boxes; its looping is the SeekHead's).
_APPLIES = {"nested": ("film.mp4", "v2.mp4"), "looping": ("film.mp4", "v2.mp4"), "spherical": ("film.mp4", "v2.mp4")}


@dataclass
class Case:
    number: int
    film: str
    mutation: str
    what: str
    data: bytes

    @property
    def name(self) -> str:
        return f"case{self.number:03d}-{self.mutation}{Path(self.film).suffix}"


def cases(films: dict[str, bytes], count: int, seed: int) -> list[Case]:
    """`count` cases, the same for the same seed and films: the mutations in turn, each on a film drawn for it."""
    rng = random.Random(seed)
    names = list(MUTATIONS)
    made = []
    for number in range(count):
        mutation = names[number % len(names)]
        film = rng.choice(_APPLIES.get(mutation, tuple(films)))
        function = looping_seek_head if (mutation == "looping" and film.endswith(".mkv")) else MUTATIONS[mutation]
        data, what = function(films[film], random.Random(rng.getrandbits(64)))
        made.append(Case(number, film, mutation, what, data))
    return made


# ---------------------------------------------------------------------------------------------------------------
# Running a case


@dataclass
class Verdict:
    case: Case
    command: str
    ok: bool
    why: str  # "ok: ..." or what went wrong
    returncode: int | None
    seconds: float
    stderr: str


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " ERROR " in line or line.startswith("vrplayer:")]


def run(case: Case, path: Path, command: str, timeout: float = DEFAULT_TIMEOUT) -> Verdict:
    """One command on one damaged film, judged: no traceback, no crash, no hang, no silent failure."""
    picture = path.with_suffix(".png")
    arguments = {
        "probe": ["probe", path, "--json"],
        "snapshot": ["snapshot", path, "--size", "64x32", "-o", picture],
        "play": ["play", path, "--display", "offscreen", "--no-audio", "--duration", "1", "--size", "64x32"],
    }[command]
    started = time.monotonic()
    try:
        result = subprocess.run([*VRPLAYER, *map(str, arguments)], capture_output=True, text=True, errors="replace",
                                timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return Verdict(case, command, False, f"hang: still running after {timeout:.0f} s", None, timeout, stderr)
    seconds = time.monotonic() - started
    stderr = result.stderr

    def verdict(ok: bool, why: str) -> Verdict:
        return Verdict(case, command, ok, why, result.returncode, seconds, stderr)

    if result.returncode < 0:
        return verdict(False, f"crash: killed by signal {-result.returncode}")
    for sign in ("Traceback", "Fatal Python error", "Exception ignored"):
        if sign in stderr:
            return verdict(False, f"traceback ({sign})")
    errors = error_lines(stderr)
    if result.returncode != 0:
        if len(errors) != 1:
            return verdict(False, f"exit {result.returncode} with {len(errors)} error lines (one is the rule)")
        return verdict(True, f"refused: {errors[0]}")
    if errors:
        return verdict(False, f"exit 0 with error lines: {errors[0]}")
    if command == "probe":
        try:
            info = json.loads(result.stdout)
        except ValueError as exc:
            return verdict(False, f"exit 0, but the JSON is invalid ({exc})")
        if not isinstance(info, dict) or "video" not in info or "warnings" not in info:
            return verdict(False, "exit 0, but the JSON lacks video or warnings")
        return verdict(True, "ok: described" + (f", {len(info['warnings'])} warnings" if info["warnings"] else ""))
    if command == "snapshot":
        if not picture.exists() or picture.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            return verdict(False, "exit 0, but no PNG was written")
        picture.unlink()
        return verdict(True, "ok: picture written")
    if "frames shown" not in stderr:
        return verdict(False, "exit 0, but nothing says a film played")
    return verdict(True, "ok: played")


def run_all(case_list: list[Case], folder: Path, commands=COMMANDS, jobs: int = 2, timeout: float = DEFAULT_TIMEOUT,
            progress=None) -> list[Verdict]:
    """Every command on every case, `jobs` at a time; progress(done, total, verdict) after each run."""
    work = []
    for case in case_list:
        path = folder / case.name
        path.write_bytes(case.data)
        work += [(case, path, command) for command in commands]
    verdicts = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(run, case, path, command, timeout) for case, path, command in work]
        for future in concurrent.futures.as_completed(futures):
            verdicts.append(future.result())
            if progress is not None:
                progress(len(verdicts), len(futures), verdicts[-1])
    return sorted(verdicts, key=lambda v: (v.case.number, COMMANDS.index(v.command)))


def failure_report(verdict: Verdict) -> str:
    tail = " | ".join(verdict.stderr.strip().splitlines()[-3:])
    return (f"{verdict.case.name} ({verdict.case.film}: {verdict.case.what}) {verdict.command}: {verdict.why}\n"
            f"    stderr: {tail[-600:]}")


def summary(verdicts: list[Verdict]) -> str:
    outcomes = Counter((v.command, "failed" if not v.ok else v.why.split(":")[0]) for v in verdicts)
    lines = [f"{len(verdicts)} runs of {len({v.case.number for v in verdicts})} cases; "
             f"{sum(not v.ok for v in verdicts)} failed"]
    for command in COMMANDS:
        counts = ", ".join(f"{outcomes[command, kind]} {kind}" for kind in ("ok", "refused", "failed")
                           if outcomes[command, kind])
        mine = [v.seconds for v in verdicts if v.command == command]
        if mine:
            lines.append(f"  {command:9s} {counts}; median {sorted(mine)[len(mine) // 2]:.2f} s, slowest {max(mine):.2f} s")
    by_mutation = Counter((v.case.mutation, v.ok) for v in verdicts)
    lines.append("  by mutation: " + ", ".join(
        f"{name} {by_mutation[name, True]}/{by_mutation[name, True] + by_mutation[name, False]}"
        for name in MUTATIONS if by_mutation[name, True] + by_mutation[name, False]))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--cases", type=int, default=300, help="how many damaged films (default 300)")
    parser.add_argument("--seed", type=int, default=12, help="the seed of the mutations (default 12)")
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)), help="runs at a time")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds before a run counts as a hang")
    parser.add_argument("--commands", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--keep", metavar="DIR", help="write the damaged films here and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vrplayer-fuzz-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        seeds = ROOT / "bench" / ".cache" / "fuzz"
        seeds.mkdir(parents=True, exist_ok=True)
        case_list = cases(make_seed_films(seeds), args.cases, args.seed)
        started = time.monotonic()

        def progress(done: int, total: int, verdict: Verdict) -> None:
            mark = "" if verdict.ok else f"  FAILED: {verdict.case.name} {verdict.command}: {verdict.why}"
            if not verdict.ok or done % 10 == 0 or done == total:
                print(f"{done}/{total} runs, {time.monotonic() - started:.0f} s{mark}", file=sys.stderr, flush=True)

        verdicts = run_all(case_list, folder, args.commands, args.jobs, args.timeout, progress)
    failures = [v for v in verdicts if not v.ok]
    for verdict in failures:
        print(failure_report(verdict))
    print(summary(verdicts))
    print(f"wall time {time.monotonic() - started:.0f} s with {args.jobs} jobs (seed {args.seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
