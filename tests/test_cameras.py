"""Camera files as they come off the card (vrplayer/cameras): GoPro MAX `.360` films made by camera_files.py, each
fact as ../shared/notes/cameras.md gives it — recognised, assembled, drawn against FFmpeg's v360, and heard."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from camera_films import SEAM_MARK, gopro_max, gopro_tracks
from conftest import ROOT, run_cli
from test_spatial_audio import read_wav
from test_layouts_reference import BACK, CUBE_CORNER, DOWN, FRONT, MIN_PSNR, UP, equirect_scene, psnr, v360_convert, v360_view
from vrplayer.snapshot import read_png

FACE = 128
STRIP = 32
VIEW = (160, 120)
PAD = 2  # v360's EAC padding round each row (its input has no option for another)


def pad_rows(canvas: np.ndarray) -> np.ndarray:
    """A 3x2 EAC picture without padding as v360 reads EAC: PAD pixels round the outside of each row of faces
    (the row's own edge pixels repeated)."""
    face = canvas.shape[0] // 2
    return np.concatenate([np.pad(row, ((PAD, PAD), (PAD, PAD), (0, 0)), mode="edge")
                           for row in (canvas[:face], canvas[face:])])


def unpad_rows(padded: np.ndarray, face: int) -> np.ndarray:
    return np.concatenate([padded[PAD + r * (face + 2 * PAD): PAD + r * (face + 2 * PAD) + face, PAD:PAD + 3 * face]
                           for r in (0, 1)])


@pytest.fixture(scope="module")
def scene():
    return equirect_scene()


@pytest.fixture(scope="module")
def gopro(tmp_path_factory, scene):
    """A GoPro MAX film of the test scene, and the canvas it was made from."""
    padded = v360_convert(scene, "eac", (3 * FACE + 2 * PAD, 2 * FACE + 4 * PAD))
    canvas = unpad_rows(padded, FACE)
    folder = tmp_path_factory.mktemp("gopro")
    return gopro_max(folder / "GS010042.360", canvas, strip=STRIP), canvas


def decoded_canvas(film) -> np.ndarray:
    """The film's first pictures of both tracks, decoded here and put together by the camera's rule, independently
    of the player: each track's side faces lose the band at their middle."""
    tracks = []
    for index in (0, 1):
        with av.open(str(film)) as container:
            tracks.append(next(container.decode(video=index)).to_ndarray(format="rgb24"))
    half = FACE // 2
    rows = []
    for track in tracks:
        left, rest = track[:, :FACE + STRIP], track[:, FACE + STRIP:]
        middle, right = rest[:, :FACE], rest[:, FACE:]
        rows.append(np.concatenate([left[:, :half], left[:, half + STRIP:], middle, right[:, :half],
                                    right[:, half + STRIP:]], axis=1))
    return np.concatenate(rows)


def snapshot(film, out, view) -> np.ndarray:
    yaw, pitch, roll, fov = view
    result = run_cli("snapshot", film, "--yaw", yaw, "--pitch", pitch, "--roll", roll, "--fov", fov,
                     "--size", f"{VIEW[0]}x{VIEW[1]}", "-o", out)
    assert result.returncode == 0, result.stderr
    return read_png(str(out)) / 255.0


def test_the_test_film_follows_the_facts(gopro):
    film, canvas = gopro
    first, second = gopro_tracks(canvas, STRIP)
    assert first.shape[:2] == (FACE, 3 * FACE + 2 * STRIP)  # face = track height, strip = (width − 3 face) / 2
    with av.open(str(film)) as container:
        kinds = [(s.type, s.codec_context.name, s.metadata.get("handler_name")) for s in container.streams]
    assert kinds == [("video", "hevc", "GoPro H.265"), ("audio", "aac", None), ("video", "hevc", "GoPro H.265"),
                     ("audio", "pcm_s16le", "GoPro AMB")] or [k[:2] for k in kinds] == [
        ("video", "hevc"), ("audio", "aac"), ("video", "hevc"), ("audio", "pcm_s16le")]


def test_probe_names_the_camera_its_picture_and_its_sound(gopro):
    film, _ = gopro
    result = run_cli("probe", film)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"camera:      GoPro MAX: video tracks 0 + 2 as one {3 * FACE}x{2 * FACE} picture, sound track 3" in text
    assert "projection:  eac, 360°×180° — camera file (GoPro MAX)" in text
    assert "sound:       ambix1, follows the head (binaural) — camera file (GoPro MAX)" in text
    facts = json.loads(run_cli("probe", "--json", film).stdout)
    assert facts["camera"]["video_tracks"] == [0, 2] and facts["camera"]["sound_track"] == 3
    assert facts["layout"]["projection"] == "eac" and facts["layout"]["warnings"] == []
    assert facts["audio"]["channels"] == 4


def test_a_gopro_film_looks_like_v360_of_its_assembled_picture(gopro, tmp_path):
    film, _ = gopro
    padded = pad_rows(decoded_canvas(film))
    seams = [(-90, 0, 0, 70), (90, 10, 0, 70), (0, 90, 0, 70), (180, -90, 0, 70)]  # down the middle of side faces
    for view in [FRONT, BACK, UP, DOWN, CUBE_CORNER, *seams]:
        ours = snapshot(film, tmp_path / "gopro.png", view)
        theirs, valid = v360_view(padded, "eac", view, VIEW)
        assert valid.all()
        assert psnr(ours, theirs) >= MIN_PSNR, (view, psnr(ours, theirs))
        mark = np.abs(ours * 255 - SEAM_MARK).max(axis=-1) < 60
        assert not mark.any(), f"the lens-overlap band shows at {view}"


def test_the_assembled_picture_has_no_step_and_no_doubled_columns_at_the_seams(tmp_path):
    """A canvas of a fine checker (4-pixel squares) made into a GoPro film, its bands what both lenses saw, comes
    back from the player's decoder as that canvas: every column where it belongs, at the seams too (a column
    doubled or lost there would shift the squares beyond it)."""
    import vrplayer.cameras  # noqa: F401 (its recognisers, as the command line adds them)
    from vrplayer.media.video import VideoDecoder

    y, x = np.mgrid[0:2 * FACE, 0:3 * FACE]
    canvas = np.repeat(((x // 4 + y // 4) % 2 * 160 + 40)[..., None], 3, axis=-1).astype(np.uint8)
    film = gopro_max(tmp_path / "GS010043.360", canvas, seconds=0.5, sound_azimuth=None, marked=False)
    decoder = VideoDecoder(str(film))
    try:
        assert decoder.size == (3 * FACE, 2 * FACE)
        picture = decoder.wait_picture(0.0).frame.to_ndarray(format="rgb24").astype(int)
    finally:
        decoder.close()
    error = np.abs(picture - canvas).max(axis=-1)
    seams = [FACE // 2, 2 * FACE + FACE // 2]  # down the middle of each row's side faces
    for seam in seams:
        assert error[:, seam - 4:seam + 4].mean() < 12, seam
    assert error.mean() < 12
    # The measure can fail: the same picture a column off beyond a seam is far from the canvas there.
    off = picture.copy()
    off[:, seams[0]:] = np.roll(picture, 1, axis=1)[:, seams[0]:]
    assert np.abs(off - canvas).max(axis=-1)[:, seams[0] - 4:seams[0] + 4].mean() >= 12


def test_its_sound_is_the_ambisonic_track_turned_with_the_head(gopro, tmp_path):
    """The PCM track's tone comes from the left (the stereo AAC is silent): facing ahead the left ear hears more;
    turned to face it, both ears hear it alike."""
    film, _ = gopro

    def ears(yaw):
        out = tmp_path / f"ears_{yaw}.wav"
        result = run_cli("render-audio", film, "-o", out, "--yaw", yaw)
        assert result.returncode == 0, result.stderr
        samples = read_wav(out)
        return np.sqrt((samples ** 2).mean(axis=0))

    ahead, facing = ears(0), ears(-90)
    assert ahead.max() > 0.01, "silent: the stereo mix was played, not the sound field"
    assert ahead[0] > 1.5 * ahead[1]
    assert abs(facing[0] - facing[1]) < 0.25 * facing.max()


def test_a_takes_chapters_play_as_one_film(tmp_path):
    """GS01…, GS02… beside each other are one recording: opened at its first chapter the take plays on through the
    second (one timeline, seekable both ways, the sound too); a chapter that is not there ends the take before it."""
    for chapter, level in ((1, 60), (2, 200), (4, 120)):  # (no third chapter: the fourth is not part of the take)
        gopro_max(tmp_path / f"GS0{chapter}0050.360", np.full((2 * FACE, 3 * FACE, 3), level, np.uint8), seconds=1.0)
    first = tmp_path / "GS010050.360"
    result = run_cli("probe", first)
    assert result.returncode == 0, result.stderr
    assert "chapters:    GS010050.360 + GS020050.360, played as one film" in result.stdout
    assert json.loads(run_cli("probe", "--json", first).stdout)["duration"] == pytest.approx(2.0, abs=0.05)
    for at, level in ((1.5, 200), (0.5, 60), (1.05, 200), (0.95, 60)):
        picture = snapshot_at(first, tmp_path / "at.png", at)
        assert abs(picture.mean() - level) < 6, (at, picture.mean())
    result = run_cli("render-audio", first, "-o", tmp_path / "take.wav")
    assert result.returncode == 0, result.stderr
    assert len(read_wav(tmp_path / "take.wav")) == pytest.approx(2 * 48000, abs=2400)
    # Opened at the second chapter, the take plays from there on; a damaged later chapter is named in one line.
    assert json.loads(run_cli("probe", "--json", tmp_path / "GS020050.360").stdout)["duration"] == pytest.approx(1.0, abs=0.05)
    (tmp_path / "GS030050.360").write_bytes(b"not a film at all")
    result = run_cli("snapshot", first, "-o", tmp_path / "broken.png")
    assert result.returncode != 0
    assert "GS030050.360: a chapter of" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def snapshot_at(film, out, at) -> np.ndarray:
    result = run_cli("snapshot", film, "--at", at, "--size", "64x48", "-o", out)
    assert result.returncode == 0, result.stderr
    return read_png(str(out)).astype(float)


# --- Insta360 ---------------------------------------------------------------------------------------------------

LENS = 192  # each lens's square picture


@pytest.fixture(scope="module")
def dual_fisheye(scene):
    """The scene as an upright dual fisheye of 200° lenses (v360: back lens left, front right)."""
    return v360_convert(scene, "dfisheye", (2 * LENS, LENS), ":h_fov=200:v_fov=200")


@pytest.mark.parametrize("kind", ["one", "streams", "two"])
def test_an_insta360_take_looks_like_its_lenses_upright(dual_fisheye, kind, tmp_path):
    """One file of both lenses, one square stream per lens, or one file per lens: each lens turned as the camera
    records it; drawn with the default lens model, the take looks like v360's view of the upright pair."""
    from camera_films import insta360_insv

    film = insta360_insv(tmp_path, dual_fisheye, kind)
    for view in [FRONT, BACK, (90, 0, 0, 90), (-90, 30, 0, 90), UP]:
        ours = snapshot(film, tmp_path / "insv.png", view)
        theirs, _ = v360_view(dual_fisheye, "dfisheye:ih_fov=200:iv_fov=200", view, VIEW)
        assert psnr(ours, theirs) >= 30.0, (kind, view, psnr(ours, theirs))
    result = run_cli("probe", film)
    assert result.returncode == 0, result.stderr
    assert "camera:      Insta360 Insta360 X3" in result.stdout
    assert "seams show where the lenses meet" in result.stdout
    assert "projection:  dual-fisheye, 360°×180° — camera file (Insta360 Insta360 X3)" in result.stdout
    assert "its trailer says: camera Insta360 X3" in result.stdout


def test_a_two_file_take_missing_its_other_lens_says_so_in_one_line(dual_fisheye, tmp_path):
    from camera_films import insta360_insv

    film = insta360_insv(tmp_path, dual_fisheye, "two")
    (tmp_path / "VID_20260101_120000_10_009.insv").unlink()
    result = run_cli("probe", film)
    assert result.returncode == 0, result.stderr
    missing = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert missing == ["warning:     VID_20260101_120000_00_009.insv: the other lens's file of its take"
                       " (VID_20260101_120000_10_009.insv) is missing: showing one lens; copy it beside this one"]
    assert run_cli("snapshot", film, "-o", tmp_path / "one_lens.png", "--size", "64x48").returncode == 0


def test_the_manifest_gives_a_units_own_lens_circles(dual_fisheye, tmp_path):
    """A unit whose circles sit off centre: the manifest's lenses (pixels of the whole picture) put them right."""
    from camera_films import insta360_insv

    shifted = np.zeros_like(dual_fisheye)
    shifted[6:, : LENS - 4] = dual_fisheye[:-6, 4:LENS]  # the left lens 4 px left and 6 px down
    shifted[:, LENS:] = dual_fisheye[:, LENS:]
    film = insta360_insv(tmp_path, shifted, "one")
    # The manifest names the circles as recorded (turned): the left circle's centre moved with the turn.
    centre_left = (LENS / 2 - 6, LENS / 2 - 4)  # turned clockwise: down becomes left, left becomes up
    (tmp_path / (film.name + ".json")).write_text(json.dumps({"lenses": [
        {"centre": list(centre_left), "radius": LENS / 2, "turn": 90},
        {"centre": [LENS * 1.5, LENS / 2], "radius": LENS / 2, "turn": -90}]}))
    view = (180, 0, 0, 90)  # the back lens's middle
    theirs, _ = v360_view(dual_fisheye, "dfisheye:ih_fov=200:iv_fov=200", view, VIEW)
    assert psnr(snapshot(film, tmp_path / "calibrated.png", view), theirs) >= 30.0
    (tmp_path / (film.name + ".json")).unlink()
    assert psnr(snapshot(film, tmp_path / "default.png", view), theirs) < 30.0  # (the default model is off there)


def test_the_insv_trailer_is_read(tmp_path):
    from camera_films import insv_trailer
    from vrplayer.cameras.insta360 import read_trailer

    film = tmp_path / "take.insv"
    film.write_bytes(b"\0" * 100 + insv_trailer("Insta360 X4", posture=90, file_index=1, size=(2880, 1440),
                                               orientations=[(0.0, 1, 0, 0, 0), (0.5, 0.99, 0.1, 0, 0)]))
    trailer = read_trailer(str(film))
    assert (trailer.camera_type, trailer.posture, trailer.file_index, trailer.size) == ("Insta360 X4", 90, 1, (2880, 1440))
    assert trailer.orientations == [(0.0, 1, 0, 0, 0), (0.5, 0.99, 0.1, 0, 0)] and trailer.problems == []
    damaged = tmp_path / "damaged.insv"
    data = bytearray(film.read_bytes())
    data[-40:-36] = (10 ** 9).to_bytes(4, "little")  # a total size beyond the file
    damaged.write_bytes(bytes(data))
    assert read_trailer(str(damaged)).problems == ["its trailer claims 1000000000 bytes, more than it can hold"]
    assert read_trailer(str(tmp_path / "take.insv.missing")) is None


# --- Canon RF 5.2 mm dual fisheye --------------------------------------------------------------------------------

def test_a_canon_dual_fisheye_film_is_a_vr180_pair_with_its_eyes_swapped(scene, tmp_path):
    """Recognised by its tags; the left half is the right eye's; the circles (92.8 % of the height, 190°) drawn as
    the lens drew them — and an ordinary film with the same picture is not taken for one."""
    from camera_films import canon_dual_fisheye
    from vrplayer.cameras import facts

    wide_fov = facts.CANON_LENS_FOV / facts.CANON_CIRCLE_DIAMETER  # the 190° circle spans 92.8 % of the square
    eye = v360_convert(scene, "fisheye", (LENS, LENS), f":h_fov={wide_fov}:v_fov={wide_fov}")
    left, right = eye, (eye * np.array((0.6, 0.6, 1.0))).astype(np.uint8)  # the right eye's bluer
    film = canon_dual_fisheye(tmp_path / "A001C002_R5C.MP4", right, left)
    result = run_cli("probe", film)
    assert result.returncode == 0, result.stderr
    assert "camera:      Canon EOS R5 C with the RF5.2mm F2.8 L DUAL FISHEYE" in result.stdout
    assert "stereo:      side-by-side, eyes swapped (right eye first) — camera file" in result.stdout
    assert "fov:         190° lens — camera file" in result.stdout
    for which, picture in (("left", left), ("right", right)):
        for view in [FRONT, (40, 20, 0, 90), (-60, -30, 10, 90)]:
            ours = snapshot_eye(film, tmp_path / "canon.png", view, which)
            theirs, valid = v360_view(picture, f"fisheye:ih_fov={wide_fov}:iv_fov={wide_fov}", view, VIEW)
            # (v360's picture goes on past the 190° circle, where the lens saw nothing: compared inside it)
            inside = valid & (theirs.max(axis=-1) > 0.02) & (ours.max(axis=-1) > 0.02)
            assert inside.mean() > 0.6, (which, view)
            assert psnr(ours[inside], theirs[inside]) >= 30.0, (which, view, psnr(ours[inside], theirs[inside]))
    plain = tmp_path / "plain_dual.mp4"
    with av.open(str(film)) as source, av.open(str(plain), "w") as copy:
        stream = copy.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                copy.mux(packet)
    assert "camera:" not in run_cli("probe", plain).stdout


def snapshot_eye(film, out, view, eye) -> np.ndarray:
    yaw, pitch, roll, fov = view
    result = run_cli("snapshot", film, "--yaw", yaw, "--pitch", pitch, "--roll", roll, "--fov", fov, "--eye", eye,
                     "--size", f"{VIEW[0]}x{VIEW[1]}", "-o", out)
    assert result.returncode == 0, result.stderr
    return read_png(str(out)) / 255.0


# --- a level horizon -----------------------------------------------------------------------------------------------

SKY, GROUND = np.array([90, 160, 230]), np.array([120, 80, 40])


def tilted_world(pitch: float, roll: float, size=(512, 256)) -> np.ndarray:
    """What a camera pitched and rolled so (degrees) records of a world of sky over ground, as equirect."""
    from vrplayer.geometry import view_rotation

    w, h = size
    lon = np.radians((np.arange(w) + 0.5) / w * 360 - 180)
    lat = np.radians(90 - (np.arange(h) + 0.5) / h * 180)
    lon, lat = np.meshgrid(lon, lat)
    d = np.stack([np.cos(lat) * np.sin(lon), -np.sin(lat), np.cos(lat) * np.cos(lon)], -1)
    world = d @ view_rotation(0.0, pitch, roll).T  # the camera's directions, in the world
    up = np.clip(-world[..., 1] * 40 + 0.5, 0, 1)[..., None]  # a sharp (anti-aliased) horizon
    return (up * SKY + (1 - up) * GROUND).astype(np.uint8)


def horizon(picture: np.ndarray) -> tuple[float, float]:
    """(angle in degrees, row at the middle column) of the sky/ground line in a view: per column, where blue
    crosses halfway between the two, fitted with a line."""
    blue = picture[..., 2].astype(float)
    middle = (SKY[2] + GROUND[2]) / 2
    rows, columns = [], []
    for x in range(4, picture.shape[1] - 4):
        column = blue[:, x]
        crossing = np.nonzero((column[:-1] >= middle) & (column[1:] < middle))[0]
        if len(crossing) == 1:
            y = crossing[0]
            rows.append(y + (column[y] - middle) / (column[y] - column[y + 1]) + 0.5)
            columns.append(x + 0.5)
    slope, offset = np.polyfit(columns, rows, 1)
    return float(np.degrees(np.arctan(slope))), float(slope * picture.shape[1] / 2 + offset)


def test_level_turns_a_tilted_camera_film_level(tmp_path):
    """A camera pitched 8°→14° and rolled 15°→5° over a second, its orientation in the Insta360 trailer: with
    --level the horizon is level in every direction and at every moment (within 0.5°, in snapshots), between
    samples too; without, it tilts as the camera did."""
    from camera_films import insta360_insv
    from vrplayer.geometry import view_rotation
    from vrplayer.xr_pose import quaternion_from_rotation

    def tilt(t):
        return 8 + 6 * t, 15 - 10 * t

    fps, seconds = 10, 1.0
    frames = [v360_convert(tilted_world(*tilt(i / fps)), "dfisheye", (2 * LENS, LENS), ":h_fov=200:v_fov=200")
              for i in range(int(seconds * fps))]
    samples = []
    for t in np.arange(0, seconds + 1e-9, 0.25):  # fewer samples than frames: the turn is interpolated between
        x, y, z, w = quaternion_from_rotation(view_rotation(0.0, *tilt(t)))
        samples.append((float(t), w, x, y, z))
    film = insta360_insv(tmp_path, frames, "one", seconds=seconds, fps=fps, orientations=samples)
    size = (320, 240)
    rows_per_degree = size[1] / 2 / np.degrees(np.arctan(np.tan(np.radians(45)) * size[1] / size[0]))
    for at in (0.0, 0.4, 0.8):
        for yaw in (0, 90, -90, 180, 45):
            args = ("--at", at, "--yaw", yaw, "--pitch", 0, "--size", f"{size[0]}x{size[1]}")
            result = run_cli("snapshot", film, *args, "--level", "-o", tmp_path / "level.png")
            assert result.returncode == 0, result.stderr
            angle, row = horizon(read_png(str(tmp_path / "level.png")))
            assert abs(angle) <= 0.5, (at, yaw, angle)
            assert abs(row - size[1] / 2) <= 0.5 * rows_per_degree, (at, yaw, row)
    result = run_cli("snapshot", film, "--at", 0.0, "--yaw", 0, "--size", f"{size[0]}x{size[1]}", "-o", tmp_path / "as_filmed.png")
    assert result.returncode == 0, result.stderr
    assert abs(horizon(read_png(str(tmp_path / "as_filmed.png")))[0]) > 10  # (rolled 15°: the measure can fail)
    probe = run_cli("probe", film).stdout
    assert "5 orientation samples" in probe


def test_level_from_a_gopro_films_gravity_telemetry(tmp_path):
    """A GoPro MAX film rolled 12° and pitched 6°, its GPMF gravity vector in a "GoPro MET" track: level with
    --level (within 0.5°), tilted without."""
    from vrplayer.cameras.level import tilt_from_gravity
    from vrplayer.geometry import view_rotation

    pitch, roll = 6.0, 12.0
    down = view_rotation(0.0, pitch, roll).T @ np.array([0.0, 1.0, 0.0])  # gravity, in the camera's axes
    assert tilt_from_gravity(*down) == pytest.approx((pitch, roll))
    padded = v360_convert(tilted_world(pitch, roll), "eac", (3 * FACE + 2 * PAD, 2 * FACE + 4 * PAD))
    film = gopro_max(tmp_path / "GS010077.360", unpad_rows(padded, FACE), seconds=1.0, sound_azimuth=None,
                     gravity=lambda t: tuple(down))
    assert "its telemetry track can keep the horizon level (--level)" in run_cli("probe", film).stdout
    size = (320, 240)
    rows_per_degree = size[1] / 2 / np.degrees(np.arctan(size[1] / size[0]))
    for yaw in (0, 120, -100):
        result = run_cli("snapshot", film, "--yaw", yaw, "--pitch", 0, "--size", f"{size[0]}x{size[1]}", "--level",
                         "-o", tmp_path / "level.png")
        assert result.returncode == 0, result.stderr
        assert "horizon levelled from 20 gravity samples (GPMF GRAV)" in result.stderr
        angle, row = horizon(read_png(str(tmp_path / "level.png")))
        assert abs(angle) <= 0.5 and abs(row - size[1] / 2) <= 0.5 * rows_per_degree, (yaw, angle, row)
    result = run_cli("snapshot", film, "--yaw", 0, "--size", f"{size[0]}x{size[1]}", "-o", tmp_path / "as_filmed.png")
    assert abs(horizon(read_png(str(tmp_path / "as_filmed.png")))[0]) > 8


@pytest.fixture(scope="module")
def tilted_gopro(tmp_path_factory):
    padded = v360_convert(tilted_world(6.0, 12.0), "eac", (3 * FACE + 2 * PAD, 2 * FACE + 4 * PAD))
    down = tuple(__import__("vrplayer.geometry", fromlist=["view_rotation"]).view_rotation(0.0, 6.0, 12.0).T
                 @ np.array([0.0, 1.0, 0.0]))
    return gopro_max(tmp_path_factory.mktemp("tilted") / "GS010078.360", unpad_rows(padded, FACE), seconds=3.0,
                     sound_azimuth=None, gravity=lambda t: down)


def test_compare_and_the_desk_level_by_default(tilted_gopro, xvfb, tmp_path):
    """compare levels each cut by default (--no-level shows them as filmed); so does the creator's desk (a desktop
    window of films), and key G takes the levelling off and on again."""
    import subprocess
    import sys
    import time

    from conftest import ROOT
    from test_desktop import close_window, find_window, focus, window_picture, xdotool

    for flags, level in (((), True), (("--no-level",), False)):
        out = tmp_path / "compared.png"
        result = run_cli("compare", tilted_gopro, tilted_gopro, "--mode", "split", "--no-label", "--size", "320x240",
                         "-o", out, *flags)
        assert result.returncode == 0, result.stderr
        angle, _ = horizon(read_png(str(out))[:, :150])
        assert (abs(angle) <= 0.5) if level else (abs(angle) > 8), (flags, angle)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrplayer", "play", str(tilted_gopro), "--display", "desktop", "--no-audio", "--loop",
         "--size", "320x240", "--duration", "30"],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        window = find_window(xvfb)
        focus(xvfb, window)
        time.sleep(1.0)
        levelled = horizon(window_picture(xvfb, window))[0]
        xdotool(xvfb, "key", "--window", window, "g")
        time.sleep(0.6)
        as_filmed = horizon(window_picture(xvfb, window))[0]
    finally:
        close_window(xvfb, window, proc)
    assert abs(levelled) <= 0.5 and abs(as_filmed) > 8, (levelled, as_filmed)


def test_damaged_telemetry_and_trailer_records_are_refused_not_trusted():
    """GPMF and protobuf read strictly: an entry running past its container, or a varint past the message, is a
    ValueError (the readers skip that payload, and the film plays without it)."""
    from camera_films import gpmf_gravity
    from vrplayer.cameras import gpmf, protobuf

    payload = gpmf_gravity([(0.0, 1.0, 0.0), (0.1, 0.99, 0.0)])
    assert gpmf.streams(payload)["GRAV"] == [pytest.approx((0.0, 1.0, 0.0), abs=1e-4), pytest.approx((0.1, 0.99, 0.0), abs=1e-4)]
    with pytest.raises(ValueError, match="runs past"):
        gpmf.streams(payload[:-6])
    with pytest.raises(ValueError, match="runs past"):
        protobuf.fields(b"\x12\x10abc")  # a 16-byte string in 3 bytes
    with pytest.raises(ValueError, match="varint"):
        protobuf.fields(b"\x08\xff\xff")


def test_level_from_a_vr180_cameras_camm_track(tmp_path):
    """An equirect film from a camera pitched 10° and rolling 4°→-8°, its orientation in a camm track (angle-axis):
    level with --level (within 0.5°), between samples too."""
    from camera_films import with_camm
    from vrplayer.cameras.camm import rotation_from_angle_axis
    from vrplayer.geometry import view_rotation

    def tilt(t):
        return 10.0, 4.0 - 12.0 * t

    def angle_axis(rotation):
        angle = np.arccos(np.clip((np.trace(rotation) - 1) / 2, -1, 1))
        axis = np.array([rotation[2, 1] - rotation[1, 2], rotation[0, 2] - rotation[2, 0], rotation[1, 0] - rotation[0, 1]])
        return tuple(axis / (2 * np.sin(angle)) * angle)

    rotation = view_rotation(0.0, *tilt(0.3))
    np.testing.assert_allclose(rotation_from_angle_axis(*angle_axis(rotation)), rotation, atol=1e-9)
    fps = 10
    pictures = [tilted_world(*tilt(i / fps)) for i in range(10)]
    film = with_camm(tmp_path / "motion_take.mp4", pictures, fps,
                     [(t, angle_axis(view_rotation(0.0, *tilt(t)))) for t in np.arange(0, 1.01, 0.2)])
    assert "its camm motion track can keep the horizon level (--level)" in run_cli("probe", film).stdout
    size = (320, 240)
    rows_per_degree = size[1] / 2 / np.degrees(np.arctan(size[1] / size[0]))
    for at in (0.0, 0.5):
        for yaw in (0, 130):
            result = run_cli("snapshot", film, "--at", at, "--yaw", yaw, "--pitch", 0, "--size", f"{size[0]}x{size[1]}",
                             "--level", "-o", tmp_path / "level.png")
            assert result.returncode == 0, result.stderr
            angle, row = horizon(read_png(str(tmp_path / "level.png")))
            assert abs(angle) <= 0.5 and abs(row - size[1] / 2) <= 0.5 * rows_per_degree, (at, yaw, angle, row)


# --- Apple spatial video --------------------------------------------------------------------------------------------

def with_vexu(film, target, stri_flags: int):
    """A copy of an HEVC film whose sample entry carries Apple's `vexu` box, its `eyes`/`stri` flags these."""
    from test_spherical import Box, find, rewrite, video_trak

    vexu = Box(b"vexu", children=[Box(b"eyes", children=[Box(b"stri", bytes(4) + bytes([stri_flags]))])])

    def edit(tree):
        stsd = find(video_trak(tree).children, b"mdia", b"minf", b"stbl", b"stsd")
        entry = next(b for b in stsd.children if b.fourcc in (b"hvc1", b"hev1"))
        entry.children = (entry.children or []) + [vexu]

    return rewrite(film, target, edit)


def test_apple_spatial_video_plays_its_base_layer_as_a_flat_film_and_says_why(make_film, tmp_path):
    """An HEVC film whose sample entry carries Apple's `vexu` (eyes: left and right) but only its base layer:
    recognised, drawn as a flat film, and one line saying that FFmpeg decodes one view of it."""
    plain = make_film("spatial_base.mp4", width=320, height=180, seconds=1.0, audio=False, fps=10, codec="libx265")
    film = with_vexu(plain, tmp_path / "IMG_0042.MOV.mp4", 0x03)
    result = run_cli("probe", film)
    assert result.returncode == 0, result.stderr
    assert "camera:      Apple spatial video (MV-HEVC)" in result.stdout
    assert "projection:  flat" in result.stdout
    warnings = [line for line in result.stdout.splitlines() if "spatial video" in line and line.startswith("warning:")]
    assert warnings == ["warning:     IMG_0042.MOV.mp4: Apple spatial video: playing its base layer (the left eye) as a"
                        " flat 2-D film: FFmpeg decodes one view of it (its second view is missing or not one FFmpeg"
                        " here can decode)"]
    assert run_cli("snapshot", film, "-o", tmp_path / "spatial.png", "--size", "64x36").returncode == 0
    assert "camera:" not in run_cli("probe", plain).stdout


def test_the_overview_of_a_levelled_film_has_its_horizon_on_the_equator(tilted_gopro, tmp_path):
    """With --level the whole picture unwrapped shows the horizon straight along its middle (within 0.5°); as
    filmed, it waves round the sphere by the camera's tilt."""
    size = (720, 360)  # two pixels a degree

    def horizon_rows(*flags):
        result = run_cli("snapshot", tilted_gopro, "--overview", "--size", f"{size[0]}x{size[1]}", "-o",
                         tmp_path / "overview.png", *flags)
        assert result.returncode == 0, result.stderr
        picture = read_png(str(tmp_path / "overview.png")).astype(int)
        sky = picture[..., 2] > picture[..., 0]  # (blue over red: sky, dimmed or not, outside the headset's outline)
        away = np.r_[0:size[0] // 2 - 150, size[0] // 2 + 150:size[0]]  # the columns the outline (±55°) does not cross
        return sky[:, away].sum(axis=0)  # sky rows from the top of each column: where its horizon is

    level = horizon_rows("--level")
    assert np.abs(level - size[1] / 2).max() <= 1.0, (level.min(), level.max())  # (0.5° is a row)
    assert np.ptp(horizon_rows()) > 20  # as filmed: 6° and 12° of tilt make it wave


SPATIAL_FILM = ROOT / "sample_media" / "spatial_two_views.mov"


def _eye_seen(picture: np.ndarray) -> tuple[str, str, int]:
    """What one eye's snapshot of the spatial test film shows (sample_media/spatial_film.py): which band ("red" or
    "blue"), on which side of the screen's centre its white block is, and the frame the bar at its foot counts."""
    from spatial_film import BAR_STEP, HEIGHT, WIDTH

    lit = picture.max(axis=2) > 60
    rows, columns = np.flatnonzero(lit.any(axis=1)), np.flatnonzero(lit.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1], columns[0], columns[-1]
    scale = (right - left + 1) / WIDTH
    band = picture[top + 2, (left + right) // 2].astype(int)
    white = np.flatnonzero((picture[(top + bottom) // 2] > 230).all(axis=1))
    foot = picture[bottom - round(4 * scale), left:right + 1].max(axis=1)  # the bar's row: black from the left
    bar = np.flatnonzero(foot > 60)[0] / scale
    assert abs(bottom - top + 1 - HEIGHT * scale) <= 2
    return ("red" if band[0] > band[2] else "blue", "left" if white.mean() < (left + right) / 2 else "right",
            round(bar / BAR_STEP) - 1)


def test_apple_spatial_video_plays_both_views_each_to_its_eye(tmp_path):
    """An MV-HEVC film of two views (made by x265 with multiview, sample_media/spatial_film.py): both decoded in
    lockstep, the base layer to the left eye and the second view to the right, the same frame in both at every
    moment; a `stri` that says the views are reversed swaps them."""
    result = run_cli("probe", SPATIAL_FILM)
    assert result.returncode == 0, result.stderr
    assert "camera:      Apple spatial video (MV-HEVC)" in result.stdout
    assert "both views decoded, each to its eye" in result.stdout
    assert "stereo:      side-by-side" in result.stdout and "warning:" not in result.stdout, result.stdout

    def seen(film, at, eye):
        out = tmp_path / f"{eye}.png"
        shot = run_cli("snapshot", film, "--at", at, "--eye", eye, "--size", "320x180", "-o", out)
        assert shot.returncode == 0, shot.stderr
        return _eye_seen(read_png(str(out)))

    for at, frame in ((0.05, 0), (0.35, 3), (0.95, 9)):
        assert seen(SPATIAL_FILM, at, "left") == ("red", "left", frame)
        assert seen(SPATIAL_FILM, at, "right") == ("blue", "right", frame)

    swapped = with_vexu(SPATIAL_FILM, tmp_path / "reversed.mov", 0x0B)  # both eyes, the views reversed
    assert "the second view the left eye" in run_cli("probe", swapped).stdout
    assert seen(swapped, 0.35, "left") == ("blue", "right", 3)
    assert seen(swapped, 0.35, "right") == ("red", "left", 3)
