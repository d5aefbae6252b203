"""The creator's desk in a real window (Xvfb): key V saves the view on screen as the film's opening view, which
the film then opens with (read back through snapshot's pixels)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import numpy as np

from conftest import ROOT, VRPLAYER
from test_desktop import find_window, focus, wait_for_pictures, xdotool
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
        xdotool(xvfb, "key", "--window", window, "q")
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
