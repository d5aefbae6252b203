"""Audience heat-maps: the map maths on known inputs, the Salient360! sample, traces recorded by the real player
with a scripted head, the `vrplayer heatmap` pictures, video, figures, regions and comparisons, and the heat-map
over the film in the player."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from vrplayer.analytics import maps
from vrplayer.analytics.importers import CsvColumns, load, read_csv
from vrplayer.analytics.trace import TraceError, read_trace

# The team's shared material sits beside the repository (as CI lays it out); VRPLAYER_SHARED says where else.
SALIENT360 = Path(os.environ.get("VRPLAYER_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data" / "salient360" / "rawDataStatic1.csv"
W, H = 1024, 512


# -- the maths --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lon, lat", [(30.0, 20.0), (-170.0, -45.0), (0.0, 0.0), (179.9, 70.0)])
def test_one_sample_peaks_at_its_pixel(lon, lat):
    heat = maps.head_map([lon], [lat], W, H)
    row, column = np.unravel_index(heat.argmax(), heat.shape)
    assert (row, column) == tuple(int(v) for v in maps.pixel_of(lon, lat, W, H))


def half_width(lat: float) -> int:
    heat = maps.head_map([0.0], [lat], W, H)
    row = heat[heat.argmax() // W]
    return int((row > row.max() / 2).sum())


def test_the_kernel_is_twice_as_wide_in_pixels_at_60_degrees():
    equator, sixty = half_width(0.0), half_width(60.0)
    assert abs(sixty / equator - 2.0) < 0.1, (equator, sixty)
    # σ 3.34°: the full width at half maximum is 2.355 σ, in pixels of 360/1024 degrees.
    assert abs(equator - 2.355 * maps.SIGMA_DEG * W / 360) <= 2


def test_a_map_sums_to_one_with_the_cosine_weighting():
    rng = np.random.default_rng(1)
    heat = maps.normalise(maps.head_map(rng.uniform(-180, 180, 500), rng.uniform(-80, 80, 500), W, H))
    assert (heat * maps.row_weights(H)[:, None]).sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(heat >= 0)


def test_the_seam_and_the_poles_are_continuous():
    seam = maps.head_map([180.0 - 0.1], [0.0], W, H)
    row = seam[H // 2 - 1]
    assert row[0] == pytest.approx(row[-1], rel=0.02) and row[0] > 0.9 * row.max()  # both sides of ±180°
    pole = maps.head_map([0.0], [89.9], W, H)
    top = pole[0]
    assert top.min() > 0.95 * top.max()  # the top row is one point: the same all round
    near = maps.head_map([0.0], [86.0], W, H)
    assert near[0, W // 2] > 0 and near[0, 0] > 0  # a sample near the pole reaches over it


def test_synthetic_audiences_give_the_figures_they_should():
    front = [np.array([[0.0, 0.0], [10.0, -5.0]]) for _ in range(10)]
    assert maps.figures(front).front_share == 1.0
    spread = [np.array([[yaw, 0.0]]) for yaw in np.linspace(-180, 180, 360, endpoint=False) + 0.5]
    assert maps.figures(spread).front_share == pytest.approx(0.25)
    still = maps.figures([np.array([[40.0, 10.0]])] * 5)
    assert still.centroid == pytest.approx((40.0, 10.0)) and still.spread_deg == pytest.approx(0.0, abs=1e-5)
    viewers = [np.array([[12.0, 5.0]]), np.array([[15.0, 2.0]]), np.array([[0.0, 0.0], [18.0, 8.0]]), np.array([[90.0, 0.0]])]
    assert maps.region_share(viewers, (10.0, 10.0, 20.0, 0.0)) == 0.75
    assert maps.region_share([np.array([[179.0, 0.0]])], (170.0, 5.0, -170.0, -5.0)) == 1.0  # a box across the seam
    a = maps.normalise(maps.head_map([10, -40, 100], [0, 20, -30], W, H))
    assert maps.weighted_cc(a, a) == pytest.approx(1.0) and maps.weighted_kld(a, a) == pytest.approx(0.0, abs=1e-12)
    b = maps.normalise(maps.head_map([-120], [0], W, H))
    assert maps.weighted_cc(a, b) < 0.1 and maps.weighted_kld(a, b) > 1.0


def test_the_viewport_map_is_the_share_of_viewers_who_could_see_each_direction():
    viewers = [(np.array([[0.0, 0.0, 0.0]]), (90.0, 90.0))] * 3 + [(np.array([[180.0, 0.0, 0.0]]), (90.0, 90.0))]
    share = maps.viewport_map(viewers, 360, 180)
    lon, lat = maps.longitudes(360), maps.latitudes(180)
    at = lambda yaw, pitch: share[np.abs(lat - pitch).argmin(), np.abs(lon - yaw).argmin()]  # noqa: E731
    assert at(0, 0) == 0.75 and at(30, 30) == 0.75 and at(180, 0) == 0.25 and at(90, 0) == 0.0
    rolled = maps.viewport_map([(np.array([[0.0, 0.0, 90.0]]), (90.0, 30.0))], 360, 180)
    lon_hits = np.abs(lon[np.nonzero(rolled[np.abs(lat - 0).argmin()])[0]]).max()
    lat_hits = np.abs(lat[np.nonzero(rolled[:, np.abs(lon - 0).argmin()])[0]]).max()
    assert lon_hits < 20 and lat_hits > 40  # rolled 90°: the wide side of the view stands upright


# -- importing --------------------------------------------------------------------------------------------------

def test_the_salient360_sample_peaks_where_its_toolbox_puts_it():
    if not SALIENT360.exists():
        pytest.skip(f"the Salient360! sample is not at {SALIENT360} (shared/ beside the repository, or VRPLAYER_SHARED)")
    [trace] = load(SALIENT360)
    assert len(trace.samples) == 1406  # 1412 rows less the 6 whose right eye is invalid
    assert trace.samples[0, 1:3] == pytest.approx((100.2, -7.6), abs=0.1)
    heat = maps.head_map(trace.samples[:, 1], trace.samples[:, 2], 2000, 1000)
    row, column = np.unravel_index(heat.argmax(), heat.shape)
    assert abs(row - 686) <= 1 and abs(column - 813) <= 1


def test_a_generic_csv_with_angles_or_a_quaternion(tmp_path):
    angles = tmp_path / "angles.csv"
    angles.write_text("ms,heading,elevation\n0,-0.5,0.1\n100,-0.5,0.1\n")
    trace = read_csv(angles, CsvColumns(time="ms", yaw="heading", pitch="elevation", radians=True, yaw_sign=-1, time_scale=0.001))
    np.testing.assert_allclose(trace.samples[1], [0.1, np.degrees(0.5), np.degrees(0.1), 0.0])
    quaternion = tmp_path / "q.csv"
    s = np.sqrt(0.5)
    # OpenXR: a turn of +90° about +y faces −x, which is to the left: yaw −90°.
    quaternion.write_text(f"t,qx,qy,qz,qw\n0,0,0,0,1\n1,0,{s},0,{s}\n")
    trace = read_csv(quaternion, CsvColumns(quaternion=("qx", "qy", "qz", "qw")))
    np.testing.assert_allclose(trace.samples[:, 1:3], [[0, 0], [-90, 0]], atol=1e-9)
    with pytest.raises(TraceError, match="no column 'yaw'"):
        read_csv(quaternion, CsvColumns())


def test_broken_traces_are_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "something else"}\n')
    with pytest.raises(TraceError, match="not a vrplayer head trace"):
        read_trace(bad)
    result = run_cli("heatmap", "sample_media/sample_360.mp4", str(bad), "--json", str(tmp_path / "f.json"))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    result = run_cli("heatmap", "sample_media/sample_360.mp4", str(tmp_path / "missing"), "--json", str(tmp_path / "f.json"))
    assert result.returncode == 1 and "no such file or folder" in result.stderr


# -- recorded by the player -------------------------------------------------------------------------------------

HEAD = (35.0, 12.0)  # where the scripted viewers look


@pytest.fixture(scope="module")
def recorded(make_film, tmp_path_factory):
    """Head traces recorded by `vrplayer play --record-heads` with a scripted head, for a mono 360° film, a
    top-bottom stereo one and a VR180 one (their layouts said by their file names)."""
    base = tmp_path_factory.mktemp("heads")
    path = base / "head.txt"
    path.write_text(f"0 {HEAD[0]} {HEAD[1]}\n60 {HEAD[0]} {HEAD[1]}\n")
    films = {
        "mono": make_film("audience_360.mp4", width=512, height=256, seconds=3.0, fps=24, audio=False),
        "stereo": make_film("audience_360_TB.mp4", width=256, height=256, seconds=3.0, fps=24, audio=False),
        "vr180": make_film("audience_180_SBS.mp4", width=512, height=256, seconds=3.0, fps=24, audio=False),
    }
    out = {}
    for kind, film in films.items():
        folder = base / kind
        result = run_cli("play", film, "--display", "offscreen", "--size", "160x90", "--no-audio", "--head-path", path,
                         "--record-heads", folder)
        assert result.returncode == 0, result.stderr
        out[kind] = (film, folder)
    return out


@pytest.mark.parametrize("kind", ["mono", "stereo", "vr180"])
def test_recorded_traces_are_our_format_and_peak_on_the_scripted_direction(recorded, kind):
    film, folder = recorded[kind]
    [path] = list(folder.glob("*.jsonl"))
    trace = read_trace(path)
    head = trace.header
    assert head["convention"]["yaw_origin"] == "the film's frame centre" and head["convention"]["recenter"] == "applied"
    assert head["film"]["name"] == film.name and head["film"]["duration"] == pytest.approx(3.0, abs=0.05)
    assert len(head["film"]["sha256_first_mib"]) == 64 and head["display"]["fov"][0] == 90.0
    t = trace.samples[:, 0]
    assert len(t) / (t[-1] - t[0]) >= 10  # at least 10 samples a second of film
    assert trace.markers[-1]["event"] == "end" and trace.markers[-1]["outcome"] == "end"
    heat = maps.head_map(trace.samples[:, 1], trace.samples[:, 2], W, H)
    row, column = np.unravel_index(heat.argmax(), heat.shape)
    assert (row, column) == tuple(int(v) for v in maps.pixel_of(*HEAD, W, H))


def five_viewers(recorded, tmp_path, kind="mono") -> Path:
    """The same recorded viewing five times (the privacy floor's default)."""
    _, folder = recorded[kind]
    [path] = list(folder.glob("*.jsonl"))
    audience = tmp_path / "audience"
    audience.mkdir()
    for i in range(5):
        (audience / f"viewer{i}.jsonl").write_text(path.read_text())
    return audience


def test_a_picture_of_the_map_over_the_film_with_figures_and_a_region(recorded, tmp_path):
    from vrplayer.snapshot import read_png

    film, _ = recorded["mono"]
    audience = five_viewers(recorded, tmp_path)
    out, figures, raw = tmp_path / "heat.png", tmp_path / "figures.json", tmp_path / "heat.npy"
    result = run_cli("heatmap", film, audience, "-o", out, "--at", "1.5", "--json", figures, "--raw", raw,
                     "--region", "30,20,40,5", "--from", "0", "--to", "3", "--size", "512x256")
    assert result.returncode == 0, result.stderr
    assert "100.0 % of viewers" in result.stdout
    picture = read_png(str(out))
    assert picture.shape == (256, 512, 3)
    heat = np.load(raw)
    assert (heat * maps.row_weights(256)[:, None]).sum() == pytest.approx(1.0)
    row, column = np.unravel_index(heat.argmax(), heat.shape)
    assert (row, column) == tuple(int(v) for v in maps.pixel_of(*HEAD, 512, 256))
    # The hottest place is the brightest, warm-coloured spot of the picture.
    spot = picture[row - 1:row + 2, column - 1:column + 2].reshape(-1, 3).astype(int)
    assert spot[:, 0].min() > 170 and spot[:, 0].mean() > spot[:, 2].mean() + 40
    windows = json.loads(figures.read_text())["windows"]
    assert windows[0]["figures"]["viewers"] == 5 and windows[0]["figures"]["front_share"] == 1.0
    assert windows[0]["figures"]["centroid"] == pytest.approx(list(HEAD), abs=0.01)


def test_too_few_viewers_get_no_map(recorded, tmp_path):
    film, folder = recorded["mono"]
    figures = tmp_path / "figures.json"
    result = run_cli("heatmap", film, folder, "--json", figures, "--raw", tmp_path / "heat.npy")
    assert result.returncode == 1 and "not enough viewers" in result.stderr
    windows = json.loads(figures.read_text())["windows"]
    assert windows[0] == {"from": 0.0, "to": 2.0, "figures": {"viewers": 1}, "note": "not enough viewers"}
    assert not (tmp_path / "heat.npy").exists()


def test_the_heat_map_video_has_a_picture_per_frame_and_a_still_audience_a_still_map(recorded, make_film, tmp_path):
    import av

    still = np.zeros((128, 256, 3), np.uint8)
    still[:, :, 2] = 90
    film = make_film("audience_still_360.mp4", width=256, height=128, seconds=3.0, fps=24, audio=False, picture=still)
    audience = five_viewers(recorded, tmp_path)
    out = tmp_path / "heat.mp4"
    result = run_cli("heatmap", film, audience, "-o", out, "--size", "256x128", "--window", "1")
    assert result.returncode == 0, result.stderr
    with av.open(str(film)) as source:
        film_frames = sum(1 for _ in source.decode(video=0))
    with av.open(str(out)) as video:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in video.decode(video=0)]
    assert len(frames) == film_frames == 72
    middle = frames[24:48]  # windows wholly inside the recorded viewing
    assert max(np.abs(f - middle[0]).max() for f in middle) <= 6  # the same map (to the encoder's noise)
    row, column = (int(v) for v in maps.pixel_of(*HEAD, 256, 128))
    assert middle[0][row, column, 0] > 200 and frames[0][row, column, 0] > 200  # the map is there, over the still film
    assert np.abs(middle[0][5:20, 5:20] - still[5:20, 5:20]).max() <= 6  # and the film shows where nobody looked


def test_two_cuts_compared(recorded, tmp_path):
    audience = five_viewers(recorded, tmp_path)
    figures = tmp_path / "compare.json"
    result = run_cli("heatmap", "--json", figures, "--compare", audience, "--", audience)
    assert result.returncode == 0, result.stderr
    first = json.loads(figures.read_text())["windows"][0]
    assert first["cc"] == pytest.approx(1.0) and first["kld"] == pytest.approx(0.0, abs=1e-9)


def test_the_heat_map_over_the_film_in_the_player(recorded, tmp_path):
    from vrplayer.analytics.desk import HeatmapOverlay
    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.player import Film, Player, PlayOptions
    from vrplayer.render import projection
    from vrplayer.view import ViewState

    film, _ = recorded["mono"]
    audience = five_viewers(recorded, tmp_path)
    display = OffscreenDisplay((320, 180))
    player = Player(display, PlayOptions(view=ViewState(fov=90)), audio=False)
    player.overlays.append(HeatmapOverlay(player, [audience]))
    pictures = []

    def tick(playback):
        if playback is not None and playback.position > 1.0:
            playback.clock.pause()
            if len(pictures) < 2:
                pictures.append(display.read_pixels())
                player.commands.apply(playback, ("heatmap",))  # key H: off for the next picture
                return None
            return "done"
        return None

    player.on_tick = tick
    try:
        assert player.play_film(Film(str(film), start_view=(HEAD[0], HEAD[1], 0.0))) == "done"
    finally:
        player.close()
        display.close()
    shown, hidden = (p.astype(int) for p in pictures)
    difference = np.abs(shown - hidden).max(axis=2)
    ys, xs = np.nonzero(difference > 40)
    centre = projection.pixel_of(*HEAD, 320, 180, HEAD[0], HEAD[1], 0, 90)
    assert len(xs) > 20 and abs(np.median(xs) - centre[0]) < 3 and abs(np.median(ys) - centre[1]) < 3


@pytest.mark.parametrize("kind", ["mono", "stereo", "vr180"])
def test_a_kiosk_records_each_viewing_for_the_heat_map(recorded, tmp_path, kind):
    film, _ = recorded[kind]
    head = tmp_path / "head.txt"
    head.write_text(f"0 {-HEAD[0]} {HEAD[1]}\n60 {-HEAD[0]} {HEAD[1]}\n")
    programme = tmp_path / "prog.toml"
    programme.write_text(f'start_trigger = "auto"\nloop = false\n[[items]]\nfile = {json.dumps(str(film))}\n')
    log_dir = tmp_path / "log"
    result = run_cli("kiosk", programme, "--display", "offscreen", "--size", "160x90", "--no-audio", "--no-supervisor",
                     "--log-dir", log_dir, "--head-path", head, "--duration", "20", timeout=60)
    assert result.returncode == 0, result.stderr
    [path] = list((log_dir / "heads").glob("*.jsonl"))
    trace = read_trace(path)
    assert trace.header["source"] == "kiosk" and trace.header["film"]["name"] == film.name
    heat = maps.head_map(trace.samples[:, 1], trace.samples[:, 2], W, H)
    row, column = np.unravel_index(heat.argmax(), heat.shape)
    assert (row, column) == tuple(int(v) for v in maps.pixel_of(-HEAD[0], HEAD[1], W, H))


def test_a_viewport_map_holds_the_whole_view_of_every_viewer(recorded, tmp_path):
    film, _ = recorded["mono"]
    audience = five_viewers(recorded, tmp_path)
    raw = tmp_path / "viewport.npy"
    result = run_cli("heatmap", film, audience, "--kind", "viewport", "--raw", raw, "--at", "1.5", "--size", "512x256")
    assert result.returncode == 0, result.stderr
    heat = np.load(raw)
    lon, lat = maps.longitudes(512), maps.latitudes(256)
    row = np.abs(lat - HEAD[1]).argmin()
    seen = lon[heat[row] > 0]
    # The recorded display's 90° view around the head's direction, at the head's latitude.
    assert abs(seen.min() - (HEAD[0] - 45)) < 3 and abs(seen.max() - (HEAD[0] + 45)) < 3
    assert heat[row, np.abs(lon - HEAD[0]).argmin()] == heat.max()
