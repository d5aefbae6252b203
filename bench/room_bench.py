#!/usr/bin/env python3
"""How close together a screening room's seats show their frames.

A private mosquitto, a conductor, and SEATS seats (offscreen, silent) on this machine, each seat given:
  - its own CLOCK_MONOTONIC, seconds away from everyone's (a Linux time namespace: `unshare --time --monotonic`),
  - its own slow, uneven link to the broker (a TCP proxy of ours delaying each direction by a few ms plus jitter),
  - for --netns of them, its own network namespace behind a veth pair, so that those seats are separate hosts.
The conductor plays one film; the bench pauses, resumes and seeks it through the operator's API, and starts one
more seat late, mid-film. Then, from every seat's timing log mapped back to this machine's clock (its known
offset taken off), each presented frame is set against the room's schedule (the cues the room's retained state
carried): its error is when it went on screen minus when the schedule has it.

Printed (JSON lines, then a table): per seat the median and 99th percentile of |error|; per pair of seats the
difference of their errors on the frames both showed, and the worst pair; each command's start spread across
seats (first frame of a cue on each seat); the late joiner's time from joining the broker to being in step. The
baseline measured in the same run: how far apart the seats *received* each command (what a room that acts on a
message's arrival would show as its spread), from the seats' own log lines. Goals (issue): median ≤ 2 ms and
99th percentile ≤ 11 ms between any two seats, a late joiner in step within 2 s, a command's start spread ≤ 11 ms.

    python bench/room_bench.py                   # 8 seats, 4 of them in network namespaces (needs root)
    python bench/room_bench.py --seats 4 --netns 0
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "sample_media"))

import make_sample  # noqa: E402
from broker import Broker, RoomListener, free_port  # noqa: E402
from delay_proxy import DelayProxy  # noqa: E402
from room_schedule import frame_errors, percentile, pictures  # noqa: E402
from shaped_link import ShapedLink  # noqa: E402

ROOM = "bench"
STEP = 0.011  # one frame at 90 Hz: the bound for the 99th percentile and a command's spread
PYTHON = sys.executable


def say(text: str) -> None:
    print(f"room-bench: {text}", file=sys.stderr, flush=True)


def wall_seconds(line: str) -> float | None:
    """A log line's time of day (HH:MM:SS.mmm, the realtime clock, which time namespaces do not shift), as
    seconds since the epoch on this day."""
    match = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) ", line)
    if not match:
        return None
    h, m, s, ms = map(int, match.groups())
    today = datetime.datetime.now().replace(hour=h, minute=m, second=s, microsecond=ms * 1000)
    return today.timestamp()


class Seat:
    def __init__(self, index: int, folder: Path, broker: Broker, link: ShapedLink | None, args):
        self.name = f"seat{index + 1}"
        self.offset = 97 * (index + 1) + index  # seconds this seat's monotonic clock is ahead of ours (unshare takes whole seconds)
        listen = link.host_address if link else "127.0.0.1"
        self.proxy = DelayProxy((broker.address, broker.port), delay=args.delay / 1000 * (1 + index % 3),
                                jitter=args.jitter / 1000, listen=listen, seed=index)
        self.timing = folder / f"{self.name}.jsonl"
        self.log = folder / f"{self.name}.log"
        self.link = link
        self.command = ["unshare", "--time", "--monotonic", f"{self.offset}", "--fork", "--kill-child=SIGTERM", PYTHON, "-m", "vrplayer", "seat",
                        "--room", f"mqtt://{listen}:{self.proxy.address[1]}/{ROOM}", "--name", self.name,
                        "--library", str(folder / "library"), "--display", "offscreen", "--size", args.size, "--no-audio",
                        "--timing-log", str(self.timing)]
        if link:
            self.command = link.wrap(self.command)
        self.proc = None
        self.started = None

    def start(self) -> None:
        self.started = time.monotonic()
        # A session of its own: unshare waits for its child and does not pass a SIGTERM on, so stop() signals the group.
        self.proc = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"),
                                     start_new_session=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proxy.close()


def api(port: int, command: str, **args) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/command", method="POST",
                                     data=json.dumps({"command": command, **args}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()


def room_status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as answer:
        return json.load(answer)


def wait_position(port: int, seconds: float, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            status = room_status(port)
        except OSError:  # (the conductor is still starting)
            status = {"state": "starting"}
        if status["state"] == "playing" and (status["position"] or 0) >= seconds:
            return
        time.sleep(0.05)
    raise SystemExit(f"room-bench: the room did not reach {seconds} s: {room_status(port)}")


def run(args) -> dict:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise SystemExit("room-bench: needs root and unshare (time namespaces give each seat its own clock)")
    folder = Path(tempfile.mkdtemp(prefix="vrplayer-room-bench-"))
    (folder / "library").mkdir()
    film = folder / "library" / "film.mp4"
    say(f"making a {args.seconds:.0f} s {args.fps} fps film")
    make_sample.make_film(str(film), width=384, height=192, seconds=args.seconds, fps=args.fps, audio=False)
    links = [ShapedLink(1e9, tag=f"{os.getpid() % 1000}r{i}", octet=60 + i) for i in range(args.netns)]
    broker = Broker(folder / "broker", address="0.0.0.0").start()
    broker.address = "127.0.0.1"  # (it listens everywhere; we and the proxies reach it here)
    seats, conductor, listener = [], None, None
    try:
        for link in links:
            link.__enter__()
        listener = RoomListener(broker, ROOM)
        seats = [Seat(i, folder, broker, links[i] if i < len(links) else None, args) for i in range(args.seats + 1)]
        late = seats.pop()
        say(f"{len(seats)} seats ({len(links)} in network namespaces of their own), each a clock of its own")
        for seat in seats:
            seat.start()
        listener.wait_for(lambda ears: all(s.name in ears.statuses for s in seats), timeout=60, message="every seat in the room")
        control = free_port()
        conductor = subprocess.Popen([PYTHON, "-m", "vrplayer", "conductor", "--room", broker.url(ROOM), "--control",
                                      f"127.0.0.1:{control}", "--start-delay", "3", str(film)], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=open(folder / "conductor.log", "w"))
        wait_position(control, 3.0)
        say("pause, play, seek; a seat joins late")
        api(control, "pause")
        time.sleep(2.0)
        api(control, "play")
        wait_position(control, 5.0)
        api(control, "seek", position=1.0)
        time.sleep(3.0)
        late.start()
        if conductor.wait(timeout=args.seconds * 3 + 60) != 0:
            raise SystemExit(f"room-bench: the conductor failed: {(folder / 'conductor.log').read_text()[-800:]}")
        time.sleep(0.5)
        seats.append(late)
        return figures(listener.cues, seats, late, folder, args, dict(listener.statuses))
    finally:
        for seat in seats:
            seat.stop()
        if conductor is not None and conductor.poll() is None:
            conductor.kill()
        if listener is not None:
            listener.close()
        broker.stop()
        for link in links:
            link.__exit__()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            say(f"kept {folder}")


def figures(cues: list[dict], seats: list[Seat], late: Seat, folder: Path, args, statuses: dict) -> dict:
    per_seat, shown_by = {}, {}
    for seat in seats:
        found = [e for e in frame_errors(cues, pictures(seat.timing, seat.offset)) if e[2] is not None]
        if not found:
            raise SystemExit(f"room-bench: {seat.name} showed nothing: {seat.log.read_text()[-800:]}")
        if seat is late:  # from the moment it is in step: its first frames are its joining
            start = next((i for i in range(len(found)) if all(abs(e[2]) <= STEP for e in found[i:i + 30])), len(found))
            joined = next(wall_seconds(line) for line in seat.log.read_text().splitlines() if "joined the broker" in line)
            mono_now, wall_now = time.monotonic(), time.time()
            joined_mono = joined - wall_now + mono_now
            late_figures = {"seat": seat.name, "in_step_s_after_joining": round(found[start][0] - joined_mono, 3) if start < len(found) else None,
                            "first_frame_s_after_joining": round(found[0][0] - joined_mono, 3)}
            found = found[start:]
        errors = [abs(e[2]) for e in found]
        per_seat[seat.name] = {"frames": len(found), "median_ms": round(1000 * percentile(errors, 0.5), 2),
                               "p99_ms": round(1000 * percentile(errors, 0.99), 2), "max_ms": round(1000 * max(errors), 2),
                               "clock_offset_s": seat.offset, "netns": seat.link is not None}
        estimate = statuses.get(seat.name, {}).get("offset_ms")  # its last word on the conductor's clock − its own
        if estimate is not None:
            per_seat[seat.name]["clock_estimate_error_ms"] = round(estimate + 1000 * seat.offset, 3)
            per_seat[seat.name]["clock_round_trip_ms"] = statuses[seat.name].get("rtt_ms")
        shown_by[seat.name] = {(e[3], round(e[1], 4)): e for e in found}
    pairs = []
    for a, b in itertools.combinations(shown_by, 2):
        both = shown_by[a].keys() & shown_by[b].keys()
        differences = [abs(shown_by[a][k][2] - shown_by[b][k][2]) for k in both]
        if differences:
            pairs.append({"pair": f"{a}-{b}", "frames": len(differences), "median_ms": round(1000 * percentile(differences, 0.5), 2),
                          "p99_ms": round(1000 * percentile(differences, 0.99), 2)})
    worst = max(pairs, key=lambda p: p["p99_ms"])
    # A command's start: each seat's first frame of a playing cue; and when each seat received it (its log line).
    spreads, arrivals = [], []
    for cue in cues:
        if not cue["playing"] or not cue["film"]:
            continue
        firsts = [min(e[0] for e in shown_by[s].values() if e[3] == cue["number"]) for s in shown_by
                  if any(e[3] == cue["number"] for e in shown_by[s].values()) and s != late.name]
        heard = []
        for seat in seats:
            if seat is late:
                continue
            line = next((l for l in seat.log.read_text().splitlines() if f"cue {cue['number']}:" in l), None)
            if line is not None:
                heard.append(wall_seconds(line))
        if len(firsts) > 1:
            spreads.append({"cue": cue["number"], "position": cue["position"], "start_spread_ms": round(1000 * (max(firsts) - min(firsts)), 2),
                            "arrival_spread_ms": round(1000 * (max(heard) - min(heard)), 1) if len(heard) > 1 else None})
            if len(heard) > 1:
                arrivals.append(max(heard) - min(heard))
    worst_spread = max(s["start_spread_ms"] for s in spreads)
    worst_arrival = 1000 * max(arrivals) if arrivals else None
    return {
        "seats": per_seat, "pairs": sorted(pairs, key=lambda p: -p["p99_ms"])[:5], "worst_pair": worst,
        "commands": spreads, "late_joiner": late_figures,
        "summary": {
            "seats": len(seats), "netns_seats": sum(1 for s in seats if s.link), "fps": args.fps,
            "link_delay_ms": f"{args.delay:g}–{3 * args.delay:g} + jitter {args.jitter:g}",
            "worst_pair_median_ms": worst["median_ms"], "worst_pair_p99_ms": worst["p99_ms"],
            "worst_start_spread_ms": worst_spread, "worst_arrival_spread_ms": round(worst_arrival, 1) if worst_arrival else None,
            "start_spread_vs_arrival_spread": round(worst_spread / worst_arrival, 3) if worst_arrival else None,
            "late_joiner_in_step_s": late_figures["in_step_s_after_joining"],
            "goals": {"pair_median_le_2ms": worst["median_ms"] <= 2.0, "pair_p99_le_11ms": worst["p99_ms"] <= 11.0,
                      "late_joiner_le_2s": (late_figures["in_step_s_after_joining"] or 99) <= 2.0,
                      "start_spread_le_11ms": worst_spread <= 11.0},
            "load_average": round(os.getloadavg()[0], 2),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="See the module's docstring for what is measured.")
    parser.add_argument("--seats", type=int, default=8, help="seats in the room, besides the late joiner (default 8)")
    parser.add_argument("--netns", type=int, default=4, help="how many of them sit in network namespaces of their own (default 4)")
    parser.add_argument("--seconds", type=float, default=16.0, help="the film's length (default 16)")
    parser.add_argument("--fps", type=int, default=30, help="the film's frame rate (default 30)")
    parser.add_argument("--size", default="160x90", help="each seat's offscreen picture (default 160x90)")
    parser.add_argument("--delay", type=float, default=2.0, help="ms each way on a seat's link, times 1–3 by seat (default 2)")
    parser.add_argument("--jitter", type=float, default=8.0, help="ms of random jitter on each chunk, each way (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and timing logs")
    args = parser.parse_args()
    args.netns = min(args.netns, args.seats + 1)
    result = run(args)
    for seat, row in result["seats"].items():
        print(json.dumps({"seat": seat, **row}))
    print(json.dumps({"summary": result["summary"], "worst_pair": result["worst_pair"], "late_joiner": result["late_joiner"],
                      "commands": result["commands"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
