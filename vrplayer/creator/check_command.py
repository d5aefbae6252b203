"""`vrplayer check FILM [--target NAME…] [--json]`: will this film play well there? The film is read once, whole
(its packets; only the sound is decoded), and judged against each target's profile: a table per target, or one
JSON document. Exit status 1 when a chosen target fails, 2 for a target name that is not known."""

from __future__ import annotations

import json
import sys

from vrplayer import log
from vrplayer.creator.check import check_film
from vrplayer.creator.film_facts import film_name, read_film
from vrplayer.creator.targets import choose, target_ids
from vrplayer.progress import ProgressBar, shows_progress

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
    bar = ProgressBar(film_name(args.file)) if shows_progress(args) else None
    try:
        facts = read_film(args.file, bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    answer = check_film(facts, chosen)
    print(json.dumps(answer, indent=1) if args.json else table(answer))
    return 1 if answer["verdict"] == "fail" else 0


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
