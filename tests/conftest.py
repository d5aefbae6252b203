"""Shared test fixtures: our own test films, a real X server (Xvfb) and a real audio server (PulseAudio null sink).

Servers are started by the tests themselves, on private sockets, and stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sample_media"))

import make_sample  # noqa: E402

SAMPLE = ROOT / "sample_media" / "sample_360.mp4"
VRPLAYER = [sys.executable, "-m", "vrplayer"]


@pytest.fixture(scope="session")
def sample_film() -> Path:
    assert SAMPLE.exists(), "the bundled sample film is missing; run sample_media/make_sample.py"
    return SAMPLE


@pytest.fixture(scope="session")
def film_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("films")


@pytest.fixture(scope="session")
def make_film(film_dir):
    """make_film(name, **make_sample.make_film kwargs) → path, made once per session."""
    made: dict[str, Path] = {}

    def make(name: str, **kwargs) -> Path:
        if name not in made:
            path = film_dir / name
            make_sample.make_film(str(path), **kwargs)
            made[name] = path
        return made[name]

    return make


LATE_ATTEMPTS = 3  # plays of a measurement of sound the player itself reports was late (a busy machine)


def sound_was_late(stderr: str) -> bool:
    """Whether the player's closing line reports its sound late: the decoder behind (underruns) or the audio
    callback late (late blocks: the server played a gap). A sample-timed measurement of such a run measures the
    machine's load, not the player: the tests that make one play again, LATE_ATTEMPTS times at most."""
    import re

    found = re.findall(r"(\d+) audio underruns, (\d+) late audio blocks", stderr)
    return any(int(a) or int(b) for a, b in found)


def timing_pictures(timing) -> list[dict]:
    """The pictures a --timing-log names, in order (its lines for films that ended are left out)."""
    import json

    lines = timing.read_text().splitlines() if timing.exists() else []
    return [entry for entry in map(json.loads, lines) if "ended" not in entry]


def run_cli(*args, env=None, timeout=120, input=None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([*VRPLAYER, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT, input=input)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def xvfb():
    """A private X server; yields its DISPLAY value."""
    if not shutil.which("Xvfb"):
        pytest.fail("Xvfb is not installed: run scripts/setup.sh --test")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        _stop(proc)
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    _stop(proc)


class Pulse:
    def __init__(self, runtime: Path, proc: subprocess.Popen):
        self.runtime = runtime
        self.proc = proc
        self.clocking: subprocess.Popen | None = None  # the silent stream that keeps the null sink's clock fine
        self.env = {
            "PULSE_SERVER": f"unix:{runtime}/native",
            "XDG_RUNTIME_DIR": str(runtime),
            "HOME": str(runtime),
            "PULSE_SINK": "vsink",
        }


def start_pulse(runtime: Path | None = None) -> Pulse:
    """A private PulseAudio server with one float32 48 kHz null sink ("vsink") as the default sink; its monitor
    gives back what was played. Stop it with stop_pulse. `runtime`: its folder (and socket) — an earlier server's,
    to bring a sound server back where players look for it."""
    if not shutil.which("pulseaudio"):
        pytest.fail("PulseAudio is not installed: run scripts/setup.sh --test")
    runtime = runtime or Path(tempfile.mkdtemp(prefix="vrplayer-pulse-"))
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    env = dict(os.environ, HOME=str(runtime), XDG_RUNTIME_DIR=str(runtime))
    proc = subprocess.Popen(
        [
            "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disable-shm=yes",
            "-L", f"module-native-protocol-unix auth-anonymous=1 socket={runtime}/native",
            "-L", "module-null-sink sink_name=vsink format=float32le rate=48000 channels=2",
            "-L", "module-always-sink",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = Pulse(runtime, proc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ok = subprocess.run(["pactl", "info"], env=dict(env, **server.env), capture_output=True).returncode == 0
        if ok:
            break
        time.sleep(0.05)
    else:
        stop_pulse(server)
        pytest.fail("PulseAudio did not start")
    for command in (["pactl", "set-default-sink", "vsink"], ["pactl", "set-default-source", "vsink.monitor"]):
        subprocess.run(command, env=dict(env, **server.env), check=True, capture_output=True)
    # An idle null sink sleeps in 2-second blocks and only sees a new stream's latency when it next wakes: a player
    # starting then stalls for up to 2 s after its first block (and again after each underrun), which no sound card
    # does. A silent low-latency stream keeps it clocked in 10 ms blocks, as a card would be; it adds only zeros.
    server.clocking = subprocess.Popen(
        ["pacat", "--playback", "--device=vsink", "--format=float32le", "--rate=48000", "--channels=2",
         "--latency-msec=10", "--client-name=clock-keeper", "/dev/zero"],
        env=dict(env, **server.env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # The sink takes the new latency when its current 2-second block ends; suspending and resuming it re-times it now.
    pactl = lambda *args: subprocess.run(["pactl", *args], env=dict(env, **server.env), capture_output=True, text=True)
    deadline = time.monotonic() + 10
    while "clock-keeper" not in pactl("list", "sink-inputs").stdout:
        if time.monotonic() > deadline or server.clocking.poll() is not None:
            stop_pulse(server)
            pytest.fail("PulseAudio's null sink could not be kept clocked (pacat did not connect)")
        time.sleep(0.02)
    pactl("suspend-sink", "vsink", "1")
    pactl("suspend-sink", "vsink", "0")
    return server


def stop_pulse(server: Pulse) -> None:
    """Stop the server (by its PID) and remove its folder; safe to call twice."""
    if server.clocking is not None:
        _stop(server.clocking)
    _stop(server.proc)
    shutil.rmtree(server.runtime, ignore_errors=True)


@pytest.fixture(scope="session")
def pulse():
    """A PulseAudio server for the session (see start_pulse)."""
    server = start_pulse()
    yield server
    stop_pulse(server)
