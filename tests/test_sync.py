"""Clocks, frame scheduling and the sample ring (pure logic, no devices)."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from vrplayer.audio.mixer import Mixer
from vrplayer.media.ring import SampleRing
from vrplayer.sync import AudioClock, FrameScheduler, WallClock

END = object()


class FakeTime:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def scheduler_over(pts_list):
    items = [SimpleNamespace(pts=p) for p in pts_list] + [END]
    return FrameScheduler(lambda: items.pop(0) if items else None, lambda item: item is END)


def test_frames_shown_when_due_and_late_ones_dropped():
    sched = scheduler_over([0.0, 0.04, 0.08, 0.12, 0.16])
    assert sched.pick(0.0).pts == 0.0
    assert sched.pick(0.02) is None  # the next frame is not due yet
    assert sched.next_due() == pytest.approx(0.04)
    assert sched.pick(0.13).pts == 0.12  # 0.04 and 0.08 were overtaken: dropped
    assert sched.dropped == 2
    assert sched.pick(1.0).pts == 0.16
    assert sched.pick(2.0) is None and sched.ended
    assert sched.shown == 3


def test_take_next_steps_one_frame_even_when_not_due():
    sched = scheduler_over([0.0, 0.04, 0.08])
    sched.pick(0.0)
    assert sched.take_next().pts == 0.04
    assert sched.take_next().pts == 0.08
    assert sched.take_next() is None and sched.ended


def test_wall_clock_pause_resume_reset():
    now = FakeTime()
    clock = WallClock(monotonic=now)
    clock.reset(5.0)
    assert clock.paused and clock.now() == 5.0
    clock.resume()
    now.t += 1.5
    assert clock.now() == pytest.approx(6.5)
    clock.pause()
    now.t += 10
    assert clock.now() == pytest.approx(6.5)
    clock.resume()
    now.t += 0.5
    assert clock.now() == pytest.approx(7.0)


def test_ring_wraps_and_keeps_order():
    ring = SampleRing(100, 2)
    ring.reset(2.0, 1000, generation=1)
    stop = threading.Event()
    out = np.zeros((30, 2), np.float32)
    produced = np.arange(500, dtype=np.float32).repeat(2).reshape(-1, 2)
    got = []
    pos = 0
    while pos < len(produced) or ring.available():
        if pos < len(produced):
            chunk = produced[pos : pos + 70]
            if ring.capacity - ring.available() >= len(chunk):
                assert ring.write(chunk, stop)
                pos += len(chunk)
        n = ring.read_into(out, 1.0)
        got.append(out[:n].copy())
    np.testing.assert_array_equal(np.concatenate(got), produced)
    assert ring.pts_at(ring.read_position) == pytest.approx(2.0 + 500 / 1000)


def test_audio_clock_follows_the_heard_sample_and_waits_on_underrun():
    now = FakeTime()
    ring = SampleRing(48000, 2)
    ring.reset(10.0, 48000, generation=3)
    ring.write(np.zeros((1024, 2), np.float32), threading.Event())
    mixer = Mixer(ring)
    clock = AudioClock(mixer, monotonic=now)
    clock.reset(10.0)
    mixer.restart(3)
    clock.resume()
    assert clock.now() == 10.0  # no sound handed to the device yet
    block = np.zeros((512, 2), np.float32)
    mixer.fill(block, latency=0.030, now=now())  # heard 30 ms from now
    assert clock.now() == pytest.approx(10.0)  # held: its first sample is not heard yet
    now.t += 0.040
    assert clock.now() == pytest.approx(10.010)
    mixer.fill(block, latency=0.030, now=now())
    mixer.fill(block, latency=0.030, now=now())  # only 0 frames left: underrun
    assert mixer.underruns == 1
    now.t += 1.0
    # Never ahead of the sound that reached the device (1024 samples from 10.0 s).
    assert clock.now() == pytest.approx(10.0 + 1024 / 48000)
    clock.pause()
    held = clock.now()
    now.t += 5
    assert clock.now() == held


def test_mixer_applies_gain_and_mute_and_stays_silent_for_other_generations():
    ring = SampleRing(1000, 2)
    ring.reset(0.0, 48000, generation=1)
    ring.write(np.full((300, 2), 0.5, np.float32), threading.Event())
    mixer = Mixer(ring, volume=0.5)
    block = np.ones((100, 2), np.float32)
    mixer.paused = False
    mixer.fill(block, 0.0, 0.0)
    assert not block.any()  # gate closed: the mixer waits for generation 1
    mixer.restart(1)
    mixer.fill(block, 0.0, 0.0)
    np.testing.assert_allclose(block, 0.25)
    mixer.muted = True
    mixer.fill(block, 0.0, 0.0)
    assert not block.any()
