#!/usr/bin/env python3
"""The staff API under a crowd of phones and slow clients: a real kiosk, on 127.0.0.1 only.

Starts `vrplayer kiosk --display offscreen --no-audio --no-supervisor --control 127.0.0.1:PORT` on a small film it
makes, then runs three phases against it:

  burst   --burst concurrent GET /api/status, from 127.0.0.2 (a staff phone is another host), nothing else going on;
  flood   --slow clients from 127.0.0.3, each trickling a request a byte a second (they never finish it), and once
          they hold on, the same burst of status requests from 127.0.0.2;
  after   the slow clients gone: one status request, and the worker's threads back where they started.

For each burst: requests answered (200), refused (503), failed (no answer), median and worst latency. For the slow
clients: refused at once (503), cut off by the server and after how long at most, still open when the trickle ended.
The worker's thread count (from /proc) before, at most during, and after. Nothing is asserted; the figures are
printed as a table, then as JSON (the last line, or --json OUT).

Bounded: at most 1000 slow clients and 1000 status requests, and every phase has its own time limit; the kiosk is
started with --duration, so it ends by itself even if this script is killed. Only loopback addresses are used.

    .venv/bin/python bench/flood_bench.py [--slow 300] [--burst 200] [--trickle-seconds 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "sample_media"))

from vrplayer.kiosk import control  # noqa: E402

HOST = "127.0.0.1"
PHONES = "127.0.0.2"  # where the status requests come from
SLOW = "127.0.0.3"  # where the slow clients come from
LIMIT = 1000  # slow clients or status requests, at most
TRICKLE = b"GET /api/status HTTP/1.0\r\nX-Pad: " + b"a" * 4000  # a byte a second: over an hour of request


def progress(text: str) -> None:
    print(f"[flood] {text}", file=sys.stderr, flush=True)


def threads_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def status_request(port: int, timeout: float) -> tuple[str, float]:
    """("200" / "503" / "failed: WHY", seconds) of one GET /api/status on a new connection."""
    started = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=(PHONES, 0))
    try:
        connection.request("GET", "/api/status")
        response = connection.getresponse()
        response.read()
        outcome = str(response.status)
    except (OSError, http.client.HTTPException) as exc:
        outcome = f"failed: {type(exc).__name__}"
    finally:
        connection.close()
    return outcome, time.monotonic() - started


def burst(port: int, count: int, timeout: float) -> dict:
    """`count` status requests at once (they wait at a barrier, then all connect together)."""
    barrier = threading.Barrier(count)

    def one(_):
        barrier.wait(timeout=30)
        return status_request(port, timeout)

    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(one, range(count)))
    latencies = sorted(seconds for _, seconds in results)
    outcomes = [outcome for outcome, _ in results]
    answered = [seconds for outcome, seconds in results if outcome == "200"]
    return {
        "requests": count,
        "answered": len(answered),
        "refused_503": outcomes.count("503"),
        "failed": sum(outcome.startswith("failed") for outcome in outcomes),
        "other": sorted({o for o in outcomes if o not in ("200", "503") and not o.startswith("failed")}),
        "median_ms": round(1000 * statistics.median(latencies), 1),
        "worst_ms": round(1000 * latencies[-1], 1),
        "median_answered_ms": round(1000 * statistics.median(answered), 1) if answered else None,
    }


class SlowClients:
    """`count` connections that each send a byte a second of a request that never ends; notes what the server did."""

    def __init__(self, port: int, count: int):
        self.opened = time.monotonic()
        self.sockets: dict[socket.socket, float] = {}
        self.refused = self.cut_off = self.not_connected = 0
        self.longest_held = 0.0
        for _ in range(count):
            sock = socket.socket()
            sock.settimeout(5)
            try:
                sock.bind((SLOW, 0))
                sock.connect((HOST, port))
            except OSError:
                self.not_connected += 1
                sock.close()
                continue
            sock.setblocking(False)
            self.sockets[sock] = time.monotonic()

    def trickle(self, sent: int) -> None:
        """One more byte on every connection still open; note the ones the server answered or closed."""
        byte = TRICKLE[sent % len(TRICKLE):][:1]
        for sock, since in list(self.sockets.items()):
            ended = None
            try:
                answer = sock.recv(4096)
                ended = "refused" if answer.startswith(b"HTTP/1.0 503") else "cut off"
            except BlockingIOError:
                try:
                    sock.send(byte)
                except OSError:
                    ended = "cut off"
            except OSError:
                ended = "cut off"
            if ended is not None:
                held = time.monotonic() - since
                if ended == "refused" and held < 1.5:  # answered on its first look: never held a thread
                    self.refused += 1
                else:
                    self.cut_off += 1
                    self.longest_held = max(self.longest_held, held)
                sock.close()
                del self.sockets[sock]

    def close(self) -> int:
        still = len(self.sockets)
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()
        return still


def make_film(folder: Path) -> Path:
    import make_sample

    path = folder / "flood.mp4"
    make_sample.make_film(str(path), width=320, height=160, seconds=5.0, audio=False)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description="Flood a real kiosk's staff API on 127.0.0.1 with slow clients and "
                                                 "concurrent status requests; print what it answered and its threads.")
    parser.add_argument("--slow", type=int, default=300, metavar="N", help=f"slow clients (default 300, at most {LIMIT})")
    parser.add_argument("--burst", type=int, default=200, metavar="M", help=f"concurrent status requests per burst (default 200, at most {LIMIT})")
    parser.add_argument("--trickle-seconds", type=float, default=15.0, metavar="S", help="how long the slow clients trickle (default 15, at most 120)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="a status request's own time limit (default 10)")
    parser.add_argument("--json", metavar="OUT", help="also write the figures here")
    args = parser.parse_args()
    if not (0 <= args.slow <= LIMIT and 1 <= args.burst <= LIMIT and 0 < args.trickle_seconds <= 120):
        parser.error(f"--slow 0–{LIMIT}, --burst 1–{LIMIT}, --trickle-seconds up to 120")

    with tempfile.TemporaryDirectory(prefix="flood-bench-") as tmp:
        folder = Path(tmp)
        film = make_film(folder)
        programme = folder / "prog.toml"
        programme.write_text(f'start_trigger = "auto"\n[[items]]\nfile = {json.dumps(str(film))}\n')
        port = free_port()
        lifetime = 60 + 2 * args.trickle_seconds + 3 * args.timeout
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "vrplayer", "-q", "kiosk", str(programme), "--display", "offscreen", "--size", "320x180",
             "--no-audio", "--no-supervisor", "--log-dir", str(folder / "log"), "--control", f"{HOST}:{port}",
             "--duration", str(lifetime)], cwd=ROOT, stderr=subprocess.DEVNULL,
        )
        try:
            figures = run(kiosk, port, args)
        finally:
            kiosk.terminate()
            try:
                kiosk.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kiosk.kill()
                kiosk.wait()
    report(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    return 0


def run(kiosk: subprocess.Popen, port: int, args) -> dict:
    deadline = time.monotonic() + 60
    while status_request(port, 2)[0] != "200":
        if kiosk.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("flood_bench: the kiosk did not start (run it by hand to see why)")
        time.sleep(0.2)
    time.sleep(1.0)  # the first film under way: the thread count settles
    figures = {
        "server": {"request_deadline_s": control.REQUEST_DEADLINE, "max_connections": control.MAX_CONNECTIONS,
                   "max_per_client": control.MAX_PER_CLIENT, "backlog": control.BACKLOG},
        "threads_before": threads_of(kiosk.pid),
    }
    progress(f"kiosk pid {kiosk.pid} on {HOST}:{port}, {figures['threads_before']} threads; burst of {args.burst}")
    figures["burst"] = burst(port, args.burst, args.timeout)

    progress(f"{args.slow} slow clients")
    peak = [threads_of(kiosk.pid) or 0]
    sampling = threading.Event()

    def sample():
        while not sampling.wait(0.1):
            peak[0] = max(peak[0], threads_of(kiosk.pid) or 0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    slow = SlowClients(port, args.slow)
    during: dict = {}
    flood_burst = threading.Thread(target=lambda: during.update(burst(port, args.burst, args.timeout)), daemon=True)
    sent, started = 0, time.monotonic()
    while time.monotonic() - started < args.trickle_seconds and (slow.sockets or flood_burst.is_alive()):
        slow.trickle(sent)
        sent += 1
        if sent == 3:  # the slow clients have held on for two seconds
            progress(f"burst of {args.burst} under the flood")
            flood_burst.start()
        time.sleep(1.0)
    if sent < 3:
        flood_burst.start()
    flood_burst.join(timeout=3 * args.timeout + 30)
    figures["flood"] = {
        "slow_clients": args.slow, "slow_not_connected": slow.not_connected, "slow_refused_503": slow.refused,
        "slow_cut_off": slow.cut_off, "slow_longest_held_s": round(slow.longest_held, 1),
        "slow_still_open": slow.close(), "burst": during,
    }
    sampling.set()
    sampler.join()
    figures["threads_during_max"] = peak[0]

    progress("after the flood")
    settle = time.monotonic() + 15
    while time.monotonic() < settle and (threads_of(kiosk.pid) or 0) > figures["threads_before"] + 1:
        time.sleep(0.2)
    figures["after"] = dict(zip(("status", "seconds"), status_request(port, args.timeout)))
    figures["after"]["seconds"] = round(figures["after"]["seconds"], 3)
    figures["threads_after"] = threads_of(kiosk.pid)
    return figures


def report(f: dict) -> None:
    server = f["server"]
    print(f"server: whole request within {server['request_deadline_s']:g} s, {server['max_connections']} connections "
          f"({server['max_per_client']} per address), backlog {server['backlog']}")

    def line(name: str, b: dict) -> None:
        print(f"{name:<22} {b['requests']:>4} requests: {b['answered']:>4} answered, {b['refused_503']:>4} refused (503), "
              f"{b['failed']:>4} failed; latency median {b['median_ms']:.1f} ms, worst {b['worst_ms']:.1f} ms")

    line("burst alone", f["burst"])
    flood = f["flood"]
    if flood["burst"]:
        line("burst under the flood", flood["burst"])
    print(f"slow clients: {flood['slow_clients']}: {flood['slow_refused_503']} refused at once (503), "
          f"{flood['slow_cut_off']} cut off by the server (held {flood['slow_longest_held_s']:.1f} s at most), "
          f"{flood['slow_still_open']} still open at the end, {flood['slow_not_connected']} could not connect")
    print(f"after: status {f['after']['status']} in {1000 * f['after']['seconds']:.1f} ms")
    print(f"worker threads: {f['threads_before']} before, {f['threads_during_max']} at most during, {f['threads_after']} after")


if __name__ == "__main__":
    sys.exit(main())
