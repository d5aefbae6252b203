"""The creator's timeline and shuttle: timecode arithmetic; the sound time-stretched at its own pitch (real PyAV
decoding through FFmpeg's atempo); in a real window (Xvfb), clicks and drags on the bar land on the exact frame,
Home / End, and J / K / L move the audio clock at the asked speeds (from the timing log, with the sound recorded
back from a PulseAudio null sink)."""

from __future__ import annotations

import math
import os
import subprocess
import time

import numpy as np
import pytest

from conftest import LATE_ATTEMPTS, ROOT, VRPLAYER, sound_was_late, timing_pictures
from test_audio import RATE, MonitorRecorder
from test_desktop import find_window, press_quit, focus, wait_for_pictures, xdotool
from vrplayer.creator.timecode import frame_at, time_at, timecode, x_of
from vrplayer.creator.timeline import BAR_HEIGHT, MARGIN
from vrplayer.media.audio import AudioDecoder
from vrplayer.media.timestretch import atempo_chain

WINDOW = (640, 360)
BAR_Y = WINDOW[1] - MARGIN - BAR_HEIGHT // 2  # the bar's middle row
BAR_LEFT, BAR_WIDTH = MARGIN, WINDOW[0] - 2 * MARGIN


def test_timecode_counts_whole_frames_at_the_films_own_rate():
    assert timecode(0.0, 30) == "00:00:00:00"
    assert timecode(1 / 30 * 29, 30) == "00:00:00:29"
    assert timecode(1.0, 30) == "00:00:01:00"
    assert timecode(3723.5, 24) == "01:02:03:12"
    assert timecode(10.0, 30000 / 1001) == "00:00:09:29"  # 29.97: frame 299 of a 30-a-second count
    assert frame_at(0.1 - 1e-9, 10) == 1  # a rounding hair under a frame's start is that frame
    # The bar: the time under a column is a frame's start, from 0 to the last frame's; and back.
    assert time_at(BAR_LEFT, BAR_LEFT, BAR_WIDTH, 20.0, 1 / 30) == 0.0
    assert time_at(BAR_LEFT + BAR_WIDTH + 50, BAR_LEFT, BAR_WIDTH, 20.0, 1 / 30) == pytest.approx(20.0 - 1 / 30)
    middle = time_at(BAR_LEFT + BAR_WIDTH / 2, BAR_LEFT, BAR_WIDTH, 20.0, 1 / 30)
    assert middle == pytest.approx(10.0) and x_of(middle, BAR_LEFT, BAR_WIDTH, 20.0) == pytest.approx(320.0)
    assert math.prod(atempo_chain(4.0)) == pytest.approx(4.0) and max(atempo_chain(4.0)) <= 2.0


def _onsets(channel: np.ndarray, rate: int, gap: float = 0.1) -> list[float]:
    loud = np.abs(channel) > 0.1
    rising = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    onsets: list[int] = []
    for index in rising:
        if not onsets or index - onsets[-1] > gap * rate:
            onsets.append(int(index))
    return [index / rate for index in onsets]


@pytest.mark.parametrize("speed", [2.0, 4.0])
def test_the_sound_plays_faster_at_its_own_pitch(make_film, speed):
    film = make_film("shuttle_sound.mp4", width=320, height=160, seconds=8.0)  # a 1 kHz beep each second
    decoder = AudioDecoder(str(film), 48000, 2)
    try:
        decoder.seek(1.0, speed)
        blocks, block = [], np.zeros((4096, 2), np.float32)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            count = decoder.ring.read_into(block, 1.0)
            if count:
                blocks.append(block[:count].copy())
            elif decoder.ring.finished:
                break
            else:
                time.sleep(0.002)
        sound = np.concatenate(blocks)[:, 0]
        assert decoder.ring.pts_at(48000) == pytest.approx(1.0 + speed)  # a second of sound is `speed` of film
    finally:
        decoder.close()
    assert len(sound) / 48000 == pytest.approx(7.0 / speed, abs=0.05)  # 7 s of film from 1 s on
    onsets = _onsets(sound, 48000)
    assert len(onsets) == 7
    # The beeps come `speed` times as often (within the stretcher's window), each still a 1 kHz tone.
    assert np.abs(np.diff(onsets) - 1.0 / speed).max() < 0.03, np.diff(onsets)
    start = int((onsets[2] + 0.005) * 48000)
    beep = sound[start:start + int(0.1 / speed * 48000) - 480]
    spectrum = np.abs(np.fft.rfft(beep * np.hanning(len(beep)), n=48000))
    assert abs(np.argmax(spectrum) - 1000) < 30


def _player(film, env, timing, *extra):
    return subprocess.Popen(
        [*VRPLAYER, "play", str(film), "--display", "desktop", "--size", f"{WINDOW[0]}x{WINDOW[1]}", "--duration", "40",
         "--timing-log", str(timing), *extra],
        env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)


def _finish(proc, xvfb, window) -> str:
    if proc.poll() is None:
        press_quit(xvfb, window)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def _shown(timing) -> list[dict]:
    return timing_pictures(timing)


def test_clicks_and_drags_on_the_bar_land_on_the_exact_frame(xvfb, make_film, tmp_path):
    film = make_film("timeline.mp4", width=512, height=256, seconds=20.0, audio=False)
    timing = tmp_path / "timing.jsonl"
    proc = _player(film, {"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, timing, "--no-audio")
    window = find_window(xvfb)
    err = ""
    try:
        wait_for_pictures(timing, 5)
        focus(xvfb, window)
        xdotool(xvfb, "key", "--window", window, "space")  # paused: each seek's frame stays on screen
        time.sleep(0.5)
        landed = []
        for x in (100, 431, 250):
            xdotool(xvfb, "mousemove", "--window", window, str(x), str(BAR_Y), "click", "1")
            time.sleep(0.8)
            landed.append((x, _shown(timing)[-1]["pts"]))
        # Drag along the bar: the picture follows, and stays where the button is let go.
        xdotool(xvfb, "mousemove", "--window", window, "500", str(BAR_Y), "mousedown", "1")
        for x in range(480, 150, -30):
            xdotool(xvfb, "mousemove", "--window", window, str(x), str(BAR_Y))
            time.sleep(0.05)
        xdotool(xvfb, "mousemove", "--window", window, "165", str(BAR_Y), "mouseup", "1")
        time.sleep(0.8)
        landed.append((165, _shown(timing)[-1]["pts"]))
        xdotool(xvfb, "key", "--window", window, "End")
        time.sleep(0.8)
        end = _shown(timing)[-1]["pts"]
        xdotool(xvfb, "key", "--window", window, "Home")
        time.sleep(0.8)
        home = _shown(timing)[-1]["pts"]
    finally:
        err = _finish(proc, xvfb, window)
    assert proc.returncode == 0, err
    for x, pts in landed:
        assert pts == pytest.approx(time_at(x, BAR_LEFT, BAR_WIDTH, 20.0, 1 / 30), abs=1e-3), (x, pts, err)
    assert end == pytest.approx(20.0 - 1 / 30, abs=1e-3) and home == 0.0


def test_j_k_l_shuttle_moves_the_audio_clock_at_the_asked_speeds(xvfb, pulse, make_film, tmp_path):
    film = make_film("shuttle.mp4", width=512, height=256, seconds=30.0)
    timing = tmp_path / "timing.jsonl"
    env = dict(os.environ, DISPLAY=xvfb, **pulse.env)
    for _ in range(LATE_ATTEMPTS):  # (played again while the player reports its sound late: see sound_was_late)
        recorder = MonitorRecorder(env)
        proc = _player(film, env, timing)
        window = find_window(xvfb)
        marks = {}
        try:
            wait_for_pictures(timing, 20)
            focus(xvfb, window)
            for name, key, wait in (("2x", "l", 3.0), ("4x", "l", 2.5), ("paused", "k", 1.0), ("1x", "l", 2.0)):
                marks[name] = time.monotonic()
                xdotool(xvfb, "key", "--window", window, key)
                time.sleep(wait)
        finally:
            err = _finish(proc, xvfb, window)
            samples, sample0_time = recorder.stop()
        if not sound_was_late(err):
            break
    assert "audio clock" in err, err
    shown = _shown(timing)

    def slope(start: float, end: float) -> float:
        picked = [(e["shown"], e["pts"]) for e in shown if start <= e["shown"] <= end]
        assert len(picked) >= 5, f"only {len(picked)} pictures between {start:.2f} and {end:.2f}"
        t, pts = np.array(picked).T
        return float(np.polyfit(t, pts, 1)[0])

    assert slope(marks["2x"] + 0.8, marks["2x"] + 2.8) == pytest.approx(2.0, rel=0.15)
    assert slope(marks["4x"] + 0.8, marks["4x"] + 2.3) == pytest.approx(4.0, rel=0.15)
    held = [e["pts"] for e in shown if marks["paused"] + 0.3 <= e["shown"] <= marks["1x"]]
    assert len(set(held)) <= 1  # K: the picture stays
    assert slope(marks["1x"] + 0.6, marks["1x"] + 1.9) == pytest.approx(1.0, rel=0.15)
    # What was heard at 2×: the beeps twice as often, still 1 kHz.
    start = int((marks["2x"] + 0.8 - sample0_time) * RATE)
    heard = samples[start:start + int(2.0 * RATE), 0]
    onsets = [t for t in _onsets(heard, RATE) if t > 0.1]  # (a beep the window starts in is no onset)
    assert len(onsets) >= 3 and np.abs(np.diff(onsets) - 0.5).max() < 0.04, np.diff(onsets)
    beep = heard[int((onsets[1] + 0.005) * RATE):int((onsets[1] + 0.045) * RATE)]
    spectrum = np.abs(np.fft.rfft(beep * np.hanning(len(beep)), n=RATE))
    assert abs(np.argmax(spectrum) - 1000) < 40
