"""The creator's desk in a real window (Xvfb): key V saves the view on screen as the film's opening view, which
the film then opens with (read back through snapshot's pixels); the audience (--heatmap) on the overview (its
heat-map laid flat, a box dragged and answered) and on the timeline (the attention strip), and the attention
figures behind them for synthetic audiences."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import numpy as np

from conftest import ROOT, VRPLAYER
from test_desktop import find_window, press_quit, focus, wait_for_pictures, window_picture, xdotool
from vrplayer.analytics.attention import attention, region_question, strip_picture
from vrplayer.analytics.trace import HeadTrace
from vrplayer.snapshot import read_png


def test_key_v_saves_the_view_on_screen_as_the_opening_view(xvfb, make_film, tmp_path):
    film = tmp_path / "cut.mp4"
    shutil.copy(make_film("desk_cut.mp4", width=512, height=256, seconds=20.0, audio=False), film)
    proc = subprocess.Popen(
        [*VRPLAYER, "play", str(film), "--display", "desktop", "--no-audio", "--size", "640x360", "--duration", "40",
         "--timing-log", str(tmp_path / "timing.jsonl")],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        window = find_window(xvfb)
        wait_for_pictures(tmp_path / "timing.jsonl", 5)
        focus(xvfb, window)
        xdotool(xvfb, "key", "--window", window, *["d"] * 6, *["w"] * 3)  # 30° right, 15° up
        time.sleep(0.5)
        xdotool(xvfb, "key", "--window", window, "v")
        time.sleep(0.5)
        press_quit(xvfb, window)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    manifest = json.loads((tmp_path / "cut.mp4.json").read_text())
    assert manifest["initial_view"] == {"yaw": 30.0, "pitch": 15.0, "roll": 0.0}, manifest
    assert "opening view of" in err
    # The film now opens there: a snapshot without a view is the one looking 30° right and 15° up.
    shots = {}
    for name, view in (("saved", []), ("given", ["--yaw", "30", "--pitch", "15"]), ("ahead", ["--yaw", "0", "--pitch", "0"])):
        out = tmp_path / f"{name}.png"
        done = subprocess.run([*VRPLAYER, "snapshot", str(film), "--at", "1", "--size", "320x180", *view, "-o", str(out)],
                              cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        shots[name] = read_png(str(out)).astype(int)
    assert np.array_equal(shots["saved"], shots["given"])
    assert np.abs(shots["saved"] - shots["ahead"]).mean() > 5


# -- the audience on the desk (--heatmap) -------------------------------------------------------------------------

def still_viewer(yaw: float, pitch: float, seconds: float = 20.0) -> HeadTrace:
    t = np.arange(0.0, seconds, 0.1)
    return HeadTrace(np.stack([t, np.full_like(t, yaw), np.full_like(t, pitch), np.zeros_like(t)], axis=1))


def test_attention_and_the_region_question_for_synthetic_audiences():
    ahead = [still_viewer(0.0, 0.0) for _ in range(6)]
    found = attention(ahead, 20.0, 10)
    assert np.all(found.share == 1.0) and np.allclose(found.spread_deg, 0.0, atol=1e-4) and np.all(found.viewers == 6)
    # The intended direction is the film's opening view, not its frame centre.
    assert np.all(attention(ahead, 20.0, 10, intended=(120.0, 0.0)).share == 0.0)
    # Half facing the opening view, half behind: half the time at it, spread 90° around the centroid... of nowhere.
    split = [still_viewer(0.0, 0.0) for _ in range(3)] + [still_viewer(180.0, 0.0) for _ in range(3)]
    assert np.all(attention(split, 20.0, 4).share == 0.5)
    # Fewer viewers than the floor: the strip says nothing of those slices.
    few = attention(ahead[:4], 20.0, 4)
    assert np.all(np.isnan(few.share)) and np.all(few.viewers == 4)
    # 3 of 4 viewers in the box; below the floor, no answer.
    four = [still_viewer(12.0, 5.0), still_viewer(15.0, 2.0), still_viewer(18.0, 8.0), still_viewer(90.0, 0.0)]
    assert region_question(four, (10.0, 10.0, 20.0, 0.0), 0.0, 20.0, min_viewers=4) == (0.75, 4)
    assert region_question(four, (10.0, 10.0, 20.0, 0.0), 0.0, 20.0, min_viewers=5) == (None, 4)
    assert region_question(four, (10.0, 10.0, 20.0, 0.0), 30.0, 40.0, min_viewers=1) == (None, 0)
    rows = strip_picture(found, 100)
    assert rows.shape == (6, 100, 4) and rows[0, 0, 1] == 255  # all at the opening view: the brightest green


def write_trace(path, yaw: float, pitch: float, seconds: float = 20.0) -> None:
    head = {"format": "vrplayer-head-trace", "version": 1, "film": {"name": "desk_audience.mp4"},
            "display": {"fov": [90, 60]}, "rate_hz": 10}
    lines = [json.dumps(head)] + [json.dumps({"t": round(t, 2), "yaw": yaw, "pitch": pitch, "roll": 0.0})
                                  for t in np.arange(0.0, seconds, 0.1)]
    path.write_text("\n".join(lines) + "\n")


def test_the_audience_on_the_overview_and_the_timeline(xvfb, make_film, tmp_path):
    film = make_film("desk_audience.mp4", width=512, height=256, seconds=20.0, audio=False)
    traces = tmp_path / "traces"
    traces.mkdir()
    for k in range(6):  # six viewers, all looking 90° right and 20° up the whole film
        write_trace(traces / f"viewer{k}.jsonl", 90.0, 20.0)
    timing = tmp_path / "timing.jsonl"
    proc = subprocess.Popen(
        [*VRPLAYER, "play", str(film), "--display", "desktop", "--no-audio", "--size", "640x360", "--duration", "40",
         "--timing-log", str(timing), "--heatmap", str(traces)],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        window = find_window(xvfb)
        wait_for_pictures(timing, 5)
        focus(xvfb, window)
        xdotool(xvfb, "key", "--window", window, "space", "o")  # paused, the overview
        time.sleep(0.8)
        with_heat = window_picture(xvfb, window).astype(int)
        xdotool(xvfb, "key", "--window", window, "h")
        time.sleep(0.8)
        without = window_picture(xvfb, window).astype(int)
        # A box round where they looked (overview 640x320 from y = 20: lon 90 → x 480, lat 20 → y 20 + 124).
        xdotool(xvfb, "key", "--window", window, "b")
        # Typed characters come through the input method, and may arrive after pointer events sent after them:
        # the box is dragged once the window says to drag one.
        deadline = time.monotonic() + 10
        while np.abs(window_picture(xvfb, window)[290:310].astype(int) - without[290:310]).max() < 100:
            assert time.monotonic() < deadline, "key B did not start a box"
            time.sleep(0.1)
        xdotool(xvfb, "mousemove", "--window", window, "450", "120")
        time.sleep(0.3)
        xdotool(xvfb, "mousedown", "--window", window, "1")
        time.sleep(0.2)
        xdotool(xvfb, "mousemove", "--window", window, "480", "150")
        time.sleep(0.2)
        xdotool(xvfb, "mousemove", "--window", window, "510", "170")
        time.sleep(0.2)
        xdotool(xvfb, "mouseup", "--window", window, "1")
        time.sleep(0.8)
        # The timeline and its strip, shown as the pointer moves over the bar.
        xdotool(xvfb, "mousemove", "--window", window, "320", "348")
        time.sleep(0.5)
        strip = window_picture(xvfb, window)
        press_quit(xvfb, window)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    heat = np.abs(with_heat - without).sum(axis=-1)
    ys, xs = np.nonzero(heat > 60)
    assert len(xs) > 50, "no heat-map on the overview"
    weights = heat[ys, xs]
    assert abs(np.average(xs, weights=weights) - 480) < 12 and abs(np.average(ys, weights=weights) - 144) < 12
    assert "100% of 6 viewers saw this box" in err, err
    # The strip above the bar (rows 336-341 of the window): nobody at the opening view, so its top half is dark.
    bar_top = 360 - 8 - 10
    share_rows = strip[bar_top - 6:bar_top - 3, 20:600].astype(int)
    assert share_rows[..., 1].mean() < 90 and share_rows[..., 0].mean() < 60, share_rows.mean(axis=(0, 1))
