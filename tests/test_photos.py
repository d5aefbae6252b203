"""360 photos: stills made here with each kind of metadata (plain equirect in JPEG, PNG, WebP and HEIC; a GPano
partial panorama with its initial view; a stereo still by name; a VR180 photo whose right eye is embedded in its
extended XMP) rendered through the real renderer and compared with FFmpeg's v360 reading the same files; a photo
on screen for --photo-seconds (timing log), the keys that move on, a slideshow, and photos in a kiosk programme."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
import struct
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, VRPLAYER, run_cli, timing_pictures
from test_layouts_reference import equirect_scene
from vrplayer.media import photo, xmp
from vrplayer.media.probe import decide_film_layout
from vrplayer.render import projection
from vrplayer.snapshot import render_view

SIZE = (320, 180)
MIN_PSNR = 40.0
GPANO = "http://ns.google.com/photos/1.0/panorama/"


def xmp_packet(gpano: dict | None = None, extended_guid: str | None = None, gimage: dict | None = None) -> bytes:
    """An XMP packet as cameras write it: properties as attributes of one rdf:Description."""
    attributes = "".join(f' GPano:{key}="{value}"' for key, value in (gpano or {}).items())
    attributes += "".join(f' GImage:{key}="{value}"' for key, value in (gimage or {}).items())
    if extended_guid:
        attributes += f' xmpNote:HasExtendedXMP="{extended_guid}"'
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:GPano="{GPANO}" xmlns:GImage="http://ns.google.com/photos/1.0/image/"'
        f' xmlns:xmpNote="http://ns.adobe.com/xmp/note/"{attributes}/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _segment(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def write_jpeg(path, pixels: np.ndarray, main: bytes | None = None, extended: bytes | None = None,
               step: int = 65000) -> None:
    """A JPEG (4:4:4, quality 95) with the XMP packet in its APP1 segment and an extended packet split over as
    many further APP1 segments as it needs (`step` bytes each), as the XMP specification lays them out."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95, subsampling=0)
    body = out.getvalue()
    segments = b"" if main is None else _segment(xmp.MAIN_SIGNATURE + main)
    if extended is not None:
        guid = hashlib.md5(extended).hexdigest().upper().encode()
        for offset in range(0, len(extended), step):
            segments += _segment(xmp.EXTENSION_SIGNATURE + guid + struct.pack(">II", len(extended), offset)
                                 + extended[offset:offset + step])
    path.write_bytes(body[:2] + segments + body[2:])


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95, subsampling=0)
    return out.getvalue()


def v360_of_file(path, view, size=SIZE, before: str = "") -> np.ndarray:
    """FFmpeg reading the photo file itself (its own decoder), `before` filters first (a pad), then v360's view."""
    yaw, pitch, roll, fov = view
    graph = (f"{before}format=gbrp,v360=input=e:output=flat:yaw={yaw}:pitch={pitch}:roll={roll}:h_fov={fov}:"
             f"v_fov={projection.vertical_fov(fov, *size)}:w={size[0]}:h={size[1]}:interp=linear,format=rgb24")
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", graph, "-frames:v", "1", "-f", "rawvideo",
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(size[1], size[0], 3) / 255.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def snapshot(path, view, eye="left", start=None):
    """Our picture of the photo: the real renderer, offscreen. `start`: (yaw, pitch, roll) or None each for the
    photo's own initial view."""
    yaw, pitch, roll, fov = view
    picture, state = render_view(str(path), 0.0, start or (yaw, pitch, roll), fov, SIZE, eye=eye)
    return picture / 255.0, state


def covered(path, view, eye="left"):
    """Where the photo's decided layout reaches in the view (the numpy reference's coverage)."""
    facts = photo.read_facts(str(path))
    layout = decide_film_layout(str(path), facts.width, facts.height).layout
    rays = projection.view_rays(*SIZE, *view)
    picture = np.zeros((facts.height, facts.width, 3))
    return projection.sample_layout(picture, layout, rays, eye)[1], layout


VIEWS = [(0, 0, 0, 90), (140, -20, 0, 90), (-60, 45, 10, 100)]


@pytest.fixture(scope="module")
def scene():
    return equirect_scene(1024, 512), equirect_scene(1024, 512, variant=1.7)


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_an_equirect_photo_renders_as_v360_sees_it(tmp_path, scene, kind):
    left, _ = scene
    path = tmp_path / f"sphere.{kind.lower()}"
    if kind == "JPEG":
        write_jpeg(path, left, xmp_packet({"ProjectionType": "equirectangular", "UsePanoramaViewer": "True"}))
    elif kind == "HEIF":
        Image.fromarray(left).save(path, format="HEIF", quality=95)
    else:
        Image.fromarray(left).save(path, format=kind, lossless=True)
    # FFmpeg has no HEIC reader: v360 reads the pixels pillow-heif decoded, written out losslessly.
    reference_file = path
    if kind == "HEIF":
        reference_file = tmp_path / "decoded.png"
        Image.open(path).convert("RGB").save(reference_file)
    for view in VIEWS:
        ours, _ = snapshot(path, view)
        score = psnr(ours, v360_of_file(reference_file, view))
        assert score >= MIN_PSNR, f"{kind} at {view}: PSNR {score:.1f} dB against v360"


def test_probe_says_what_a_photo_is_and_where_each_fact_came_from(tmp_path, scene):
    left, _ = scene
    path = tmp_path / "pano.jpg"
    crop = left[128:384, 256:768]  # 180° × 90° of the sphere, centred
    write_jpeg(path, crop, xmp_packet({
        "ProjectionType": "equirectangular", "FullPanoWidthPixels": 1024, "FullPanoHeightPixels": 512,
        "CroppedAreaImageWidthPixels": 512, "CroppedAreaImageHeightPixels": 256, "CroppedAreaLeftPixels": 256,
        "CroppedAreaTopPixels": 128, "InitialViewHeadingDegrees": 120, "PoseHeadingDegrees": 90,
        "InitialViewPitchDegrees": 10,
    }))
    result = run_cli("probe", path, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["container"] == "photo (JPEG)" and info["duration"] is None
    layout = info["layout"]
    assert layout["covered"] == {"horizontal": 180.0, "vertical": 90.0}
    assert layout["initial_view"] == {"yaw": 30.0, "pitch": 10.0, "roll": 0.0}
    assert layout["sources"]["projection"] == "metadata (GPano XMP)"
    assert layout["sources"]["coverage"] == "metadata (GPano XMP)"
    assert layout["sources"]["initial_view"] == "metadata (GPano XMP)"
    text = run_cli("probe", path).stdout
    assert "photo (JPEG), a still picture" in text and "180°×90° — metadata (GPano XMP)" in text


def test_a_partial_panorama_sits_where_its_gpano_says_and_faces_its_initial_view(tmp_path, scene):
    left, _ = scene
    path = tmp_path / "partial.jpg"
    write_jpeg(path, left[128:384, 256:768], xmp_packet({
        "FullPanoWidthPixels": 1024, "FullPanoHeightPixels": 512, "CroppedAreaImageWidthPixels": 512,
        "CroppedAreaImageHeightPixels": 256, "CroppedAreaLeftPixels": 256, "CroppedAreaTopPixels": 128,
        "InitialViewHeadingDegrees": 40,
    }))
    pad = "pad=1024:512:256:128:black,"  # the crop back in its full panorama: what v360 needs to see it whole
    for view in [(0, 0, 0, 90), (60, 20, 0, 90), (85, 0, 0, 90)]:
        ours, _ = snapshot(path, view)
        reference = v360_of_file(path, view, before=pad)
        valid, layout = covered(path, view)
        assert (layout.crop_left, layout.crop_top) == (0.25, 0.25)
        score = psnr(ours[valid], reference[valid])
        assert score >= MIN_PSNR, f"at {view}: PSNR {score:.1f} dB against v360"
        border = 2 * sum(SIZE)
        assert np.count_nonzero(ours[~valid].max(axis=-1) > 2 / 255) <= border, f"at {view}: not black outside"
    # Any time shows it: a photo has no end.
    at_later = tmp_path / "later.png"
    result = run_cli("snapshot", path, "--at", "3600", "--yaw", "60", "--pitch", "20", "--size", "320x180", "-o", at_later)
    assert result.returncode == 0, result.stderr
    from vrplayer.snapshot import read_png

    assert psnr(read_png(str(at_later)) / 255.0, snapshot(path, (60, 20, 0, 90))[0]) > 60
    # With no view asked for, the photo opens on its initial view: 40° right of its centre.
    ours, state = snapshot(path, (0, 0, 0, 90), start=(None, None, None))
    assert state.yaw == pytest.approx(40.0)
    assert psnr(ours, v360_of_file(path, (40, 0, 0, 90), before=pad)) >= MIN_PSNR


def test_a_stereo_still_by_name_shows_each_eye(tmp_path, scene):
    left, right = scene
    path = tmp_path / "still_TB.png"
    Image.fromarray(np.concatenate([left, right], axis=0)).save(path)
    right_file = tmp_path / "right.png"
    Image.fromarray(right).save(right_file)
    for view in VIEWS[:2]:
        ours, _ = snapshot(path, view, eye="right")
        assert psnr(ours, v360_of_file(right_file, view)) >= MIN_PSNR
        ours_left, _ = snapshot(path, view, eye="left")
        assert psnr(ours_left, v360_of_file(right_file, view)) < 25, "the left eye shows the right eye's picture"


def vr180_photo(tmp_path, scene, name="vr180.jpg"):
    """A VR180 camera's photo: the left eye in the JPEG, 180° × 180° of its sphere (GPano crop), the right eye a
    JPEG in base64 in the extended XMP (over 64 KB: split across segments), as Google's VR180 format has it."""
    left, right = scene
    left_eye, right_eye = left[:, 256:768], right[:, 256:768]
    data = base64.b64encode(jpeg_bytes(right_eye)).decode()
    extended = xmp_packet(gimage={"Mime": "image/jpeg", "Data": data})
    guid = hashlib.md5(extended).hexdigest().upper()
    main = xmp_packet({"ProjectionType": "equirectangular", "FullPanoWidthPixels": 1024, "FullPanoHeightPixels": 512,
                       "CroppedAreaImageWidthPixels": 512, "CroppedAreaImageHeightPixels": 512,
                       "CroppedAreaLeftPixels": 256, "CroppedAreaTopPixels": 0}, extended_guid=guid)
    path = tmp_path / name
    write_jpeg(path, left_eye, main, extended, step=20000)  # (a camera's eye is bigger: split at 64 KB)
    right_file = tmp_path / "right-eye.jpg"
    right_file.write_bytes(jpeg_bytes(right_eye))
    assert len(extended) > 2 * 20000  # the right eye really is split across segments
    return path, right_file


def test_a_vr180_photo_shows_its_embedded_right_eye(tmp_path, scene):
    path, right_file = vr180_photo(tmp_path, scene)
    result = run_cli("probe", path, "--json")
    layout = json.loads(result.stdout)["layout"]
    assert layout["stereo"] == "side-by-side" and layout["sources"]["stereo"] == f"metadata ({photo.RIGHT_EYE_SOURCE})"
    assert layout["covered"] == {"horizontal": 180.0, "vertical": 180.0}
    pad = "pad=1024:512:256:0:black,"
    for view in [(0, 0, 0, 90), (50, -30, 0, 90)]:
        valid, _ = covered(path, view, "right")
        ours_right, _ = snapshot(path, view, eye="right")
        ours_left, _ = snapshot(path, view, eye="left")
        assert psnr(ours_right[valid], v360_of_file(right_file, view, before=pad)[valid]) >= MIN_PSNR
        assert psnr(ours_left[valid], v360_of_file(path, view, before=pad)[valid]) >= MIN_PSNR
        assert psnr(ours_left[valid], ours_right[valid]) < 25, "both eyes show the same picture"


def test_a_damaged_extension_leaves_the_photo_mono_with_a_warning(tmp_path, scene):
    path, _ = vr180_photo(tmp_path, scene)
    data = bytearray(path.read_bytes())
    where = data.rfind(xmp.EXTENSION_SIGNATURE)
    data[where + 200:where + 260] = b"A" * 60  # one segment's bytes changed: the MD5 no longer matches
    path.write_bytes(bytes(data))
    facts = photo.read_facts(str(path))
    assert facts.right_eye is None and any("extended XMP is incomplete or damaged" in p for p in facts.problems)
    result = run_cli("snapshot", path, "-o", tmp_path / "out.png", "--size", "64x36")
    assert result.returncode == 0 and "damaged" in result.stderr


@pytest.mark.parametrize("content, problem", [
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/"/>', "DOCTYPE"),
    (b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF>", "not well-formed"),
    (b"\x00\x01 binary", "not XML"),
])
def test_hostile_or_broken_xmp_is_ignored_with_one_line(tmp_path, scene, content, problem):
    left, _ = scene
    path = tmp_path / "odd.jpg"
    write_jpeg(path, left[::4, ::4], content)
    facts = photo.read_facts(str(path))
    assert facts.layout is None and any(problem in p for p in facts.problems)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_broken_photo_is_one_line_and_a_non_zero_exit(tmp_path, scene, damage):
    left, _ = scene
    path = tmp_path / "broken.jpg"
    whole = jpeg_bytes(left)
    path.write_bytes({"truncated": whole[: len(whole) // 3], "garbage": whole[:4] + b"\x00" * 5000, "empty": b""}[damage])
    result = run_cli("play", path, "--display", "offscreen", "--no-audio", "--duration", "5")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "broken.jpg" in errors[0], result.stderr


def test_a_photo_stays_on_screen_for_photo_seconds_then_the_next_one_shows(tmp_path, scene):
    left, right = scene
    first, second = tmp_path / "one.jpg", tmp_path / "two.png"
    write_jpeg(first, left[::2, ::2])
    Image.fromarray(right[::2, ::2]).save(second)
    timing = tmp_path / "timing.jsonl"
    result = run_cli("play", first, second, "--display", "offscreen", "--size", "64x36", "--no-audio",
                     "--photo-seconds", "1.5", "--timing-log", timing)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in timing.read_text().splitlines()]
    ends = [i for i, line in enumerate(lines) if "ended" in line]
    assert len(ends) == 2 and all(lines[i]["outcome"] == "end" for i in ends)
    # Each photo: its picture first, then on screen until its end, 1.5 s later (not sooner; how much later a busy
    # machine makes it is not the player's to say).
    for start, end in ((0, ends[0]), (ends[0] + 1, ends[1])):
        assert "pts" in lines[start]
        assert lines[end]["at"] - lines[start]["shown"] >= 1.5 - 0.005
    assert len(timing_pictures(timing)) == 2


def test_a_photo_without_photo_seconds_stays_until_the_viewer_moves_on(tmp_path, scene, xvfb):
    from test_desktop import find_window, focus, wait_for_pictures, xdotool

    left, right = scene
    first, second = tmp_path / "one.jpg", tmp_path / "two.jpg"
    write_jpeg(first, left[::2, ::2])
    write_jpeg(second, right[::2, ::2])
    timing = tmp_path / "timing.jsonl"
    proc = subprocess.Popen([*VRPLAYER, "play", str(first), str(second), "--display", "desktop", "--size", "160x90",
                             "--no-audio", "--timing-log", str(timing)],
                            env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True)

    def ended() -> list:
        return [line.get("outcome") for line in map(json.loads, timing.read_text().splitlines()) if "ended" in line]

    try:
        window = find_window(xvfb)
        wait_for_pictures(timing, 1)
        time.sleep(2.0)
        assert ended() == [], "the photo went by itself"
        focus(xvfb, window)
        xdotool(xvfb, "key", "--window", window, "Right")  # → on a photo: the next one
        wait_for(lambda: ended() == ["next"])
        wait_for_pictures(timing, 2)
        xdotool(xvfb, "key", "--window", window, "p")  # P: back to the one before
        wait_for(lambda: ended() == ["next", "previous"])
        xdotool(xvfb, "key", "--window", window, "q")
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert ended() == ["next", "previous", "quit"]
    shown = [path for path in re.findall(r"playing (\S+)", proc.stderr.read())]
    assert shown == [str(first), str(second), str(first)]


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.1)


def test_a_kiosk_shows_a_photo_for_its_items_seconds_between_films(make_film, tmp_path, scene):
    from test_kiosk import _when, events, finish, start_kiosk, wait_for as kiosk_wait

    film = make_film("kiosk_photo_film.mp4", width=320, height=160, seconds=1.0, audio=False)
    still = tmp_path / "between.jpg"
    write_jpeg(still, scene[0][::2, ::2])
    prog = tmp_path / "prog.toml"
    prog.write_text(f'start_trigger = "auto"\nloop = false\n[[items]]\nfile = "{film}"\n'
                    f'[[items]]\nfile = "{still}"\nseconds = 2.5\n[[items]]\nfile = "{film}"\n')
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--duration", "25")
    try:
        kiosk_wait(lambda: len(events(log, "film_ended")) >= 3, what="the programme to play through")
    finally:
        proc.terminate()
        finish(proc)
    started, ended = events(log, "film_started"), events(log, "film_ended")
    assert [event["item"] for event in started[:3]] == [1, 2, 3]
    photo_start = next(event for event in started if event["item"] == 2)
    photo_end = next(event for event in ended if event["item"] == 2)
    assert photo_end["reason"] == "end"
    assert _when(photo_end) - _when(photo_start) >= 2.5 - 0.01  # (the log's clock: to the millisecond)


def test_a_photos_manifest_names_its_sound(tmp_path, scene, pulse):
    still = tmp_path / "birds.jpg"
    write_jpeg(still, scene[0][::2, ::2])
    sound = tmp_path / "birdsong.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5", "-ac", "2",
                    str(sound)], check=True)
    (tmp_path / "birds.json").write_text(json.dumps({"audio": "birdsong.wav"}))
    result = run_cli("probe", still)
    assert "birdsong.wav, named in the manifest" in result.stdout, result.stdout + result.stderr
    timing = tmp_path / "timing.jsonl"
    result = run_cli("play", still, "--display", "offscreen", "--size", "64x36", "--photo-seconds", "2",
                     "--timing-log", timing, env=pulse.env)
    assert result.returncode == 0, result.stderr
    assert "(audio clock)" in result.stderr  # the photo's time runs on its sound
    (tmp_path / "birds.json").write_text(json.dumps({"audio": "nowhere.wav"}))
    result = run_cli("play", still, "--display", "offscreen", "--size", "64x36", "--photo-seconds", "1", env=pulse.env)
    assert result.returncode != 0 and "nowhere.wav" in result.stderr and "not there" in result.stderr
