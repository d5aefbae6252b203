"""A real window on a real X server (Xvfb): what the window shows, read back from the X server, and the controls."""

import subprocess
import sys
import time

import numpy as np

from conftest import ROOT, make_sample, timing_pictures

SIZE = (640, 360)


def grab_screen(display: str) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "x11grab", "-video_size", "1280x720", "-i", display, "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(720, 1280, 3)


def window_picture(display: str, window_id: str) -> np.ndarray:
    geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window_id], capture_output=True, text=True,
                              check=True, env={"DISPLAY": display}).stdout
    values = dict(line.split("=") for line in geometry.split())
    x, y, w, h = (int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    return grab_screen(display)[y : y + h, x : x + w]


def steady_picture(display: str, window_id: str) -> np.ndarray:
    """The window between the film's once-a-second white flashes (each lasts 0.1 s)."""
    for _ in range(10):
        picture = window_picture(display, window_id)
        if picture.mean() < 200:
            return picture
        time.sleep(0.13)
    raise AssertionError("the window stayed white")


def xdotool(display, *args):
    subprocess.run(["xdotool", *args], check=True, env={"DISPLAY": display}, capture_output=True)


def dominant(picture: np.ndarray) -> np.ndarray:
    h, w, _ = picture.shape
    return np.median(picture[h // 2 - 30 : h // 2 + 30, w // 2 - 30 : w // 2 + 30].reshape(-1, 3), axis=0)


def find_window(display: str, name: str = "vrplayer", timeout: float = 20.0) -> str:
    """The id of the first window with that name, once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--name", name], capture_output=True, text=True, env={"DISPLAY": display})
        if found.stdout.strip():
            return found.stdout.split()[0]
        time.sleep(0.2)
    raise AssertionError(f"no {name} window appeared")


def focus(display: str, window_id: str, timeout: float = 10.0) -> None:
    """Give the window the keyboard (it can be found a moment before it is mapped and can take the focus)."""
    deadline = time.monotonic() + timeout
    while subprocess.run(["xdotool", "windowfocus", "--sync", window_id], env={"DISPLAY": display},
                         capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "the window never took the focus"
        time.sleep(0.1)


def wait_for_pictures(timing_log, count: int = 1, timeout: float = 30.0) -> None:
    """Until the player has shown `count` pictures (its --timing-log has that many lines)."""
    deadline = time.monotonic() + timeout
    while len(timing_pictures(timing_log)) < count:
        assert time.monotonic() < deadline, "the film did not start"
        time.sleep(0.1)


def press_quit(display: str, window_id: str) -> None:
    """Q to the player's window. The player may quit on the key's press and take its window away before the
    release is sent, which xdotool reports as an error: the window gone is what was asked for."""
    subprocess.run(["xdotool", "key", "--window", window_id, "q"], env={"DISPLAY": display}, capture_output=True)


def close_window(display: str, window_id: str, proc) -> None:
    """Q to the player's window, and its process waited for (killed after 10 s)."""
    press_quit(display, window_id)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def window_size(display, window_id):
    geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window_id], capture_output=True, text=True,
                              check=True, env={"DISPLAY": display}).stdout
    values = dict(line.split("=") for line in geometry.split())
    return int(values["WIDTH"]), int(values["HEIGHT"])


def test_window_shows_the_film_and_follows_the_controls(xvfb, sample_film, tmp_path):
    timing = tmp_path / "timing.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrplayer", "play", str(sample_film), "--display", "desktop", "--no-audio",
         "--timing-log", str(timing),
         "--size", f"{SIZE[0]}x{SIZE[1]}", "--pitch", "-10", "--fov", "60", "--duration", "40", "--start", "0.2", "--loop"],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        window = find_window(xvfb)
        time.sleep(1.5)
        picture = steady_picture(xvfb, window)
        assert picture.shape[:2] == (SIZE[1], SIZE[0])
        north = np.array(make_sample.MARKERS["N"]["rgb"])
        assert np.abs(dominant(picture) - north).max() < 25, dominant(picture)  # looking at the N marker

        focus(xvfb, window)
        # Pause, step one frame, resume, seek forward 5 s.
        for key, pause in (("space", 0.8), ("period", 0.5), ("space", 0.3), ("Right", 0.5)):
            xdotool(xvfb, "key", "--window", window, key)
            time.sleep(pause)
        xdotool(xvfb, "key", "--window", window, *["d"] * 18)  # turn right 18 × 5° = 90°: east
        time.sleep(1.0)
        east = np.array(make_sample.MARKERS["E"]["rgb"])
        picture = steady_picture(xvfb, window)
        assert np.abs(dominant(picture) - east).max() < 25, dominant(picture)

        xdotool(xvfb, "key", "--window", window, "r")  # recenter: back to the N marker (initial pitch −10°)
        time.sleep(1.0)
        assert np.abs(dominant(steady_picture(xvfb, window)) - north).max() < 25

        xdotool(xvfb, "key", "--window", window, "i")  # the info line: white text over a dark backing, top-left
        time.sleep(1.0)
        corner = steady_picture(xvfb, window)[8:30, 8:300]
        assert (corner.min(axis=2) > 200).mean() > 0.05 and (corner.max(axis=2) < 80).mean() > 0.3

        # Fullscreen and back.
        xdotool(xvfb, "key", "--window", window, "f")
        time.sleep(0.8)
        assert window_size(xvfb, window) == (1280, 720)  # the whole (virtual) screen
        xdotool(xvfb, "key", "--window", window, "f")
        time.sleep(0.8)
        assert window_size(xvfb, window) == SIZE

        # The window may be gone before xdotool returns: its exit status says nothing here.
        subprocess.run(["xdotool", "key", "--window", window, "q"], env={"DISPLAY": xvfb}, capture_output=True)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log = proc.stderr.read()
    assert "Traceback" not in log
    entries = timing_pictures(timing)
    pts = np.array([e["pts"] for e in entries])
    shown = np.array([e["shown"] for e in entries])
    # Paused: for over half a second the picture advanced by no more than the one frame stepped.
    paused_spans = [
        (i, j) for i in range(len(entries)) for j in range(i + 1, len(entries))
        if shown[j] - shown[i] > 0.6 and pts[j] - pts[i] <= 1 / 30 + 1e-3
    ]
    assert paused_spans
    assert any(abs((pts[j] - pts[i]) - 1 / 30) < 1e-3 for i, j in paused_spans)  # the step
    assert np.max(np.diff(pts)) > 4.5  # the seek


def test_eye_keys_switch_between_eyes_side_by_side_and_anaglyph(xvfb, make_film):
    """A top-bottom film whose left eye is red and right eye blue: E steps left → right → side by side →
    anaglyph, X swaps the eyes — read back from the window."""
    red, blue = np.zeros((256, 512, 3), np.uint8), np.zeros((256, 512, 3), np.uint8)
    red[..., 0], blue[..., 2] = 200, 200
    film = make_film("eyes_360_TB.mp4", width=512, height=512, seconds=2.0, audio=False,
                     picture=np.concatenate([red, blue], axis=0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrplayer", "play", str(film), "--display", "desktop", "--no-audio", "--loop",
         "--size", f"{SIZE[0]}x{SIZE[1]}", "--duration", "40"],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        window = find_window(xvfb)
        focus(xvfb, window)

        def after(key=None):
            if key:
                xdotool(xvfb, "key", "--window", window, key)
            time.sleep(0.6)
            return window_picture(xvfb, window).astype(int)

        def colour(picture, x0=0.0, x1=1.0):
            h, w, _ = picture.shape
            return np.median(picture[h // 4 : 3 * h // 4, int(w * x0) + 10 : int(w * x1) - 10].reshape(-1, 3), axis=0)

        assert np.abs(colour(after()) - (200, 0, 0)).max() < 30  # the left eye by default
        assert np.abs(colour(after("e")) - (0, 0, 200)).max() < 30  # right eye
        both = after("e")  # side by side: left eye in the left half
        assert np.abs(colour(both, 0.0, 0.5) - (200, 0, 0)).max() < 30
        assert np.abs(colour(both, 0.5, 1.0) - (0, 0, 200)).max() < 30
        anaglyph = colour(after("e"))  # red from the left eye only, green and blue from the right eye only
        assert anaglyph[0] > 60 and anaglyph[2] > 150 and anaglyph[1] < 40, anaglyph
        after("e")  # back to the left eye
        assert np.abs(colour(after("x")) - (0, 0, 200)).max() < 30  # eyes swapped: "left" is now the blue half
    finally:
        close_window(xvfb, window, proc)
