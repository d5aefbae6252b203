"""`vrplayer tag` and `vrplayer set-view`: every layout written into MP4 (moov before and after mdat, stco and co64)
and Matroska / WebM, then read back three ways — `vrplayer probe`, FFmpeg's own demuxer (ffprobe's side data and
channel layout, PyAV's frame side data), and the media data compared byte for byte with the source (the packets
PyAV demuxes from both, and the mdat boxes / Clusters themselves). The films are made here: by make_sample's
make_film, by ffmpeg and mkvmerge, and a co64 film by rewriting the box tree by hand (no tool writes co64 for a small
film)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_cli
from vrplayer.creator.opening_view import save_opening_view
from vrplayer.creator.tag_mp4 import Mp4Metadata, box, equi_body, mp4_edits, st3d_box, sv3d_box
from vrplayer.errors import PlayerError
from vrplayer.media.ebml import CLUSTER, ElementReader
from vrplayer.media.sa3d import read_sa3d

FULL = 1 << 32


def _require(tool: str) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: these tests make and read films with it")
    return tool


def _run(*command) -> None:
    subprocess.run([str(part) for part in command], check=True, capture_output=True, timeout=120)


# ---------------------------------------------------------------------------------------------------------------
# MP4 box tree, independent of the code under test: top-level spans, and stco → co64 by hand

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def top_level(data: bytes) -> list[tuple[bytes, int, int, int]]:
    """(type, start, body, end) of each top-level box."""
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, fourcc = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = len(data) - pos
        boxes.append((fourcc, pos, pos + header, pos + size))
        pos += size
    return boxes


def _rebuild_co64(data: bytes, start: int, end: int, shift: int) -> bytes:
    out, pos = b"", start
    while pos < end:
        size, fourcc = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8:pos + size]
        if fourcc in CONTAINERS:
            body = _rebuild_co64(data, pos + 8, pos + size, shift)
        elif fourcc in (b"stco", b"co64"):
            count = struct.unpack_from(">I", body, 4)[0]
            wide = fourcc == b"co64"
            offsets = struct.unpack_from(f">{count}{'Q' if wide else 'I'}", body, 8)
            fourcc = b"co64"
            body = body[:8] + struct.pack(f">{count}Q", *(o + shift for o in offsets))
        out += struct.pack(">I4s", len(body) + 8, fourcc) + body
        pos += size
    return out


def make_co64(source: Path, target: Path) -> Path:
    """The film with every stco written as co64; chunk offsets moved when moov, grown, lies before mdat."""
    data = source.read_bytes()
    boxes = top_level(data)
    (_, start, _, end), = [b for b in boxes if b[0] == b"moov"]
    moov_first = start < next(b[1] for b in boxes if b[0] == b"mdat")
    grown = _rebuild_co64(data, start, end, 0)
    moov = _rebuild_co64(data, start, end, len(grown) - (end - start) if moov_first else 0)
    target.write_bytes(data[:start] + moov + data[end:])
    return target


def chunk_offset_kinds(path: Path) -> set[bytes]:
    data = path.read_bytes()
    return {kind for kind in (b"stco", b"co64") if kind in data[slice(*_moov_span(data))]}


def _moov_span(data: bytes) -> tuple[int, int]:
    (_, start, _, end), = [b for b in top_level(data) if b[0] == b"moov"]
    return start, end


def mdat_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return b"".join(data[body:end] for fourcc, _, body, end in top_level(data) if fourcc == b"mdat")


def top_order(path: Path) -> list[bytes]:
    return [b[0] for b in top_level(path.read_bytes()) if b[0] in (b"moov", b"mdat")]


def count_in_video_entry(path: Path, fourcc: bytes) -> int:
    """How often a box type occurs in the moov (the spherical boxes live in the video sample entry)."""
    data = path.read_bytes()
    start, end = _moov_span(data)
    return data[start:end].count(fourcc)


def clusters_bytes(path: Path) -> bytes:
    with open(path, "rb") as film:
        reader = ElementReader(film, film.seek(0, 2))
        segment = reader.segment()
        position, spans = segment.body, []
        for element in reader.children(segment):
            if element.id == CLUSTER:
                spans.append((position, element.end))
            position = element.end
        return b"".join(reader.read(start, end - start) for start, end in spans)


# ---------------------------------------------------------------------------------------------------------------
# Reading back


def probe_layout(path: Path) -> dict:
    result = run_cli("probe", "--json", path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ffprobe_side_data(path: Path) -> dict[str, dict]:
    result = subprocess.run([_require("ffprobe"), "-v", "error", "-select_streams", "v:0", "-show_streams", "-of",
                             "json", str(path)], capture_output=True, text=True, check=True, timeout=60)
    stream = json.loads(result.stdout)["streams"][0]
    return {item["side_data_type"]: item for item in stream.get("side_data_list", [])}


def pyav_side_data(path: Path) -> dict[str, tuple]:
    """FFmpeg's spherical and stereo structs on the first decoded picture, as PyAV hands them over."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return {item.type.name: struct.unpack_from("<iiiiIIIII", bytes(item)) for item in frame.side_data
                if item.type.name in ("SPHERICAL", "STEREO3D")}


def packets(path: Path) -> list[tuple]:
    with av.open(str(path)) as container:
        return [(p.stream.index, p.pts, p.dts, p.is_keyframe, bytes(p)) for p in container.demux() if p.size]


def assert_media_unchanged(source: Path, copy: Path) -> None:
    ours, theirs = packets(source), packets(copy)
    assert len(ours) > 10 and ours == theirs
    if source.suffix in (".mp4", ".mov"):
        assert mdat_bytes(source) == mdat_bytes(copy)
    else:
        assert clusters_bytes(source) == clusters_bytes(copy)


# ---------------------------------------------------------------------------------------------------------------
# The layouts


@dataclass(frozen=True)
class Case:
    size: tuple[int, int]
    args: tuple[str, ...]
    projection: str
    stereo: str = "mono"
    eyes_swapped: bool = False
    crop: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # left, top, right, bottom
    view: tuple[float, float, float] = (0.0, 0.0, 0.0)
    manifest: dict | None = None


CASES = {
    "equirect-mono": Case((256, 128), (), "equirectangular"),
    "top-bottom": Case((256, 256), ("--stereo", "top-bottom"), "equirectangular", "top-bottom"),
    "side-by-side": Case((512, 128), ("--stereo", "side-by-side"), "equirectangular", "side-by-side"),
    "right-left-vr180": Case((256, 128), ("--stereo", "side-by-side", "--eyes-swapped", "--fov-covered", "180"),
                             "equirectangular", "side-by-side", True, (0.25, 0.0, 0.25, 0.0)),
    "cropped": Case((256, 96), (), "equirectangular", crop=(0.125, 0.125, 0.125, 0.25),
                    manifest={"projection": "equirectangular", "crop": {"left": 0.125, "top": 0.125,
                                                                        "right": 0.125, "bottom": 0.25}}),
    "eac": Case((192, 128), ("--projection", "eac"), "eac"),
    "initial-view": Case((256, 128), ("--initial-yaw", "30", "--initial-pitch", "-12.5", "--initial-roll", "5"),
                         "equirectangular", view=(30.0, -12.5, 5.0)),
}
BOTTOM_TOP = Case((256, 256), ("--stereo", "top-bottom", "--eyes-swapped"), "equirectangular", "top-bottom", True)


@pytest.fixture(scope="session")
def base_film(make_film):
    def make(size: tuple[int, int], suffix: str) -> Path:
        return make_film(f"base_{size[0]}x{size[1]}{suffix}", width=size[0], height=size[1], seconds=2.0, fps=10,
                         gop=5)
    return make


MP4_KINDS = ("moov-first", "moov-last", "co64-moov-first", "co64-moov-last")


@pytest.fixture(scope="session")
def mp4_film(base_film, film_dir):
    """mp4_film(size, kind) → an MP4 film with picture and sound, laid out as `kind` says."""
    def make(size: tuple[int, int], kind: str) -> Path:
        first = base_film(size, ".mp4")  # make_film writes faststart files
        path = film_dir / f"{size[0]}x{size[1]}_{kind}.mp4"
        if path.exists():
            return path
        last = film_dir / f"{size[0]}x{size[1]}_moov-last.mp4"
        if not last.exists():
            _run(_require("ffmpeg"), "-v", "error", "-i", first, "-map", "0", "-c", "copy", last)
        plain = first if kind.endswith("moov-first") else last
        if kind.startswith("co64"):
            make_co64(plain, path)
        elif path != plain:
            shutil.copyfile(plain, path)
        return path
    return make


@pytest.fixture(scope="session")
def mkv_film(base_film, film_dir):
    """mkv_film(size, kind): "pyav" (FFmpeg's muxer: nothing after Tracks to grow into), "mkvmerge" (a Void after
    Tracks), "webm" (VP9 + Opus by ffmpeg)."""
    def make(size: tuple[int, int], kind: str) -> Path:
        if kind == "pyav":
            return base_film(size, ".mkv")
        path = film_dir / f"{size[0]}x{size[1]}_{kind}.{'webm' if kind == 'webm' else 'mkv'}"
        if not path.exists():
            if kind == "mkvmerge":
                _run(_require("mkvmerge"), "-q", "-o", path, base_film(size, ".mp4"))
            else:
                _run(_require("ffmpeg"), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size[0]}x{size[1]}:rate=10",
                     "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-t", "2", "-c:v", "libvpx-vp9", "-b:v",
                     "200k", "-g", "5", "-c:a", "libopus", path)
        return path
    return make


def tag(source: Path, out: Path, case: Case) -> Path:
    if case.manifest is not None:
        manifest = source.with_name(source.name + ".json")
        manifest.write_text(json.dumps(case.manifest))
    try:
        result = run_cli("tag", source, "-o", out, *case.args)
    finally:
        if case.manifest is not None:
            manifest.unlink()
    assert result.returncode == 0, result.stderr
    return out


def check_read_back(source: Path, out: Path, case: Case) -> None:
    # 1. vrplayer probe: every fact from the container's metadata, as asked
    info = probe_layout(out)
    layout = info["layout"]
    assert info["warnings"] == [] and layout["warnings"] == []
    assert (layout["projection"], layout["stereo"], layout["eyes_swapped"]) == (case.projection, case.stereo,
                                                                               case.eyes_swapped)
    assert [layout["crop"][k] for k in ("left", "top", "right", "bottom")] == pytest.approx(case.crop, abs=1e-9)
    assert [layout["initial_view"][k] for k in ("yaw", "pitch", "roll")] == pytest.approx(case.view, abs=1e-4)
    assert layout["sources"]["projection"].startswith("metadata")
    assert layout["sources"]["stereo"].startswith("metadata")
    assert layout["sources"]["initial_view"].startswith("metadata")

    # 2. FFmpeg's demuxer: ffprobe's side data, and the structs PyAV hands over
    side = ffprobe_side_data(out)
    structs = pyav_side_data(out)
    stereo_type = {"mono": "2D", "top-bottom": "top and bottom", "side-by-side": "side by side"}[case.stereo]
    if out.suffix == ".mp4" and case.eyes_swapped:
        # FFmpeg's MP4 demuxer knows st3d modes 0-2 only, not 4 (right-left): it reports no stereo at all
        assert "Stereo 3D" not in side and "STEREO3D" not in structs
    else:
        assert side["Stereo 3D"]["type"] == stereo_type and side["Stereo 3D"]["inverted"] == int(case.eyes_swapped)
        stereo = structs["STEREO3D"]
        assert stereo[0] == {"mono": 0, "side-by-side": 1, "top-bottom": 2}[case.stereo]
        assert stereo[1] & 1 == int(case.eyes_swapped)
    mapping = side["Spherical Mapping"]
    cropped = any(case.crop)
    assert mapping["projection"] == {"eac": "cubemap"}.get(case.projection,
                                                          "tiled equirectangular" if cropped else "equirectangular")
    # V2 and Matroska store the yaw to the left: a view 30° to the right is stored as -30 (ffprobe prints whole
    # degrees; PyAV's struct below has them exactly)
    assert (mapping["yaw"], mapping["pitch"], mapping["roll"]) == pytest.approx(
        (-case.view[0], case.view[1], case.view[2]), abs=0.99)
    kind, yaw, pitch, roll, left, top, right, bottom, _ = structs["SPHERICAL"]
    assert kind == (1 if case.projection == "eac" else 2 if cropped else 0)
    assert (yaw / 65536, pitch / 65536, roll / 65536) == pytest.approx((-case.view[0], case.view[1], case.view[2]),
                                                                       abs=1e-4)
    assert (left, top, right, bottom) == tuple(round(v * FULL) for v in case.crop)

    # 3. the media data, byte for byte
    assert_media_unchanged(source, out)


@pytest.mark.parametrize("kind", MP4_KINDS)
@pytest.mark.parametrize("name", list(CASES))
def test_mp4_layout_written_and_read_back(mp4_film, tmp_path, name, kind):
    case = CASES[name]
    source = mp4_film(case.size, kind)
    out = tag(source, tmp_path / f"{name}.mp4", case)
    check_read_back(source, out, case)
    assert top_order(out) == top_order(source)  # a faststart film stays faststart
    assert chunk_offset_kinds(out) == chunk_offset_kinds(source) == ({b"co64"} if "co64" in kind else {b"stco"})


@pytest.mark.parametrize("kind", ("pyav", "mkvmerge"))
@pytest.mark.parametrize("name", list(CASES) + ["bottom-top"])
def test_matroska_layout_written_and_read_back(mkv_film, tmp_path, name, kind):
    case = CASES.get(name, BOTTOM_TOP)
    source = mkv_film(case.size, kind)
    out = tag(source, tmp_path / f"{name}.mkv", case)
    check_read_back(source, out, case)
    if kind == "mkvmerge":  # the Void mkvmerge leaves after Tracks took the growth: nothing moved
        assert out.stat().st_size == source.stat().st_size


@pytest.mark.parametrize("name", ("top-bottom", "right-left-vr180", "initial-view"))
def test_webm_layout_written_and_read_back(mkv_film, tmp_path, name):
    case = CASES[name]
    source = mkv_film(case.size, "webm")
    out = tag(source, tmp_path / f"{name}.webm", case)
    check_read_back(source, out, case)


@pytest.mark.parametrize("kind", ("pyav", "webm"))
def test_matroska_cues_still_find_the_clusters_after_tracks_grew(mkv_film, tmp_path, kind):
    source = mkv_film((256, 128), kind)
    out = tag(source, tmp_path / f"seek.{source.suffix}", CASES["initial-view"])
    assert out.stat().st_size > source.stat().st_size  # Tracks grew, and what follows moved

    def after_seek(path: Path) -> list[tuple]:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            container.seek(int(1.2 / stream.time_base), stream=stream)
            return [(p.pts, bytes(p)) for _, p in zip(range(5), container.demux(stream)) if p.size]

    assert after_seek(out) == after_seek(source) and after_seek(out)
    assert cue_targets(out) == {CLUSTER} and cue_targets(source) == {CLUSTER}


def cue_targets(path: Path) -> set[int]:
    """The IDs of the elements the Cues' CueClusterPositions point at (all Clusters, when the Cues are right)."""
    with open(path, "rb") as film:
        reader = ElementReader(film, film.seek(0, 2))
        segment = reader.segment()
        cues = next(e for e in reader.children(segment) if e.id == 0x1C53BB6B)
        found = set()
        for point in reader.children(cues):
            for positions in (c for c in reader.children(point) if c.id == 0xB7):
                for position in (c for c in reader.children(positions) if c.id == 0xF1):
                    target = next(reader.elements(segment.body + reader.read_uint(position), None, ""))
                    found.add(target.id)
        return found


def test_flat_films(mp4_film, mkv_film, tmp_path):
    # Matroska says flat (ProjectionType 0); MP4 has no flat projection: the st3d alone, and the shape says flat.
    for source in (mkv_film((320, 90), "pyav"), mp4_film((320, 90), "moov-last")):
        out = tmp_path / f"flat{source.suffix}"
        result = run_cli("tag", source, "-o", out, "--projection", "flat", "--stereo", "side-by-side")
        assert result.returncode == 0, result.stderr
        layout = probe_layout(out)["layout"]
        assert (layout["projection"], layout["stereo"]) == ("flat", "side-by-side")
        assert layout["sources"]["stereo"].startswith("metadata")
        assert ffprobe_side_data(out)["Stereo 3D"]["type"] == "side by side"
        assert "Spherical Mapping" not in ffprobe_side_data(out)
        assert_media_unchanged(source, out)


def test_tagging_again_replaces_the_boxes(mp4_film, mkv_film, tmp_path):
    source = mp4_film((256, 128), "moov-first")
    once = tag(source, tmp_path / "once.mp4", CASES["initial-view"])
    twice = tmp_path / "twice.mp4"
    result = run_cli("tag", once, "-o", twice, "--stereo", "side-by-side", "--fov-covered", "180", "--initial-yaw", "-45")
    assert result.returncode == 0, result.stderr
    for fourcc in (b"st3d", b"sv3d", b"prhd", b"equi"):
        assert count_in_video_entry(twice, fourcc) == 1
    layout = probe_layout(twice)["layout"]
    assert (layout["stereo"], layout["crop"]["left"], layout["initial_view"]) == (
        "side-by-side", 0.25, {"yaw": -45.0, "pitch": -12.5, "roll": 5.0})  # pitch and roll: the first tag's
    assert_media_unchanged(source, twice)

    mkv = tag(mkv_film((256, 128), "pyav"), tmp_path / "once.mkv", CASES["initial-view"])
    again = tmp_path / "twice.mkv"
    assert run_cli("tag", mkv, "-o", again, "--stereo", "side-by-side", "--fov-covered", "180").returncode == 0
    info = subprocess.run([_require("mkvinfo"), str(again)], capture_output=True, text=True, check=True).stdout
    assert info.count("Stereo mode") == 1 and info.count("Video projection") == 1
    assert probe_layout(again)["layout"]["stereo"] == "side-by-side"


def test_spherical_video_v1_is_replaced_by_v2(mp4_film, tmp_path):
    # A V1 uuid box in the video track (moov after mdat, so no offsets move when it is added here)
    source = mp4_film((256, 128), "moov-last")
    data = source.read_bytes()
    start, end = _moov_span(data)
    xml = (b'<?xml version="1.0"?><rdf:SphericalVideo xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           b'xmlns:GSpherical="http://ns.google.com/videos/1.0/spherical/"><GSpherical:Spherical>true'
           b'</GSpherical:Spherical><GSpherical:StereoMode>left-right</GSpherical:StereoMode>'
           b'<GSpherical:InitialViewHeadingDegrees>90</GSpherical:InitialViewHeadingDegrees></rdf:SphericalVideo>')
    uuid = bytes.fromhex("ffcc8263f8554a938814587a02521fdd") + xml
    moov = data[start:end]
    trak = moov.index(b"trak") - 4
    trak_size = struct.unpack_from(">I", moov, trak)[0]
    trak_box = moov[trak:trak + trak_size]
    with_v1 = struct.pack(">I", trak_size + 8 + len(uuid)) + trak_box[4:] + struct.pack(">I4s", 8 + len(uuid), b"uuid") + uuid
    moov = moov[:trak] + with_v1 + moov[trak + trak_size:]
    moov = struct.pack(">I", len(moov)) + moov[4:]
    v1 = tmp_path / "v1.mp4"
    v1.write_bytes(data[:start] + moov + data[end:])
    assert probe_layout(v1)["layout"]["sources"]["stereo"] == "metadata (Spherical Video V1)"

    out = tmp_path / "v2.mp4"
    assert run_cli("tag", v1, "-o", out, "--stereo", "mono").returncode == 0
    assert bytes.fromhex("ffcc8263f8554a938814587a02521fdd") not in out.read_bytes()
    layout = probe_layout(out)["layout"]
    assert layout["sources"]["stereo"] == "metadata (Spherical Video V2)" and layout["warnings"] == []
    assert layout["stereo"] == "mono" and layout["initial_view"]["yaw"] == 90.0  # V1's heading, kept as V2's pose
    assert_media_unchanged(v1, out)


# ---------------------------------------------------------------------------------------------------------------
# Spatial sound: SA3D


@pytest.fixture(scope="session")
def pcm_film(film_dir):
    """pcm_film(channels) → a MOV with PCM sound of that many channels (FFmpeg reads SA3D back for PCM)."""
    def make(channels: int) -> Path:
        path = film_dir / f"pcm{channels}.mov"
        if not path.exists():
            tones = "|".join(f"0.1*sin({220 * (i + 1)}*2*PI*t)" for i in range(channels))
            _run(_require("ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=256x128:rate=10", "-f", "lavfi",
                 "-i", f"aevalsrc={tones}:s=48000:d=2", "-t", "2", "-c:v", "libx264", "-g", "5", "-c:a", "pcm_s16le",
                 path)
        return path
    return make


def ffmpeg_audio_layout(path: Path) -> str:
    with av.open(str(path)) as container:
        return container.streams.audio[0].layout.name


@pytest.mark.parametrize("channels, name", ((4, "ambix1"), (6, "ambix1+stereo"), (9, "ambix2")))
def test_sa3d_written_and_read_back(pcm_film, tmp_path, channels, name):
    source = pcm_film(channels)
    assert not ffmpeg_audio_layout(source).startswith("ambisonic")
    out = tmp_path / f"{name}.mov"
    result = run_cli("tag", source, "-o", out, "--audio-format", name)
    assert result.returncode == 0, result.stderr
    audio = probe_layout(out)["audio"]
    assert (audio["format"], audio["format_source"], audio["spatial"]) == (name, "SA3D box", True)
    sa3d = read_sa3d(str(out))
    assert sa3d.problems == [] and sa3d.channel_map == tuple(range(channels))
    order = int(name[5])
    assert ffmpeg_audio_layout(out).startswith(f"ambisonic {order}")  # FFmpeg's demuxer reads the box
    assert_media_unchanged(source, out)


def test_sa3d_from_the_manifest_and_removed_when_asked(pcm_film, make_film, tmp_path):
    # The manifest's "audio" is what vrplayer detects, so a tag without flags writes it into the container.
    source = tmp_path / "manifest_sound.mov"
    shutil.copyfile(pcm_film(4), source)
    source.with_name(source.name + ".json").write_text(json.dumps({"audio": "ambix1"}))
    out = tmp_path / "baked.mov"
    assert run_cli("tag", source, "-o", out).returncode == 0
    assert probe_layout(out)["audio"]["format_source"] == "SA3D box"
    assert ffmpeg_audio_layout(out) == "ambisonic 1"

    # An AAC film with SA3D: a plain format removes the box, and ambix1 puts it back.
    ambix = make_film("ambix_tag.mp4", width=256, height=128, seconds=2.0, fps=10, sound="ambix1")
    plain = tmp_path / "plain.mp4"
    assert run_cli("tag", ambix, "-o", plain, "--audio-format", "quad").returncode == 0
    assert read_sa3d(str(plain)) is None and count_in_video_entry(plain, b"SA3D") == 0
    assert probe_layout(plain)["audio"]["format"] == "quad"
    again = tmp_path / "again.mp4"
    assert run_cli("tag", plain, "-o", again, "--audio-format", "ambix1").returncode == 0
    assert probe_layout(again)["audio"]["format"] == "ambix1" and count_in_video_entry(again, b"SA3D") == 1
    assert_media_unchanged(ambix, again)


# ---------------------------------------------------------------------------------------------------------------
# The opening view


def test_set_view_writes_the_manifest_and_the_film_opens_there(base_film, tmp_path):
    film = tmp_path / "opening.mp4"
    shutil.copyfile(base_film((256, 128), ".mp4"), film)
    result = run_cli("set-view", film, "--yaw", "100", "--pitch", "20", "--roll", "-5")
    assert result.returncode == 0, result.stderr
    manifest = film.with_name("opening.mp4.json")
    assert json.loads(manifest.read_text()) == {"initial_view": {"yaw": 100.0, "pitch": 20.0, "roll": -5.0}}
    layout = probe_layout(film)["layout"]
    assert layout["initial_view"] == {"yaw": 100.0, "pitch": 20.0, "roll": -5.0}
    assert layout["sources"]["initial_view"] == "manifest opening.mp4.json"

    # The film opens where the manifest says: a snapshot without --yaw is the one with the view given.
    pictures = {}
    for label, view in (("saved", ()), ("given", ("--yaw", "100", "--pitch", "20", "--roll", "-5")),
                        ("ahead", ("--yaw", "0", "--pitch", "0", "--roll", "0"))):
        png = tmp_path / f"{label}.png"
        result = run_cli("snapshot", film, "--at", "0.5", "--size", "160x90", *view, "-o", png)
        assert result.returncode == 0, result.stderr
        with av.open(str(png)) as picture:
            pictures[label] = next(picture.decode(video=0)).to_ndarray(format="rgb24")
    assert np.array_equal(pictures["saved"], pictures["given"])
    assert not np.array_equal(pictures["saved"], pictures["ahead"])

    # ... and `tag` writes it into the container, for players that read no manifest
    out = tmp_path / "opening_tagged.mp4"
    assert run_cli("tag", film, "-o", out).returncode == 0
    layout = probe_layout(out)["layout"]
    assert [layout["initial_view"][k] for k in ("yaw", "pitch", "roll")] == pytest.approx((100, 20, -5), abs=1e-4)
    assert layout["sources"]["initial_view"] == "metadata (Spherical Video V2)"


def test_save_opening_view_keeps_the_manifest_and_its_other_keys(tmp_path):
    film = tmp_path / "concert.mkv"
    film.write_bytes(b"not read")
    existing = tmp_path / "concert.json"  # the less specific name, already there: kept
    existing.write_text(json.dumps({"stereo": "top-bottom", "comment": "from the editor", "audio": "ambix1"}))
    path = save_opening_view(film, 370.25, -30, 181)
    assert path == existing and not (tmp_path / "concert.mkv.json").exists()
    data = json.loads(existing.read_text())
    assert list(data) == ["stereo", "comment", "audio", "initial_view"]
    assert data["initial_view"] == {"yaw": 10.25, "pitch": -30.0, "roll": -179.0}
    assert save_opening_view(film, -0.0, 0, 0) == existing  # saved again, in place
    assert json.loads(existing.read_text())["initial_view"] == {"yaw": 0.0, "pitch": 0.0, "roll": 0.0}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.parametrize("manifest, why", (('{"initial_view": ', "not valid JSON"),
                                           ('{"stereo": "sideways"}', "unknown stereo"),
                                           ('[1, 2]', "must be a JSON object")))
def test_set_view_refuses_a_malformed_manifest_and_leaves_it(tmp_path, manifest, why):
    film = tmp_path / "broken.mp4"
    film.write_bytes(b"film")
    path = tmp_path / "broken.mp4.json"
    path.write_text(manifest)
    result = run_cli("set-view", film, "--yaw", "10", "--pitch", "0")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and why in result.stderr and "broken.mp4.json" in result.stderr
    assert path.read_text() == manifest
    with pytest.raises(PlayerError):
        save_opening_view(film, 10, 0)


@pytest.mark.parametrize("args, why", ((("--yaw", "10", "--pitch", "95"), "pitch"),
                                       (("--yaw", "nan", "--pitch", "0"), "yaw")))
def test_set_view_refuses_a_view_that_is_not_one(tmp_path, args, why):
    film = tmp_path / "film.mp4"
    film.write_bytes(b"film")
    result = run_cli("set-view", film, *args)
    assert result.returncode == 1 and why in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "film.mp4.json").exists()


def test_set_view_of_a_missing_film(tmp_path):
    result = run_cli("set-view", tmp_path / "nowhere.mp4", "--yaw", "1", "--pitch", "2")
    assert result.returncode == 1 and "no such film" in result.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------------
# Refusals: one line, exit 1, no OUT (and an existing OUT left as it was)


def refused(*args, out: Path, contains: str) -> None:
    before = out.read_bytes() if out.exists() else None
    result = run_cli("tag", *args, "-o", out)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrplayer: ") and contains in lines[0], lines
    assert "Traceback" not in result.stderr
    assert (out.read_bytes() if out.exists() else None) == before
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".part")] == []


def test_refusals(mp4_film, mkv_film, base_film, tmp_path):
    mp4 = mp4_film((256, 128), "moov-first")
    mkv = mkv_film((256, 128), "pyav")
    out_mp4, out_mkv = tmp_path / "out.mp4", tmp_path / "out.mkv"
    refused(mp4, "--projection", "fisheye", out=out_mp4, contains="no fisheye projection")
    refused(mp4, "--projection", "dual-fisheye", out=out_mp4, contains="no dual-fisheye projection")
    refused(mkv, "--projection", "cubemap-3x2", out=out_mkv, contains="Matroska has no cubemap-3x2 projection")
    refused(mp4, "--projection", "cubemap-6x1", out=out_mp4, contains="no cubemap-6x1 projection")
    refused(mp4_film((256, 256), "moov-first"), *BOTTOM_TOP.args, out=out_mp4, contains="right eye on top")
    # A 2:1 picture without sv3d reads as 360: V2 cannot say it is flat
    refused(mp4, "--projection", "flat", out=out_mp4, contains="would read back as projection equirectangular")
    refused(mp4, "--audio-format", "fuma1", out=out_mp4, contains="sound track has 2")
    refused(mkv, "--audio-format", "ambix1", out=out_mkv, contains="ambix1")
    refused(mp4, out=tmp_path / "out.mkv", contains="keeps the film's container")
    refused(mp4, out=mp4, contains="is the film itself")
    refused(tmp_path / "missing.mp4", out=out_mp4, contains="no such film")
    text = tmp_path / "notes.mp4"
    text.write_text("just some words, not a film\n")
    refused(text, out=out_mp4, contains="neither MP4/MOV nor Matroska/WebM")
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(mp4_film((256, 128), "moov-last").read_bytes()[:-200])
    refused(truncated, out=out_mp4, contains="truncated")

    # An existing OUT is replaced only by a complete copy: a refusal leaves it, a success replaces it
    out_mp4.write_bytes(b"an older copy")
    refused(mp4, "--projection", "fisheye", out=out_mp4, contains="fisheye")
    assert run_cli("tag", mp4, "-o", out_mp4).returncode == 0
    assert probe_layout(out_mp4)["layout"]["sources"]["projection"] == "metadata (Spherical Video V2)"


def test_fuma_is_refused_for_sa3d(pcm_film, tmp_path):
    refused(pcm_film(4), "--audio-format", "fuma1", out=tmp_path / "fuma.mov", contains="AmbiX")


def test_a_big_copy_says_how_far_it_is(mp4_film, tmp_path):
    # 70 MB of free space after the film's boxes: copied like media data, with progress lines on stderr
    big = tmp_path / "big.mp4"
    shutil.copyfile(mp4_film((256, 128), "moov-last"), big)
    with open(big, "ab") as film:
        film.write(struct.pack(">I4s", 8 + (70 << 20), b"free") + bytes(70 << 20))
    out = tmp_path / "big_tagged.mp4"
    result = run_cli("tag", big, "-o", out, "--initial-yaw", "10")
    assert result.returncode == 0, result.stderr
    assert "100% written" in result.stderr and "50% written" in result.stderr
    assert_media_unchanged(big, out)



def test_an_stco_whose_offsets_would_pass_4_gib_becomes_co64(tmp_path):
    # A film's headers only (its media data would be 4 GiB): moov first, one chunk just below 2^32, so that the
    # grown moov pushes it past what stco holds.
    def full(fourcc: bytes, payload: bytes) -> bytes:
        return box(fourcc, bytes(4) + payload)

    entry = box(b"avc1", bytes(78))
    stbl = box(b"stbl", full(b"stsd", struct.pack(">I", 1) + entry) + full(b"stco", struct.pack(">II", 1, 0xFFFFFFF0)))
    trak = box(b"trak", box(b"mdia", full(b"hdlr", bytes(4) + b"vide" + bytes(12)) + box(b"minf", stbl)))
    film = tmp_path / "headers.mp4"
    film.write_bytes(box(b"ftyp", b"isom" + bytes(4)) + box(b"moov", trak) + box(b"mdat", bytes(8)))
    metadata = Mp4Metadata(st3d_box("mono", False), sv3d_box(box(b"equi", equi_body((0, 0, 0, 0))), (0, 0, 0)),
                           None, None)
    (edit,) = mp4_edits(str(film), metadata)
    grown = len(edit.data) - (edit.end - edit.start)
    assert b"stco" not in edit.data and edit.data.count(b"co64") == 1
    at = edit.data.index(b"co64")
    assert struct.unpack_from(">IQ", edit.data, at + 8) == (1, 0xFFFFFFF0 + grown) and 0xFFFFFFF0 + grown > 1 << 32
