"""`vrplayer compare`: two cuts in lockstep, read back from the pixels. The test films show their frame number as a
binary code in big blocks (8 bits, 5° each, around the film's centre), over a band that says which cut it is (A
red, B blue): whatever the comparison draws, each cut's frame on show can be read off the picture."""

import fractions
import math
import os
import random
import subprocess
import time

import av
import numpy as np
import pytest

from conftest import ROOT, VRPLAYER, run_cli, timing_pictures
from test_audio import RATE, MonitorRecorder
from test_desk import write_trace
from test_desktop import find_window, press_quit, window_picture, xdotool

from vrplayer.creator.compare import render_comparison
from vrplayer.creator.compare_loop import sound_cut
from vrplayer.creator.compare_view import CompareDrawing, cut_label, label_texts
from vrplayer.creator.cut_pair import CutPair, frame_at, shows
from vrplayer.display.offscreen import OffscreenDisplay
from vrplayer.render.compare_pass import Composition, column_bounds, columns_read, split_halves, wipe_line
from vrplayer.snapshot import read_png
from vrplayer.view import ViewState

FILM = (1024, 512)
SIZE = (640, 360)
FOCAL = SIZE[0] / 2  # pixels per unit of tangent at FOV 90
BITS = 8
MARKS = {"A": (200, 30, 30), "B": (30, 30, 200)}
A_FPS, A_SECONDS = 24, 4.0
B_FPS, B_SECONDS = 30, 3.0
OFFSET = 0.5  # B's moment t + 0.5 beside A's moment t: B ends (3 s) when A is at 2.5 s
TINT = 20  # B's band above the code is this much lighter than A's: the difference shows it ×4


def _box(lon0, lon1, lat0, lat1):
    width, height = FILM
    x0, x1 = round((lon0 + 180) / 360 * width), round((lon1 + 180) / 360 * width)
    y0, y1 = round((90 - lat1) / 180 * height), round((90 - lat0) / 180 * height)
    return slice(y0, y1), slice(x0, x1)


def code_picture(index: int, mark, tint: int) -> np.ndarray:
    picture = np.full((FILM[1], FILM[0], 3), 100, np.uint8)
    for bit in range(BITS):
        picture[_box(-20 + 5 * bit, -15 + 5 * bit, -8, 8)] = 255 if (index >> bit) & 1 else 0
    picture[_box(-20, 20, 12, 22)] = 100 + tint
    picture[_box(-20, 20, -22, -12)] = mark
    return picture


def make_code_film(path, fps: int, seconds: float, mark, tint: int = 0, tone: float | None = None) -> str:
    """H.264, a key frame every half second (so that seeks decode from one); with `tone`, a sine of that many Hz."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = *FILM, "yuv420p"
        video.options = {"crf": "10", "preset": "ultrafast", "x264-params": f"keyint={fps // 2}:min-keyint={fps // 2}:scenecut=0"}
        audio = container.add_stream("aac", rate=RATE, layout="stereo") if tone else None
        for index in range(round(fps * seconds)):
            frame = av.VideoFrame.from_ndarray(code_picture(index, mark, tint), format="rgb24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            samples = 0.3 * np.sin(2 * np.pi * tone * np.arange(round(seconds * RATE)) / RATE).astype(np.float32)
            for start in range(0, len(samples), 1024):
                block = np.ascontiguousarray(np.tile(samples[start : start + 1024], (2, 1)))
                frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = RATE, start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return str(path)


@pytest.fixture(scope="module")
def cuts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cuts")
    return (make_code_film(folder / "cut_a.mp4", A_FPS, A_SECONDS, MARKS["A"]),
            make_code_film(folder / "cut_b.mp4", B_FPS, B_SECONDS, MARKS["B"], TINT))


def read_cut(picture: np.ndarray, centre_x: float):
    """(which cut, its frame number) of the view centred on column `centre_x`; None where the picture is black."""
    row = picture.shape[0] // 2
    mark_row = row + round(FOCAL * math.tan(math.radians(17)))
    mark = picture[mark_row - 3 : mark_row + 4, round(centre_x) - 3 : round(centre_x) + 4].reshape(-1, 3).mean(axis=0)
    if mark.max() < 40:
        return None
    name = "A" if mark[0] > mark[2] else "B"
    code = 0
    for bit in range(BITS):
        x = round(centre_x + FOCAL * math.tan(math.radians(-17.5 + 5 * bit)))
        if picture[row - 3 : row + 4, x - 3 : x + 4].mean() > 128:
            code |= 1 << bit
    return name, code


def expected(t: float):
    """The frames (A, B) due at comparison time t, by the rule, from the films' own frame grids."""
    a_starts = [i / A_FPS for i in range(round(A_FPS * A_SECONDS))]
    b_starts = [i / B_FPS for i in range(round(B_FPS * B_SECONDS))]
    return frame_at(a_starts, A_SECONDS, t), frame_at(b_starts, B_SECONDS, t + OFFSET)


# -- the pure parts -----------------------------------------------------------------------------------------------


def test_the_frame_on_screen_is_the_one_whose_span_holds_the_moment():
    starts = [0.0, 0.04, 0.08, 0.12]
    assert frame_at(starts, 0.16, -0.01) is None  # before the first frame
    assert frame_at(starts, 0.16, 0.0) == 0 and frame_at(starts, 0.16, 0.037) == 0
    assert frame_at(starts, 0.16, 0.0395) == 1  # within the scheduler's 2 ms: due
    assert frame_at(starts, 0.16, 0.159) == 3 and frame_at(starts, 0.16, 0.16) is None  # its span is over
    assert shows(0.12, 0.04, 0.159, last=True) and not shows(0.12, 0.04, 0.16, last=True)
    assert shows(0.12, 0.04, 5.0, last=False)  # a frame not known to be the last stays until the next is due


def test_columns_each_mode_reads():
    width = 640
    assert columns_read(Composition("wipe", 0.25), width) == ((0, 160), (161, 479))
    assert columns_read(Composition("wipe", 0.0), width) == (None, (1, 639))
    assert columns_read(Composition("wipe", 1.0), width) == ((0, 640), None)
    assert split_halves(640) == (320, 160, 160) and split_halves(641) == (320, 160, 160)
    assert columns_read(Composition("split"), 641) == ((160, 320), (160, 321))
    assert columns_read(Composition("toggle", shown=1), width) == (None, (0, 640))
    assert columns_read(Composition("difference"), width) == ((0, 640), (0, 640))
    # A part of the view drawn alone samples what the whole view's pixels there do.
    left, right, down, up = column_bounds((-1.0, 1.0, -0.5, 0.5), 640, (160, 320))
    assert (left, right, down, up) == (-0.5, 0.5, -0.5, 0.5)
    assert wipe_line(0.5, 640) == 320 and wipe_line(1.0, 640) == 640


def test_whose_sound_and_which_label():
    assert sound_cut(Composition("toggle", shown=1), 640) == 1
    assert sound_cut(Composition("wipe", 0.6), 640) == 0 and sound_cut(Composition("wipe", 0.4), 640) == 1
    assert sound_cut(Composition("split"), 640) == 0 and sound_cut(Composition("difference"), 640) == 0
    labels = (cut_label("A", 1.25, True, False), cut_label("B", 3.2, False, True))
    assert labels == ("A 0:01.2", "B ENDED") and cut_label("B", -0.3, False, False) == "B NOT YET"
    assert label_texts(Composition("toggle", shown=1), labels) == ["B ENDED"]
    assert label_texts(Composition("split"), labels) == list(labels)
    assert label_texts(Composition("difference", gain=4), labels)[0].startswith("A-B X4")


# -- lockstep, read from the rendered pixels ------------------------------------------------------------------------


def test_after_random_seeks_and_steps_both_cuts_show_the_same_moment(cuts):
    """100 seeks and steps (either cut's frames, forward and back, past B's end and back): each time, both
    pictures (read off a split, offscreen) are the frames due at the comparison's time."""
    pair = CutPair(*cuts, offset_b=OFFSET)
    display = OffscreenDisplay(SIZE)
    drawing = CompareDrawing([cut.playback.layout.layout for cut in pair.cuts], ("A", "B"))
    view, composition = ViewState(), Composition("split")
    half, shift_a, shift_b = split_halves(SIZE[0])
    rng = random.Random(13)
    seen_ended = seen_both = 0
    try:
        pair.goto(0.0, paused=True)
        for turn in range(100):
            action = rng.choice(("seek", "seek", "forward", "forward", "back"))
            if action == "seek":
                # Anywhere, on a frame boundary of either film now and then.
                t = rng.choice((rng.uniform(0.0, A_SECONDS - 0.01), rng.randrange(96) / A_FPS, rng.randrange(75) / B_FPS))
                pair.goto(t, paused=True)
            else:
                pair.step(1 if action == "forward" else -1, rng.choice(pair.cuts))
            drawing.draw([cut.shown for cut in pair.cuts], view, composition, SIZE)
            display.present()
            picture = display.read_pixels()
            t = pair.now()
            want_a, want_b = expected(t)
            assert read_cut(picture, SIZE[0] / 2 - 0.5 - shift_a) == ("A", want_a), (turn, action, t)
            got_b = read_cut(picture, half + SIZE[0] / 2 - 0.5 - shift_b)
            assert got_b == (None if want_b is None else ("B", want_b)), (turn, action, t, got_b, want_b)
            seen_ended += want_b is None
            seen_both += want_b is not None
    finally:
        drawing.close()
        pair.close()
        display.close()
    assert seen_ended >= 5 and seen_both >= 50  # both sides of B's end were visited


def test_playing_never_shows_a_frame_before_it_is_due(cuts):
    """Played on the wall clock for a second and a half: every picture's frames are due at its time, and the
    frame counts of both cuts move (24 fps against 30)."""
    pair = CutPair(*cuts, offset_b=OFFSET)
    try:
        pair.goto(1.0, paused=False)
        picks = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            t = pair.now()
            if pair.pick(t):
                picks.append((t, pair.a.shown.pts, pair.b.shown.pts if pair.b.shown else None))
            time.sleep(0.004)
    finally:
        pair.close()
    assert len({a for _, a, _ in picks}) >= 10 and len({b for _, _, b in picks}) >= 10
    for t, a, b in picks:
        assert a <= t + 0.002 and (b is None or b <= t + OFFSET + 0.002)


# -- the pictures of each mode ------------------------------------------------------------------------------------


def test_each_mode_by_its_pixels(cuts, tmp_path):
    at = 1.0
    want_a, want_b = expected(at)
    width, height = SIZE
    centre = width / 2 - 0.5

    def picture(mode, **kwargs):
        return render_comparison(*cuts, at, OFFSET, (None, None, None), 90.0, SIZE, Composition(mode, **kwargs),
                                 labels=False).astype(int)

    toggle_a, toggle_b = picture("toggle", shown=0), picture("toggle", shown=1)
    assert read_cut(toggle_a, centre) == ("A", want_a) and read_cut(toggle_b, centre) == ("B", want_b)

    wipe = picture("wipe", wipe=0.5)
    line = wipe_line(0.5, width)
    assert (wipe[:, :line] == toggle_a[:, :line]).all()  # A's own pixels left of the line, B's right of it
    assert (wipe[:, line + 1 :] == toggle_b[:, line + 1 :]).all()
    assert (wipe[:, line] > 200).all()  # the line

    split = picture("split")
    half, shift_a, shift_b = split_halves(width)
    assert (split[:, :half] == toggle_a[:, shift_a : shift_a + half]).all()  # each half: its cut's middle
    assert (split[:, half:] == toggle_b[:, shift_b : shift_b + width - half]).all()

    difference = picture("difference", gain=4.0)
    raw = np.abs(toggle_a - toggle_b)
    np.testing.assert_allclose(difference, np.minimum(255, raw * 4), atol=3)  # (texels quantised before ×4)
    row = height // 2 - round(FOCAL * math.tan(math.radians(17)))  # the band B has 20 lighter: 80 after ×4
    assert abs(np.median(difference[row, int(centre) - 40 : int(centre) + 40]) - 4 * TINT) < 12
    for bit in range(BITS):  # the code blocks: white where the frames' bits differ, black where they agree
        x = round(centre + FOCAL * math.tan(math.radians(-17.5 + 5 * bit)))
        differs = ((want_a ^ want_b) >> bit) & 1
        value = difference[height // 2 - 3 : height // 2 + 4, x - 3 : x + 4].mean()
        assert (value > 240) if differs else (value < 15), (bit, value)

    same = render_comparison(cuts[0], cuts[0], at, 0.0, (None, None, None), 90.0, SIZE, Composition("difference"), labels=False)
    assert same.max() == 0  # a cut against itself: nothing


def audience(folder, yaw: float, viewers: int = 5):
    """`viewers` head traces all looking `yaw` degrees right of the centre, level, the whole film."""
    folder.mkdir()
    for k in range(viewers):
        write_trace(folder / f"viewer{k}.jsonl", yaw, 0.0)
    return [str(folder)]


def test_each_cut_shows_its_own_audience_over_its_own_part(cuts, tmp_path):
    width, height = SIZE
    left, right = (round(width / 2 - 0.5 + FOCAL * math.tan(math.radians(yaw))) for yaw in (-30, 30))
    looks = {yaw: audience(tmp_path / f"yaw{yaw}", yaw) for yaw in (-30, 30)}

    def picture(mode, heatmaps=(None, None)):
        return render_comparison(*cuts, 1.0, OFFSET, (None, None, None), 90.0, SIZE, Composition(mode), labels=False,
                                 heatmaps=heatmaps).astype(int)

    def heat_at(shown, plain, x):
        return np.abs(shown - plain).sum(axis=2)[height // 2 - 10: height // 2 + 10, x - 10: x + 10].mean()

    plain = picture("wipe")
    # A's audience looked left (A's side of the wipe), B's right (B's side): both maps show, each where it belongs.
    both = picture("wipe", (looks[-30], looks[30]))
    assert heat_at(both, plain, left) > 60 and heat_at(both, plain, right) > 60
    assert (both[:, width // 2 - 40: width // 2 + 40] == plain[:, width // 2 - 40: width // 2 + 40]).all()
    # The other way round, each map falls on the other cut's part of the picture: nothing of either shows.
    assert (picture("wipe", (looks[30], looks[-30])) == plain).all()
    # The toggle shows the cut on show with its own audience; the difference is about the pictures alone.
    toggle_b = render_comparison(*cuts, 1.0, OFFSET, (None, None, None), 90.0, SIZE, Composition("toggle", shown=1),
                                 labels=False, heatmaps=(looks[-30], looks[30])).astype(int)
    plain_b = render_comparison(*cuts, 1.0, OFFSET, (None, None, None), 90.0, SIZE, Composition("toggle", shown=1),
                                labels=False).astype(int)
    assert heat_at(toggle_b, plain_b, right) > 60 and heat_at(toggle_b, plain_b, left) < 1
    assert (picture("difference", (looks[-30], looks[30])) == picture("difference")).all()


def test_the_comparison_window_runs_with_both_audiences(cuts, tmp_path):
    timing = tmp_path / "timing.jsonl"
    result = run_cli("compare", *cuts, "--display", "offscreen", "--no-audio", "--size", "320x180", "--duration", "1.5",
                     "--heatmap-a", *audience(tmp_path / "a", -30), "--heatmap-b", *audience(tmp_path / "b", 30),
                     "--timing-log", timing)
    assert result.returncode == 0, result.stderr
    assert "A: heat-map of 5 traces" in result.stderr and "B: heat-map of 5 traces" in result.stderr, result.stderr
    assert len(timing.read_text().splitlines()) >= 3


def stereo_cut(path):
    """A top-bottom stereo cut whose left eye carries B's code and right eye the inverted code."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=A_FPS)
        video.width, video.height, video.pix_fmt, video.options = FILM[0], 2 * FILM[1], "yuv420p", {"crf": "10", "preset": "ultrafast"}
        for index in range(2 * A_FPS):
            both = np.concatenate([code_picture(index, MARKS["B"], 0), code_picture(index ^ 0xFF, MARKS["B"], 0)])
            frame = av.VideoFrame.from_ndarray(both, format="rgb24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, A_FPS)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    return path


def test_cuts_of_different_layouts_each_through_their_own(cuts, tmp_path):
    """A (equirectangular) against itself as an EAC cubemap (FFmpeg's v360) and as a top-bottom stereo film whose
    right eye carries the inverted code: each is drawn by its own layout, so the same moment reads the same."""
    eac = tmp_path / "cut_a_EAC.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", cuts[0], "-vf", "v360=input=e:output=eac:w=1152:h=768", "-c:v", "libx264",
                    "-crf", "10", "-preset", "ultrafast", str(eac)], check=True)
    stereo = stereo_cut(tmp_path / "cut_TB.mp4")
    at, centre = 1.25, SIZE[0] / 2 - 0.5
    index = expected(at)[0]

    def picture(b, mode, eye="left", **kwargs):
        return render_comparison(cuts[0], str(b), at, 0.0, (None, None, None), 90.0, SIZE, Composition(mode, **kwargs),
                                 eye, labels=False)

    assert read_cut(picture(eac, "toggle", shown=1), centre) == ("A", index)  # (A's own picture, as a cubemap)
    difference = picture(eac, "difference", gain=1.0)
    assert np.median(difference) < 3 and np.percentile(difference, 99) < 60  # only resampling at the blocks' edges
    assert read_cut(picture(stereo, "toggle", shown=1), centre) == ("B", index)  # the left eye
    assert read_cut(picture(stereo, "toggle", eye="right", shown=1), centre) == ("B", index ^ 0xFF)
    split = picture(stereo, "split")
    half, shift_a, shift_b = split_halves(SIZE[0])
    assert read_cut(split, centre - shift_a) == ("A", index) and read_cut(split, half + centre - shift_b) == ("B", index)


def test_each_cut_takes_its_own_layout_overrides(cuts, tmp_path):
    """`--eyes-swapped-b` (and the other "-b" overrides) say what cut B is when its name and metadata do not: a
    stereo cut with its eyes the other way round shows its right eye's picture where the left one was; A is not
    touched by B's overrides."""
    stereo = stereo_cut(tmp_path / "cut_b_TB.mp4")
    at, centre = 1.25, SIZE[0] / 2 - 0.5
    index = expected(at)[0]

    def on_show(cut, *flags):
        out = tmp_path / "shown.png"
        result = run_cli("compare", cuts[0], stereo, "--at", at, "--size", f"{SIZE[0]}x{SIZE[1]}", "--mode", "toggle",
                         "--show", cut, "--no-label", *flags, "-o", out)
        assert result.returncode == 0, result.stderr
        return read_cut(read_png(str(out)), centre)

    assert on_show("B") == ("B", index)  # the left eye, as packed
    assert on_show("B", "--eyes-swapped-b") == ("B", index ^ 0xFF)  # told its eyes are swapped
    assert on_show("A", "--eyes-swapped-b", "--projection-b", "flat") == ("A", index)  # A keeps its own layout
    assert on_show("B", "--projection", "flat") != ("B", index)  # the overrides for both reach B too


def test_output_png_from_the_command_with_its_label(cuts, tmp_path):
    out = tmp_path / "split.png"
    result = run_cli("compare", *cuts, "--offset-b", OFFSET, "--at", "2.7", "--size", f"{SIZE[0]}x{SIZE[1]}",
                     "--mode", "split", "-o", out)
    assert result.returncode == 0, result.stderr
    picture = read_png(str(out))
    assert picture.shape == (SIZE[1], SIZE[0], 3)
    half = SIZE[0] // 2
    assert read_cut(picture, half / 2 - 0.5) == ("A", expected(2.7)[0])
    assert read_cut(picture, half + half / 2 - 0.5) is None  # B (3 s) is over at 2.7 + 0.5: black
    labels = picture[8:26, 8:120].min(axis=2) > 200  # white text over a dark backing, top-left of each half
    assert labels.mean() > 0.05 and (picture[8:26, half + 8 : half + 120].min(axis=2) > 200).mean() > 0.05


@pytest.mark.parametrize("which", ["missing", "corrupt"])
def test_bad_cut_is_one_line_and_exit_1(cuts, tmp_path, which):
    bad = tmp_path / "bad.mp4"
    if which == "corrupt":
        data = bytearray(open(cuts[1], "rb").read())
        data[: len(data) // 2] = bytes(len(data) // 2)  # the header and half the film gone
        bad.write_bytes(data)
    for args in (["-o", tmp_path / "x.png"], ["--display", "offscreen", "--no-audio", "--duration", "1"]):
        result = run_cli("compare", cuts[0], bad, *args)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert len(lines) == 1 and str(bad) in lines[0], lines


# -- the window and the sound -------------------------------------------------------------------------------------


def test_window_keys_switch_modes_and_move_both_cuts(xvfb, cuts, tmp_path):
    """Under Xvfb: pause, step, seek, the mode keys, Tab and the mouse; the timing log says what each picture
    showed, and the window's pixels agree with its last line."""
    timing = tmp_path / "timing.jsonl"
    proc = subprocess.Popen(
        [*VRPLAYER, "compare", *cuts, "--offset-b", str(OFFSET), "--no-audio", "--size", f"{SIZE[0]}x{SIZE[1]}",
         "--timing-log", str(timing), "--duration", "60", "--mode", "wipe", "--at", "0.5"],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        window = find_window(xvfb, "vrplayer compare")
        for _ in range(50):  # the window can be found a moment before it is mapped (and can take the focus)
            if subprocess.run(["xdotool", "windowfocus", "--sync", window], env={"DISPLAY": xvfb}, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        time.sleep(1.0)

        def key(*names, pause=0.5):
            xdotool(xvfb, "key", "--window", window, *names)
            time.sleep(pause)

        def last():
            return timing_pictures(timing)[-1]

        key("space")  # pause
        key("period", "period", "period")
        assert last()["paused"] and last()["mode"] == "wipe"
        key("2")  # split
        picture = window_picture(xvfb, window)
        entry = last()
        assert entry["mode"] == "split"
        half = SIZE[0] // 2
        assert read_cut(picture, half / 2 - 0.5) == ("A", round(entry["a"] * A_FPS))
        assert read_cut(picture, half + half / 2 - 0.5) == ("B", round(entry["b"] * B_FPS))
        key("Tab")  # toggle, B on show (A was heard in split)
        assert last()["mode"] == "toggle" and last()["shown"] == "B"
        assert read_cut(window_picture(xvfb, window), SIZE[0] / 2 - 0.5)[0] == "B"
        key("comma")  # one frame of B back
        key("Tab")
        assert last()["shown"] == "A" and read_cut(window_picture(xvfb, window), SIZE[0] / 2 - 0.5)[0] == "A"
        key("Right", pause=1.0)  # 5 s on: past B's end, A's last frames
        key("4")
        assert last()["mode"] == "difference" and last()["b"] is None
        key("1")
        xdotool(xvfb, "mousemove", "--window", window, str(SIZE[0] // 4), str(SIZE[1] // 2))
        time.sleep(0.5)
        picture = window_picture(xvfb, window)
        line = (picture[:, SIZE[0] // 4 - 1 : SIZE[0] // 4 + 2].min(axis=2) > 200).mean(axis=0)
        assert line.max() > 0.9, line  # the line moved there (the pointer itself hides a few rows of it)
        key("Left", "space", pause=1.0)  # back 5 s, playing
        press_quit(xvfb, window)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log = proc.stderr.read()
    assert "Traceback" not in log, log
    entries = timing_pictures(timing)
    assert {"wipe", "split", "toggle", "difference"} <= {e["mode"] for e in entries}
    paused = [e for e in entries if e["paused"]]
    playing = [e for e in entries if not e["paused"]]
    assert len(paused) >= 5 and len(playing) >= 5
    for entry in paused:  # paused: exactly the frames due at the comparison's time
        want_a, want_b = expected(entry["t"])
        assert round(entry["a"] * A_FPS) == want_a, entry
        assert (entry["b"] is None) == (want_b is None) and (want_b is None or round(entry["b"] * B_FPS) == want_b), entry
    for entry in playing:  # playing: never a frame before its time
        assert entry["a"] <= entry["t"] + 0.002 and (entry["b"] is None or entry["b"] <= entry["t"] + OFFSET + 0.002)


@pytest.mark.parametrize("show, tone", [("A", 440.0), ("B", 880.0)])
def test_sound_comes_from_the_cut_on_show(pulse, tmp_path_factory, show, tone):
    folder = tmp_path_factory.mktemp("tones")
    a = make_code_film(folder / "a.mp4", A_FPS, 3.0, MARKS["A"], tone=440.0)
    b = make_code_film(folder / "b.mp4", B_FPS, 3.0, MARKS["B"], tone=880.0)
    env = dict(os.environ, **pulse.env)
    recorder = MonitorRecorder(env)
    time.sleep(0.4)
    result = subprocess.run([*VRPLAYER, "compare", a, b, "--display", "offscreen", "--mode", "toggle", "--show", show,
                             "--size", "160x90", "--duration", "2"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    samples, _ = recorder.stop()
    assert result.returncode == 0, result.stderr
    assert "audio clock" in result.stderr
    loud = np.flatnonzero(np.abs(samples[:, 0]) > 0.05)
    assert len(loud) > RATE // 2, "too little sound recorded"
    chunk = samples[loud[0] + RATE // 10 : loud[0] + RATE // 10 + RATE // 2, 0]  # half a second, once it flows
    spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk))))
    assert abs(np.argmax(spectrum) * RATE / len(chunk) - tone) < 10
