"""Sound through a real audio server (PulseAudio null sink), recorded back from its monitor, and sync measured:
each once-a-second white flash against its beep."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from conftest import LATE_ATTEMPTS, ROOT, VRPLAYER, sound_was_late, timing_pictures

RATE = 48000


class MonitorRecorder:
    """Records the sink's monitor with parec, noting when each chunk arrives, so that every recorded sample can be
    placed on the monotonic clock the player's timing log uses."""

    def __init__(self, env):
        self._proc = subprocess.Popen(
            ["parec", "--device=vsink.monitor", "--format=float32le", f"--rate={RATE}", "--channels=2",
             "--latency-msec=5", "--raw"],
            stdout=subprocess.PIPE, env=env,
        )
        self._chunks: list[bytes] = []
        self._arrivals: list[tuple[int, float]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        total = 0
        while True:
            data = self._proc.stdout.read1(65536)
            arrived = time.monotonic()
            if not data:
                return
            self._chunks.append(data)
            total += len(data) // 8
            self._arrivals.append((total, arrived))

    def stop(self):
        self._proc.terminate()
        self._proc.wait(timeout=5)
        self._thread.join(timeout=5)
        samples = np.frombuffer(b"".join(self._chunks), np.float32).reshape(-1, 2)
        arrivals = np.array(self._arrivals)
        # A chunk can only arrive after its last sample was played: the earliest arrival, less the chunk's length,
        # marks the monotonic time of sample 0 (to within the 5 ms the recorder asked for).
        time_of_sample0 = float(np.min(arrivals[:, 1] - arrivals[:, 0] / RATE))
        return samples, time_of_sample0


def beep_onsets(channel: np.ndarray) -> list[int]:
    loud = np.abs(channel) > 0.1
    rising = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    onsets: list[int] = []
    for index in rising:
        if not onsets or index - onsets[-1] > RATE // 2:
            onsets.append(int(index))
    return onsets


def flash_offsets(pictures: list[dict], samples: np.ndarray, sample0_time: float) -> dict[int, float]:
    """For each whole second of the film from the first on, its flash (the first frame of the second, from a timing
    log's pictures) against the beep heard nearest to it in a MonitorRecorder's recording: beep − flash, seconds."""
    beeps = [sample0_time + onset / RATE for onset in beep_onsets(samples[:, 0])]
    flashes: dict[int, float] = {}
    for entry in pictures:
        second = int(entry["pts"] + 1e-6)
        if second >= 1 and entry["pts"] - second < 1e-3 and second not in flashes:
            flashes[second] = entry["shown"]
    return {second: min(beeps, key=lambda b: abs(b - t)) - t for second, t in flashes.items()} if beeps else {}


def test_sound_plays_and_flashes_meet_their_beeps(pulse, sample_film, tmp_path):
    env = dict(os.environ, **pulse.env)
    timing = tmp_path / "timing.jsonl"
    for _ in range(LATE_ATTEMPTS):  # (played again while the player reports its sound late: see sound_was_late)
        recorder = MonitorRecorder(env)
        time.sleep(0.4)  # the first ~50 ms of a monitor recording are lost: start early
        result = subprocess.run(
            [*VRPLAYER, "play", str(sample_film), "--display", "offscreen", "--size", "640x360", "--duration", "7.5",
             "--timing-log", str(timing)],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        time.sleep(0.3)
        samples, sample0_time = recorder.stop()
        if not sound_was_late(result.stderr):
            break
    assert result.returncode == 0, result.stderr
    assert "audio clock" in result.stderr and "WARNING" not in result.stderr

    # The first ~10–50 ms of a new stream do not reach the monitor, and the film's first beep is at 0 s, so its
    # onset is cut: measure from the second beep on.
    onsets = beep_onsets(samples[:, 0])[1:]
    assert len(onsets) >= 6, f"only {len(onsets)} beeps recorded"
    # What came out is the film's sound: beeps one second apart, at the film's level, on both channels.
    spacing = np.diff(onsets) / RATE
    assert np.all(np.abs(spacing - 1.0) < 0.005), spacing
    beep = samples[onsets[1] + 480 : onsets[1] + 4320]
    assert 0.45 < np.abs(beep).max() < 0.55
    np.testing.assert_allclose(beep[:, 0], beep[:, 1], atol=1e-3)
    spectrum = np.abs(np.fft.rfft(beep[:, 0] * np.hanning(len(beep))))
    assert abs(np.argmax(spectrum) * RATE / len(beep) - 1000) < 20

    # Each flash (the first frame of a whole second) against the beep heard nearest to it.
    shown = timing_pictures(timing)
    flashes = {}
    for entry in shown:
        second = int(entry["pts"] + 1e-6)
        if second >= 1 and entry["pts"] - second < 1e-3 and second not in flashes:
            flashes[second] = entry["shown"]
    beep_times = [sample0_time + onset / RATE for onset in onsets]
    offsets = [min(beep_times, key=lambda b: abs(b - t)) - t for t in flashes.values()]
    offsets_ms = [round(o * 1000, 1) for o in offsets]
    print(f"beep − flash per second (ms): {offsets_ms}")
    assert len(offsets) >= 5, f"flashes seen at seconds {sorted(flashes)}"
    # The median says whether sound and picture agree; on a shared machine a picture now and then goes out late
    # (its presenting stalled), so most, not all, of the flashes must meet their beeps.
    within = [abs(o) <= 0.020 for o in offsets]
    assert abs(float(np.median(offsets))) <= 0.020 and sum(within) >= 0.5 * len(within), offsets_ms


def test_volume_scales_what_is_heard(pulse, sample_film):
    env = dict(os.environ, **pulse.env)
    recorder = MonitorRecorder(env)
    time.sleep(0.3)
    result = subprocess.run(
        [*VRPLAYER, "play", str(sample_film), "--display", "offscreen", "--size", "160x90", "--duration", "2.6",
         "--volume", "0.5"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    samples, _ = recorder.stop()
    assert result.returncode == 0, result.stderr
    onsets = beep_onsets(samples[:, 0])[1:]
    assert onsets, "no beep recorded"
    beep = samples[onsets[0] + 480 : onsets[0] + 4320]
    assert 0.22 < np.abs(beep).max() < 0.28  # the film's beeps peak at 0.5


def test_film_without_sound_plays_on_the_wall_clock(pulse, make_film, tmp_path):
    film = make_film("silent.mp4", width=640, height=320, seconds=2.0, audio=False)
    timing = tmp_path / "timing.jsonl"
    result = subprocess.run(
        [*VRPLAYER, "play", str(film), "--display", "offscreen", "--size", "160x90", "--timing-log", str(timing)],
        env=dict(os.environ, **pulse.env), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no sound: playing on the wall clock" in result.stderr and "WARNING" not in result.stderr
    shown = timing_pictures(timing)
    elapsed = shown[-1]["shown"] - shown[0]["shown"]
    assert shown[-1]["pts"] == pytest.approx(59 / 30, abs=1e-3)
    assert abs(elapsed - shown[-1]["pts"]) < 0.1  # paced by the wall clock, not as fast as it decodes


def test_each_gap_the_sound_server_plays_counts_as_a_late_block(pulse):
    """A sound server held up (stopped here, as a starved one would be) plays silence it was not told to; PortAudio
    flags some such gaps as underflows, not all. The output also sees each in the blocks' DAC times (the next
    block is heard later than the one before it ended), so every gap is counted."""
    script = f"""
import os, signal, time
from vrplayer.audio.output import open_output
out = open_output()
out.start(lambda block, latency, now: block.fill(0.2))
time.sleep(1.0)
for _ in range(3):
    os.kill({pulse.proc.pid}, signal.SIGSTOP)
    time.sleep(0.06)
    os.kill({pulse.proc.pid}, signal.SIGCONT)
    time.sleep(0.5)
out.close()
print(out.xruns)
"""
    try:
        result = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, **pulse.env), cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
    finally:
        os.kill(pulse.proc.pid, signal.SIGCONT)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) >= 3, result.stdout
