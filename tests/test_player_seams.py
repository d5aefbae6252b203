"""The player's doors, each through its first user: a film played on a clock handed in, the events the timing log
and the kiosk listen to, and overlays (the info line, a card on the sphere) drawn over a real film offscreen.
(In the headset: tests/test_xr.py.)"""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import timing_pictures

from vrplayer.display.offscreen import OffscreenDisplay
from vrplayer.player import Film, Player, PlayOptions
from vrplayer.render import font, placement, projection
from vrplayer.render.overlay import TextCard
from vrplayer.render.placement import InView, OnSphere
from vrplayer.sync import WallClock
from vrplayer.view import ViewState

FPS = 24
SHOTS = os.environ.get("VRPLAYER_TEST_SHOTS")  # a folder: the overlay test writes its pictures there, to look at


@pytest.fixture(scope="module")
def short_film(make_film):
    return make_film("seams.mp4", width=256, height=128, seconds=2.0, fps=FPS, audio=False)


class SteppedTime:
    """A monotonic clock that moves only when told: the film's clock then runs as fast as the test says, whatever
    the machine's speed."""

    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def play_on_stepped_clock(film, step: float, tmp_path, size=(128, 64)):
    """Play `film` offscreen on a wall clock whose time moves `step` seconds per turn of the loop; (outcome,
    counts, the pts of every picture shown from the timing log)."""
    time_source = SteppedTime()
    timing = tmp_path / f"timing-{step}.jsonl"
    display = OffscreenDisplay(size)
    player = Player(display, PlayOptions(timing_log=str(timing)), audio=False)
    player.clock_for = lambda mixer: WallClock(monotonic=time_source)

    def tick(playback):
        time_source.t += step

    player.on_tick = tick
    try:
        outcome = player.play_film(Film(str(film)))
        counts = dict(player.last_counts)
    finally:
        player.close()
        display.close()
    pts = [entry["pts"] for entry in timing_pictures(timing)]
    return outcome, counts, pts


def test_a_film_plays_on_the_clock_handed_in(short_film, tmp_path):
    # Half a frame per turn: every frame is due on its own turn, so each is shown once, in order, none dropped.
    outcome, counts, pts = play_on_stepped_clock(short_film, 0.5 / FPS, tmp_path)
    assert outcome == "end"
    assert counts["frames_shown"] == 2 * FPS and counts["frames_dropped"] == 0
    assert pts == pytest.approx([i / FPS for i in range(2 * FPS)], abs=1e-4)
    # Three frames per turn: the scheduler shows the newest due and drops the two it overtook.
    outcome, counts, pts = play_on_stepped_clock(short_film, 3.0 / FPS, tmp_path)
    assert outcome == "end"
    assert counts["frames_shown"] + counts["frames_dropped"] == 2 * FPS
    assert abs(counts["frames_shown"] - 2 * FPS / 3) <= 2
    assert np.all(np.diff(pts) > 0) and np.median(np.diff(pts)) == pytest.approx(3 / FPS, abs=1e-4)


def test_the_playback_tells_its_listeners_what_happened(short_film):
    display = OffscreenDisplay((128, 64))
    player = Player(display, PlayOptions(), audio=False)
    heard = []
    player.events.listen(heard.append)
    commands = iter([[], [], [], [("pause", {})], [], [], [("resume", {})]] + [[]] * 10 + [[("restart", {})]])
    player.remote = lambda: next(commands, [])
    try:
        outcome = player.play_film(Film(str(short_film)))
    finally:
        player.close()
        display.close()
    assert outcome == "end"
    names = [e.name for e in heard]
    assert names[0] != "frame_shown" and names.index("film_started") < names.index("frame_shown")
    assert names[-1] == "film_ended"
    assert names.index("paused") < names.index("resumed")
    # Resuming goes back to exactly the frame on screen (an exact seek); the restart seeks to the film's start.
    resume, restart = [e for e in heard if e.name == "sought"]
    paused_at = next(e for e in heard if e.name == "paused").position
    assert resume.data == {"target": pytest.approx(paused_at), "paused": False} and 0 < paused_at < 1
    assert restart.data == {"target": 0.0, "paused": False}
    assert {e.film for e in heard} == {str(short_film)}
    ended = heard[-1].data
    assert ended["outcome"] == "end" and ended["frames_shown"] == player.last_counts["frames_shown"] > 2 * FPS
    assert all(e.name in ("paused", "resumed") or e.data.get("yaw") is not None for e in heard if e.name == "head_pose")
    shown = [e.position for e in heard if e.name == "frame_shown"]
    after_restart = heard[heard.index(restart):]
    assert shown[-1] > 1.5 and min(e.position for e in after_restart if e.name == "frame_shown") < 0.1
    # A listener that fails is dropped with one line; the film and the other listeners go on.
    display = OffscreenDisplay((64, 32))
    player = Player(display, PlayOptions(duration=0.5), audio=False)
    after = []
    player.events.listen(lambda event: 1 / 0)
    player.events.listen(after.append)
    try:
        player.start_deadline()
        assert player.play_film(Film(str(short_film))) == "quit"
    finally:
        player.close()
        display.close()
    assert after[-1].name == "film_ended"


# -- overlays ---------------------------------------------------------------------------------------------------

def test_in_view_cards_land_on_whole_pixels_of_a_desktop_view():
    tx, ty = projection.tan_half_fov(90, 640, 360)
    frame = placement.desktop_frame((-tx, tx, -ty, ty), (0, 0, 640, 360))
    rect = placement.view_rect(InView("top-left"), frame, (100, 9))
    corners = placement.card_points(rect, True, np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    pixels = placement.project(corners, placement.to_eye(projection.view_rotation(30, 10, 0), None, True), (-tx, tx, -ty, ty), (0, 0, 640, 360))
    np.testing.assert_allclose(pixels, [[8, 8], [208, 26]], atol=1e-6)  # 2 screen pixels per font pixel
    centred = placement.view_rect(InView("centre", scale=None), frame, (100, 9))
    left, top = frame.tangent(70, 157)  # 5× (45 // 9): a ninth of the height at most, in the middle
    assert centred[:2] == pytest.approx((left, top))
    narrow = placement.desktop_frame((-tx, tx, -ty, ty), (0, 0, 150, 360))
    assert placement.view_rect(InView("top-left"), narrow, (100, 9))[2] == pytest.approx(narrow.tangent(108, 0)[0])


def test_cards_on_the_sphere_project_where_the_film_has_that_direction():
    rotation = projection.view_rotation(20, -5, 0)
    tan_bounds = (-1.0, 1.0, -0.5625, 0.5625)
    matrix = placement.to_eye(rotation, None, False)
    for lon, lat in ((40, 10), (0, -20), (20, -5)):
        point = projection.direction(lon, lat)
        expected = projection.pixel_of(lon, lat, 640, 360, 20, -5, 0, 90)
        np.testing.assert_allclose(placement.project(point, matrix, tan_bounds, (0, 0, 640, 360)), np.array(expected) + 0.5, atol=1e-6)
    behind = placement.project(projection.direction(-160, 5), matrix, tan_bounds, (0, 0, 640, 360))
    assert np.isnan(behind).all()
    rect = placement.sphere_rect(OnSphere(40, 10, height=6), (60, 10))
    assert np.degrees(rect[1] - rect[3]) == pytest.approx(6)
    assert np.degrees(rect[2] - rect[0]) == pytest.approx(36 / np.cos(np.radians(10)))


def test_a_headset_frame_is_straight_ahead_and_inside_the_eye():
    frame = placement.headset_frame((-1.2, 0.9, -1.1, 1.0), (0, 0, 1000, 1000))
    assert frame.tan_bounds == (-0.6, 0.6, -0.6, 0.6)
    assert frame.width == frame.height == round(1.2 * 1000 / 2.1)
    narrow = placement.headset_frame((-0.4, 0.5, -0.5, 0.5), (0, 0, 900, 1000))
    assert narrow.tan_bounds == (-0.4, 0.4, -0.4, 0.4)


def differing(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 40)
    return xs, ys


def test_the_info_line_and_a_card_on_the_sphere_over_a_real_film_offscreen(sample_film):
    size = (480, 270)
    display = OffscreenDisplay(size)
    view = ViewState(yaw=0.0, pitch=0.0, fov=90.0)
    player = Player(display, PlayOptions(view=view, start=1.5, start_view=(0.0, 0.0, 0.0)), audio=False)
    card = TextCard("SPEAKER", OnSphere(yaw=25.0, pitch=-8.0, height=6.0), colour=(1, 0, 1, 1), backing=(0, 1, 0, 1))
    player.overlays.append(lambda playback: [card] if show["card"] else [])
    show = {"card": False}
    # Once the film runs: pause, then picture it as it is, with the card, with the view turned to the card, and
    # with the info line instead. Each change is drawn on the next turn of the loop; the tick after it reads it.
    states = [("plain", False, 0.0, False), ("card", True, 0.0, False), ("turned plain", False, 25.0, False),
              ("turned", True, 25.0, False), ("info", False, 0.0, True)]
    pictures = {}
    step = {"at": -1}

    def tick(playback):
        if playback is None or (step["at"] == -1 and not playback.clock.started):
            return None
        if step["at"] == -1:
            playback.clock.pause()
        else:
            pictures[states[step["at"]][0]] = display.read_pixels()
            pictures["info text"] = player.overlays[0].text(playback)
        step["at"] += 1
        if step["at"] == len(states):
            return "done"
        _, show["card"], player.view.yaw, player.options.show_info = states[step["at"]]
        return None

    player.on_tick = tick
    try:
        outcome = player.play_film(Film(str(sample_film), start=1.5))
    finally:
        player.close()
        display.close()
    assert outcome == "done"
    if SHOTS:
        from vrplayer.snapshot import write_png
        for name, picture in pictures.items():
            if name != "info text":
                write_png(picture, f"{SHOTS}/overlay-{name.replace(' ', '-')}.png")
    plain, with_card, turned_plain, turned, info = (pictures[k] for k in ("plain", "card", "turned plain", "turned", "info"))
    # The card: its green backing where the maths puts the direction (25°, −8°) for a view facing 0°...
    xs, ys = differing(with_card, plain)
    assert len(xs) > 200
    rect = placement.sphere_rect(card.place, (6 * len(card.text) - 1 + 2, 7 + 2))
    u, v = np.meshgrid(np.linspace(0, 1, 33), np.linspace(0, 1, 33))
    edges = placement.project(placement.card_points(rect, False, u, v), projection.view_rotation(0, 0, 0).T,
                              (-1.0, 1.0, -270 / 480, 270 / 480), (0, 0, *size))
    (x0, y0), (x1, y1) = np.nanmin(edges.reshape(-1, 2), axis=0), np.nanmax(edges.reshape(-1, 2), axis=0)
    assert abs(xs.min() - x0) < 2 and abs(xs.max() + 1 - x1) < 2 and abs(ys.min() - y0) < 2 and abs(ys.max() + 1 - y1) < 2
    expected = projection.pixel_of(25, -8, *size, 0, 0, 0, 90)
    assert x0 < expected[0] < x1 and abs(np.median(ys) - expected[1]) < 3
    green = (with_card[ys, xs, 1] > 200) & (with_card[ys, xs, 0] < 60)
    magenta = (with_card[ys, xs, 0] > 200) & (with_card[ys, xs, 1] < 60)
    assert green.mean() > 0.4 and magenta.mean() > 0.1  # the backing, and the letters on it
    # ...and straight ahead once the view turns to it: the card stayed in the film.
    xs, ys = differing(turned, turned_plain)
    assert abs((xs.min() + xs.max() + 1) / 2 - size[0] / 2) < 2 and abs(np.median(ys) - expected[1]) < 4
    centre = ys[xs == size[0] // 2]
    assert abs(centre.max() - centre.min() + 1 - 2 * 240 * np.tan(np.radians(3))) < 2  # 6° high where one looks
    # The info line: white text on a dark backing from pixel (8, 8), whole pixels, the film untouched elsewhere.
    xs, ys = differing(info, plain)
    text_width = font.text_mask(pictures["info text"]).shape[1] + 2  # and a font pixel of backing each side
    scale = min(2, (size[0] - 16) // text_width)  # two screen pixels per font pixel, where the line fits
    assert xs.min() == 8 and ys.min() == 8 and ys.max() == 8 + 9 * scale - 1 and xs.max() == 8 + text_width * scale - 1
    corner = info[8:8 + 9 * scale, 8:xs.max() + 1]
    assert (corner.min(axis=2) > 200).mean() > 0.05 and (corner.max(axis=2) < 80).mean() > 0.3
    assert np.array_equal(info[40:], plain[40:])
