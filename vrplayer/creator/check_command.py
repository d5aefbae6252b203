"""`vrplayer check FILM [--target NAME…] [--json]`: will this film play well there? The film is read once, whole
(its packets; only the sound is decoded), and judged against each target's profile: a table per target, or one
JSON document. Exit status 1 when a chosen target fails, 2 for a target name that is not known."""

from __future__ import annotations

import json
import sys
import time

from vrplayer import log
from vrplayer.creator.check import check_film
from vrplayer.creator.film_facts import film_name, read_film
from vrplayer.creator.targets import choose, target_ids

_log = log.get("check")

UNKNOWN_TARGET = 2
_MARKS = {"pass": "pass", "warn": "WARN", "fail": "FAIL"}


def add_parser(sub) -> None:
    check = sub.add_parser(
        "check", help="pre-flight check: will this film play well on a headset or a platform?",
        description="Read the whole film (its packets; only the sound is decoded) and judge it against target "
                    "profiles: resolution and frame rate, codec, key frames, bit rate, projection, spherical "
                    "metadata, stereo packing, sound format and its spatial metadata, loudness (EBU R128), true "
                    "peak, clipping. Exit status 1 when a target fails.",
        epilog=f"Targets: {', '.join(target_ids())} (default: all). Their limits and where each comes from: "
               "vrplayer/creator/targets.json.")
    check.add_argument("file", metavar="FILM")
    check.add_argument("--target", nargs="+", action="extend", metavar="NAME", help="the targets to judge against (default: all)")
    check.add_argument("--json", action="store_true", help="print one JSON document: the verdicts and the measured facts")


def run(args) -> int:
    chosen, unknown = choose(args.target)
    if unknown:
        print(f"vrplayer: unknown target {', '.join(repr(u) for u in unknown)}; known targets: {', '.join(target_ids())}",
              file=sys.stderr)
        return UNKNOWN_TARGET
    bar = ProgressBar(film_name(args.file)) if _shows_progress(args) else None
    try:
        facts = read_film(args.file, bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    answer = check_film(facts, chosen)
    print(json.dumps(answer, indent=1) if args.json else table(answer))
    return 1 if answer["verdict"] == "fail" else 0


def _shows_progress(args) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


class ProgressBar:
    """One line on stderr, redrawn in place (at most 10 times a second) as the film is read."""

    WIDTH = 30

    def __init__(self, name: str, stream=None):
        self.name = name
        self.stream = stream or sys.stderr
        self.drawn_at = 0.0
        self.shown = False

    def update(self, done: float, total: float | None) -> None:
        now = time.monotonic()
        if now - self.drawn_at < 0.1 and not (total and done >= total):
            return
        self.drawn_at = now
        if total:
            share = max(0.0, min(1.0, done / total))
            filled = round(share * self.WIDTH)
            line = f"checking {self.name} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {100 * share:3.0f} % {done:.0f}/{total:.0f} s"
        else:
            line = f"checking {self.name}: {done:.0f} s read"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def table(answer: dict) -> str:
    """The verdicts, a block per target: its overall verdict, then one line per check."""
    facts = answer["facts"]
    v = facts["video"]
    lines = [f"{film_name(answer['file'])}: {v['codec']} {v['width']}×{v['height']} {v['frame_rate'] or 0:g} fps, "
             f"{facts['duration'] or 0:.1f} s"]
    width = max(len(c) for c in _check_names(answer))
    for target in answer["targets"]:
        lines += ["", f"{target['name']} ({target['id']}): {_MARKS[target['verdict']]}"]
        for c in target["checks"]:
            lines.append(f"  {_MARKS[c['verdict']]}  {c['check'].replace('_', ' '):<{width}}  {c['reason']}")
    worst = answer["verdict"]
    failed = [t["id"] for t in answer["targets"] if t["verdict"] == "fail"]
    lines += ["", f"overall: {_MARKS[worst]}" + (f" (fails on {', '.join(failed)})" if failed else "")]
    return "\n".join(lines)


def _check_names(answer: dict) -> list[str]:
    return [c["check"].replace("_", " ") for t in answer["targets"] for c in t["checks"]] or [""]
