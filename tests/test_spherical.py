"""vrplayer.media.spherical: spherical-video metadata read from MP4 and Matroska bytes.

Test films are made here: a tiny H.264 film by ffmpeg, Matroska projection/stereo tags by mkvmerge, Spherical Video V2
boxes by ffmpeg (from those Matroska tags, `-strict unofficial`), and what no tool writes (right-left stereo, meshes,
V1 XML, broken boxes) by rewriting the MP4 box tree here. Where ffmpeg itself reads the metadata, its frame side data
is compared with ours.
"""

from __future__ import annotations

import io
import random
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from vrplayer.media.spherical import ContainerLayout, read_container_layout, read_layout_from

V1_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")
VR180_PRIVATE = "0000000000000000000000004000000040000000"  # equi: version/flags, top, bottom, left 1/4, right 1/4


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: these tests make their films with it")
    return path


def _run(*command) -> None:
    subprocess.run([str(part) for part in command], check=True, capture_output=True, timeout=60)


# ---------------------------------------------------------------------------------------------------------------
# Films


@pytest.fixture(scope="session")
def films(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spherical")


@pytest.fixture(scope="session")
def base_mp4(films) -> Path:
    """3 frames of 128x64 H.264, moov after mdat (ffmpeg's default)."""
    path = films / "base.mp4"
    _run(_require("ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=128x64:rate=10", "-frames:v", "3",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", path)
    return path


@pytest.fixture(scope="session")
def faststart_mp4(films, base_mp4) -> Path:
    """The same film with moov before mdat."""
    path = films / "faststart.mp4"
    _run("ffmpeg", "-v", "error", "-i", base_mp4, "-c", "copy", "-movflags", "+faststart", path)
    return path


@pytest.fixture(params=["moov-last", "moov-first"])
def any_mp4(request, base_mp4, faststart_mp4) -> Path:
    return base_mp4 if request.param == "moov-last" else faststart_mp4


@pytest.fixture(scope="session")
def tagged_mkv(films, base_mp4):
    """tagged_mkv(name, *mkvmerge track options for track 0) → a Matroska film made by mkvmerge."""
    _require("mkvmerge")

    def make(name: str, *options: str) -> Path:
        path = films / f"{name}.mkv"
        if not path.exists():
            _run("mkvmerge", "-q", "-o", path, *options, base_mp4)
        return path

    return make


@pytest.fixture(scope="session")
def v2_mp4(films, tagged_mkv):
    """v2_mp4(name, *mkvmerge options, faststart=False) → an MP4 whose st3d/sv3d ffmpeg wrote from Matroska tags."""

    def make(name: str, *options: str, faststart: bool = False) -> Path:
        source = tagged_mkv(name, *options)
        path = films / f"{name}{'-faststart' if faststart else ''}.mp4"
        if not path.exists():
            flags = ["-movflags", "+faststart"] if faststart else []
            _run("ffmpeg", "-v", "error", "-i", source, "-c", "copy", "-strict", "unofficial", *flags, path)
        return path

    return make


# ---------------------------------------------------------------------------------------------------------------
# MP4 box tree: parse, edit, write back (with chunk offsets fixed, so the film still plays)

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"sv3d", b"proj"}
FIXED_PREFIX = {b"stsd": 8, b"avc1": 78, b"hvc1": 78, b"hev1": 78}  # bytes before the child boxes: entry count / visual sample entry fields


@dataclass
class Box:
    fourcc: bytes
    body: bytes = b""  # a leaf's payload, or a container's fixed part before its children
    children: list[Box] | None = None
    large: bool = False  # write a 64-bit largesize header
    raw: bytes | None = None  # written verbatim instead (for broken boxes)


def parse_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    end = len(data) if end is None else end
    boxes, pos = [], start
    while pos + 8 <= end:
        size, fourcc = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        body_start, box_end = pos + header, pos + size
        if fourcc in CONTAINERS or fourcc in FIXED_PREFIX:
            prefix = FIXED_PREFIX.get(fourcc, 0)
            box = Box(fourcc, data[body_start:body_start + prefix], parse_boxes(data, body_start + prefix, box_end))
        else:
            box = Box(fourcc, data[body_start:box_end])
        box.large = header == 16
        boxes.append(box)
        pos = box_end
    return boxes


def build(boxes: list[Box]) -> bytes:
    out = b""
    for box in boxes:
        if box.raw is not None:
            out += box.raw
            continue
        payload = box.body + (build(box.children) if box.children is not None else b"")
        if box.large:
            out += struct.pack(">I4sQ", 1, box.fourcc, len(payload) + 16) + payload
        else:
            out += struct.pack(">I4s", len(payload) + 8, box.fourcc) + payload
    return out


def find(boxes: list[Box], *path: bytes) -> Box:
    for fourcc in path:
        box = next(b for b in boxes if b.fourcc == fourcc)
        boxes = box.children or []
    return box


def video_trak(tree: list[Box]) -> Box:
    moov = find(tree, b"moov")
    return next(t for t in moov.children if t.fourcc == b"trak"
                and find(t.children, b"mdia", b"hdlr").body[8:12] == b"vide")


def sample_entry(tree: list[Box]) -> Box:
    return find(video_trak(tree).children, b"mdia", b"minf", b"stbl", b"stsd", b"avc1")


def mdat_data_offset(data: bytes) -> int:
    pos = 0
    while True:
        size, fourcc = struct.unpack_from(">I4s", data, pos)
        header = 16 if size == 1 else 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
        if fourcc == b"mdat":
            return pos + header
        pos += size


def rewrite(source: Path, target: Path, edit) -> Path:
    """Copy an MP4 through edit(tree), moving the chunk offsets by however far mdat's data moved."""
    data = source.read_bytes()
    tree = parse_boxes(data)
    edit(tree)
    moved = mdat_data_offset(build(tree)) - mdat_data_offset(data)
    for trak in (b for b in find(tree, b"moov").children if b.fourcc == b"trak"):
        stbl = find(trak.children, b"mdia", b"minf", b"stbl")
        for table in stbl.children:
            if table.fourcc in (b"stco", b"co64"):
                kind = ">I" if table.fourcc == b"stco" else ">Q"
                count = struct.unpack_from(">I", table.body, 4)[0]
                offsets = struct.unpack_from(f">{count}{kind[1]}", table.body, 8)
                table.body = table.body[:8] + struct.pack(f">{count}{kind[1]}", *(o + moved for o in offsets))
    target.write_bytes(build(tree))
    return target


def with_entry_boxes(source: Path, target: Path, *boxes: Box) -> Path:
    """The film with its video sample entry's st3d/sv3d replaced by `boxes` (placed after avcC, as the RFC asks)."""

    def edit(tree):
        entry = sample_entry(tree)
        kept = [b for b in entry.children if b.fourcc not in (b"st3d", b"sv3d")]
        after_avcc = next(i for i, b in enumerate(kept) if b.fourcc == b"avcC") + 1
        entry.children = kept[:after_avcc] + list(boxes) + kept[after_avcc:]

    return rewrite(source, target, edit)


def st3d(mode: int) -> Box:
    return Box(b"st3d", bytes(4) + bytes([mode]))


def fixed_16_16(degrees: float) -> int:
    return round(degrees * 65536)


def prhd(yaw: float = 0, pitch: float = 0, roll: float = 0) -> Box:
    return Box(b"prhd", bytes(4) + struct.pack(">3i", fixed_16_16(yaw), fixed_16_16(pitch), fixed_16_16(roll)))


def equi(top: int = 0, bottom: int = 0, left: int = 0, right: int = 0) -> Box:
    return Box(b"equi", bytes(4) + struct.pack(">4I", top, bottom, left, right))


def cbmp(layout: int, padding: int) -> Box:
    return Box(b"cbmp", bytes(4) + struct.pack(">2I", layout, padding))


def mshp(*meshes) -> Box:
    """A mesh projection box: a VR180 camera's fisheye mesh (or the meshes given), deflated as cameras write it."""
    from test_mesh import fisheye_mesh
    from vrplayer.media.mesh import write_mshp

    return Box(b"mshp", write_mshp(list(meshes) or [fisheye_mesh()], compress=True))


def sv3d(*proj_children: Box) -> Box:
    svhd = Box(b"svhd", bytes(4) + b"vrplayer tests\0")
    return Box(b"sv3d", children=[svhd, Box(b"proj", children=list(proj_children))])


def v1_xml(**tags: str) -> str:
    elements = "".join(f"<GSpherical:{tag}>{value}</GSpherical:{tag}>" for tag, value in tags.items())
    return (
        '<?xml version="1.0"?><rdf:SphericalVideo xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:GSpherical="http://ns.google.com/videos/1.0/spherical/">{elements}</rdf:SphericalVideo>'
    )


def v1_box(xml: str) -> Box:
    return Box(b"uuid", V1_UUID + xml.encode())


def with_trak_box(source: Path, target: Path, box: Box) -> Path:
    return rewrite(source, target, lambda tree: video_trak(tree).children.append(box))


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def layout_of(path: Path) -> ContainerLayout:
    layout = read_container_layout(str(path))
    assert layout is not None, f"no metadata found in {path.name}"
    for line in layout.problems:
        assert isinstance(line, str) and line and "\n" not in line
    return layout


def problem_with(layout: ContainerLayout, *words: str) -> str:
    matches = [line for line in layout.problems if all(word in line for word in words)]
    assert matches, f"no problem line naming {words}: {layout.problems}"
    return matches[0]


# ---------------------------------------------------------------------------------------------------------------
# Spherical Video V2 in MP4


def test_v2_equirect_mono(any_mp4, tmp_path):
    path = with_entry_boxes(any_mp4, tmp_path / "mono.mp4", st3d(0), sv3d(prhd(), equi()))
    assert read_container_layout(str(path)) == ContainerLayout(
        kind="Spherical Video V2", projection="equirectangular", stereo="mono", eyes_swapped=False,
        crop=(0.0, 0.0, 0.0, 0.0), pose=(0.0, 0.0, 0.0), problems=[],
    )
    assert decoded_frames(path) == 3  # the rewrite kept the film playable (chunk offsets moved with mdat)


def test_v2_without_st3d_leaves_stereo_unknown(v2_mp4):
    # mkvmerge writes no StereoMode for mono, so ffmpeg writes no st3d: the container says nothing about stereo.
    layout = layout_of(v2_mp4("equi-nostereo", "--projection-type", "0:1"))
    assert (layout.kind, layout.projection, layout.stereo, layout.eyes_swapped) == (
        "Spherical Video V2", "equirectangular", None, None)
    assert layout.crop == (0.0, 0.0, 0.0, 0.0)
    assert layout.problems == []


@pytest.mark.parametrize("faststart", [False, True], ids=["moov-last", "moov-first"])
def test_v2_top_bottom_from_ffmpeg(v2_mp4, faststart):
    options = ("--projection-type", "0:1", "--stereo-mode", "0:top_bottom_left_first")
    path = v2_mp4("equi-tb", *options, faststart=faststart)
    layout = layout_of(path)
    assert (layout.kind, layout.projection, layout.stereo, layout.eyes_swapped) == (
        "Spherical Video V2", "equirectangular", "top-bottom", False)
    assert layout.problems == []


def test_v2_left_right_from_ffmpeg(v2_mp4):
    layout = layout_of(v2_mp4("equi-lr", "--projection-type", "0:1", "--stereo-mode", "0:side_by_side_left_first"))
    assert (layout.stereo, layout.eyes_swapped, layout.problems) == ("side-by-side", False, [])


def test_v2_right_left_injected(any_mp4, tmp_path):
    # ffmpeg 5.1 refuses to write st3d for right-eye-first packing, so we write stereo_mode 4 ourselves.
    path = with_entry_boxes(any_mp4, tmp_path / "rl.mp4", st3d(4), sv3d(prhd(), equi()))
    layout = layout_of(path)
    assert (layout.stereo, layout.eyes_swapped, layout.problems) == ("side-by-side", True, [])
    assert decoded_frames(path) == 3


def test_v2_vr180_crop_and_pose_from_ffmpeg(v2_mp4):
    path = v2_mp4(
        "vr180", "--projection-type", "0:1", "--projection-private", f"0:{VR180_PRIVATE}",
        "--projection-pose-yaw", "0:30", "--projection-pose-pitch", "0:-10", "--projection-pose-roll", "0:5",
        "--stereo-mode", "0:side_by_side_left_first",
    )
    layout = layout_of(path)
    assert layout.crop == (0.25, 0.0, 0.25, 0.0)
    assert layout.pose == (30.0, -10.0, 5.0)
    assert (layout.projection, layout.stereo, layout.problems) == ("equirectangular", "side-by-side", [])


def test_v2_pose_fractions_from_16_16(base_mp4, tmp_path):
    path = with_entry_boxes(base_mp4, tmp_path / "pose.mp4", sv3d(prhd(-45.5, 12.25, -0.5), equi()))
    assert layout_of(path).pose == (-45.5, 12.25, -0.5)


def test_v2_uneven_crop_keeps_left_top_right_bottom_order(base_mp4, tmp_path):
    # equi stores top, bottom, left, right; our tuple is left, top, right, bottom.
    bounds = equi(top=0x10000000, bottom=0x20000000, left=0x30000000, right=0x08000000)
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "crop.mp4", sv3d(prhd(), bounds)))
    assert layout.crop == (0.1875, 0.0625, 0.03125, 0.125)


def test_v2_cubemap_from_ffmpeg(v2_mp4):
    layout = layout_of(v2_mp4("cube", "--projection-type", "0:2", "--projection-private", "0:000000000000000000000004"))
    assert (layout.projection, layout.cubemap_layout, layout.cubemap_padding) == ("cubemap", 0, 4)
    assert (layout.crop, layout.problems) == (None, [])


def test_v2_cubemap_injected_with_unknown_layout(base_mp4, tmp_path):
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "cube.mp4", sv3d(prhd(), cbmp(1, 7))))
    assert (layout.projection, layout.cubemap_layout, layout.cubemap_padding) == ("cubemap", 1, 7)
    problem_with(layout, "cbmp", "layout 1")


def test_v2_mesh_is_named_and_not_drawn(base_mp4, tmp_path):
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "mesh.mp4", st3d(2), sv3d(prhd(yaw=90), mshp())))
    assert (layout.projection, layout.stereo, layout.pose) == ("mesh", "side-by-side", (90.0, 0.0, 0.0))
    assert layout.problems == []  # a fact, not a fault: the layout decision names what to do (test_layout_probe)
    assert len(layout.meshes) == 1 and layout.meshes[0].vertex_count == 1600  # the mesh itself, read


def test_v2_stereo_meshes_and_a_damaged_one(base_mp4, tmp_path):
    from test_mesh import fisheye_mesh

    left, right = fisheye_mesh(half=0), fisheye_mesh(half=1)
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "meshes.mp4", st3d(3), sv3d(prhd(), mshp(left, right))))
    assert [len(m.triangles) for m in layout.meshes] == [2 * 39 * 39] * 2
    assert layout.meshes[1].uv[:, 0].min() >= 0.5  # the right eye's mesh samples the right half
    damaged = Box(b"mshp", bytes(4) + struct.pack(">I4s", 1234, b"raw ") + bytes(32))
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "damaged.mp4", st3d(0), sv3d(prhd(), damaged)))
    assert layout.projection == "mesh" and layout.meshes is None
    problem_with(layout, "mshp", "CRC")


def test_largesize_boxes_on_the_path(any_mp4, tmp_path):
    def edit(tree):
        entry = sample_entry(tree)
        entry.children.insert(1, sv3d(prhd(yaw=10), equi(left=0x40000000, right=0x40000000)))
        entry.children.insert(1, st3d(1))
        trak = video_trak(tree)
        # (ffmpeg reads sample entries with 32-bit sizes only, so avc1 keeps its short header for the decode check.)
        for box in (find(tree, b"moov"), trak, find(trak.children, b"mdia", b"minf", b"stbl", b"stsd"),
                    find(entry.children, b"sv3d"), find(tree, b"mdat")):
            box.large = True

    path = rewrite(any_mp4, tmp_path / "large.mp4", edit)
    written = parse_boxes(path.read_bytes())
    assert find(written, b"moov").large and find(written, b"mdat").large
    assert find(sample_entry(written).children, b"sv3d").large
    layout = layout_of(path)
    assert (layout.stereo, layout.crop, layout.pose, layout.problems) == (
        "top-bottom", (0.25, 0.0, 0.25, 0.0), (10.0, 0.0, 0.0), [])
    assert decoded_frames(path) == 3


class SparseFile(io.RawIOBase):
    """A read-only file of `size` bytes, zero but for `pieces` ({offset: bytes}), that counts the bytes read."""

    def __init__(self, size: int, pieces: dict[int, bytes]):
        super().__init__()
        self.size, self.pieces, self.position, self.bytes_read = size, pieces, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        count = max(0, min(len(buffer), self.size - self.position))
        assert count <= 1 << 20, f"a read of {count} bytes at {self.position}: media data is being read"
        chunk = bytearray(count)
        for offset, data in self.pieces.items():
            lo, hi = max(offset, self.position), min(offset + len(data), self.position + count)
            if lo < hi:
                chunk[lo - self.position:hi - self.position] = data[lo - offset:hi - offset]
        buffer[:count] = chunk
        self.position += count
        self.bytes_read += count
        return count


def test_huge_mdat_is_seeked_over_not_read():
    # 8 GiB of media data before moov: the reader must step over it by its 64-bit size, reading next to nothing.
    entry = Box(b"avc1", bytes(78), [st3d(2), sv3d(prhd(), equi())])
    moov = build([Box(b"moov", children=[Box(b"trak", children=[Box(b"mdia", children=[
        Box(b"hdlr", bytes(8) + b"vide" + bytes(13)),
        Box(b"minf", children=[Box(b"stbl", children=[Box(b"stsd", struct.pack(">II", 0, 1), [entry])])]),
    ])])])])
    head = build([Box(b"ftyp", b"isom\0\0\2\0isomiso2")])
    media_size = 8 << 30
    mdat_header = struct.pack(">I4sQ", 1, b"mdat", media_size + 16)
    moov_at = len(head) + 16 + media_size
    file = SparseFile(moov_at + len(moov), {0: head + mdat_header, moov_at: moov})
    layout = read_layout_from(file)
    assert file.bytes_read < 2048
    assert (layout.kind, layout.stereo, layout.projection, layout.problems) == (
        "Spherical Video V2", "side-by-side", "equirectangular", [])


def test_hand_built_mp4_in_memory():
    entry = Box(b"hvc1", bytes(78), [Box(b"hvcC", bytes(23)), st3d(1), sv3d(prhd(yaw=-90), equi(top=0x40000000))])
    stsd = Box(b"stsd", struct.pack(">II", 0, 1), [entry])
    trak = Box(b"trak", children=[Box(b"tkhd", bytes(84)), Box(b"mdia", children=[
        Box(b"hdlr", bytes(8) + b"vide" + bytes(13)), Box(b"minf", children=[Box(b"stbl", children=[stsd])]),
    ])])
    sound = Box(b"trak", children=[Box(b"mdia", children=[Box(b"hdlr", bytes(8) + b"soun" + bytes(13))])])
    entry.large = trak.large = True  # 64-bit sizes where ffmpeg would not follow (a sample entry)
    data = build([Box(b"ftyp", b"isom\0\0\2\0"), Box(b"moov", children=[sound, trak]), Box(b"mdat", bytes(100))])
    assert data.count(b"\x00\x00\x00\x01hvc1") == 1
    layout = read_layout_from(io.BytesIO(data))
    assert layout == ContainerLayout(
        kind="Spherical Video V2", projection="equirectangular", stereo="top-bottom", eyes_swapped=False,
        crop=(0.0, 0.25, 0.0, 0.0), pose=(-90.0, 0.0, 0.0),
    )


def test_size_zero_runs_to_the_end_of_the_parent():
    # Size 0: the box runs to the end of its parent (here sv3d in avc1, and moov at the end of the file).
    open_sv3d = Box(b"", raw=b"\0\0\0\0sv3d" + build([Box(b"proj", children=[prhd(roll=-3), cbmp(0, 1)])]))
    entry = Box(b"avc1", bytes(78), [Box(b"avcC", bytes(20)), st3d(0), open_sv3d])
    trak = Box(b"trak", children=[Box(b"mdia", children=[
        Box(b"hdlr", bytes(8) + b"vide" + bytes(13)),
        Box(b"minf", children=[Box(b"stbl", children=[Box(b"stsd", struct.pack(">II", 0, 1), [entry])])]),
    ])])
    data = build([Box(b"ftyp", b"isom\0\0\2\0"), Box(b"mdat", bytes(64))]) + b"\0\0\0\0moov" + build([trak])
    layout = read_layout_from(io.BytesIO(data))
    assert layout == ContainerLayout(
        kind="Spherical Video V2", projection="cubemap", stereo="mono", eyes_swapped=False, cubemap_layout=0,
        cubemap_padding=1, pose=(0.0, 0.0, -3.0),
    )


def test_only_the_video_track_counts():
    # st3d/sv3d in a sound track's sample entry is not about the picture.
    entry = Box(b"avc1", bytes(78), [st3d(1)])
    trak = Box(b"trak", children=[Box(b"mdia", children=[
        Box(b"hdlr", bytes(8) + b"soun" + bytes(13)),
        Box(b"minf", children=[Box(b"stbl", children=[Box(b"stsd", struct.pack(">II", 0, 1), [entry])])]),
    ])])
    data = build([Box(b"ftyp", b"isom\0\0\2\0"), Box(b"moov", children=[trak])])
    assert read_layout_from(io.BytesIO(data)) is None


# ---------------------------------------------------------------------------------------------------------------
# Spherical Video V1 in MP4


def test_v1_uuid_in_trak(any_mp4, tmp_path):
    xml = v1_xml(Spherical="true", Stitched="true", ProjectionType="equirectangular", StereoMode="top-bottom",
                 InitialViewHeadingDegrees="90")
    path = with_trak_box(any_mp4, tmp_path / "v1.mp4", v1_box(xml))
    assert read_container_layout(str(path)) == ContainerLayout(
        kind="Spherical Video V1", projection="equirectangular", stereo="top-bottom", eyes_swapped=False,
        pose=(90.0, 0.0, 0.0), problems=[],
    )
    assert decoded_frames(path) == 3


def test_v1_cropped_area_and_other_namespace_prefix(base_mp4, tmp_path):
    # Another prefix for the same tags, the full pose, and a cropped area: left 1000 of 4000, top 100 of 2000.
    xml = (
        '<rdf:SphericalVideo xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:gs="http://ns.google.com/videos/1.0/spherical/"><gs:Spherical>true</gs:Spherical>'
        "<gs:ProjectionType>equirectangular</gs:ProjectionType><gs:StereoMode>left-right</gs:StereoMode>"
        "<gs:InitialViewHeadingDegrees>-30.5</gs:InitialViewHeadingDegrees>"
        "<gs:InitialViewPitchDegrees>10</gs:InitialViewPitchDegrees>"
        "<gs:InitialViewRollDegrees>2</gs:InitialViewRollDegrees>"
        "<gs:CroppedAreaImageWidthPixels>2000</gs:CroppedAreaImageWidthPixels>"
        "<gs:CroppedAreaImageHeightPixels>1500</gs:CroppedAreaImageHeightPixels>"
        "<gs:FullPanoWidthPixels>4000</gs:FullPanoWidthPixels><gs:FullPanoHeightPixels>2000</gs:FullPanoHeightPixels>"
        "<gs:CroppedAreaLeftPixels>1000</gs:CroppedAreaLeftPixels>"
        "<gs:CroppedAreaTopPixels>100</gs:CroppedAreaTopPixels>"
        "</rdf:SphericalVideo>"
    )
    layout = layout_of(with_trak_box(base_mp4, tmp_path / "v1crop.mp4", v1_box(xml)))
    assert (layout.stereo, layout.pose, layout.problems) == ("side-by-side", (-30.5, 10.0, 2.0), [])
    assert layout.crop == (0.25, 0.05, 0.25, 0.2)


def test_v1_uuid_at_moov_level(base_mp4, tmp_path):
    xml = v1_xml(Spherical="true", ProjectionType="equirectangular", StereoMode="mono")
    path = rewrite(base_mp4, tmp_path / "v1moov.mp4", lambda tree: find(tree, b"moov").children.append(v1_box(xml)))
    layout = layout_of(path)
    assert (layout.kind, layout.projection, layout.stereo, layout.pose) == (
        "Spherical Video V1", "equirectangular", "mono", None)


def test_v1_malformed_xml_is_a_problem(base_mp4, tmp_path):
    path = with_trak_box(base_mp4, tmp_path / "v1bad.mp4", v1_box("<rdf:SphericalVideo><GSpherical:Spher"))
    layout = layout_of(path)
    assert (layout.kind, layout.projection, layout.stereo) == ("Spherical Video V1", None, None)
    problem_with(layout, "uuid", "Spherical Video V1", "malformed")


def test_v1_values_quoted_in_problems_stay_one_line(base_mp4, tmp_path):
    xml = v1_xml(Spherical="true", ProjectionType="cubic\nsomething", StereoMode="top-\n  bottom",
                 InitialViewPitchDegrees="up\n")
    layout = layout_of(with_trak_box(base_mp4, tmp_path / "v1lines.mp4", v1_box(xml)))
    assert (layout.projection, layout.stereo, layout.pose) == ("cubic something", "top- bottom", None)
    assert len(layout.problems) == 3  # projection, stereo mode, pitch: each named on its own single line


def test_other_uuid_boxes_are_not_v1(base_mp4, tmp_path):
    other = Box(b"uuid", bytes(range(16)) + v1_xml(StereoMode="top-bottom").encode())
    assert read_container_layout(str(with_trak_box(base_mp4, tmp_path / "uuid.mp4", other))) is None


def _v1_and_v2(source: Path, target: Path, v1_stereo: str, v2_mode: int) -> Path:
    xml = v1_xml(Spherical="true", ProjectionType="equirectangular", StereoMode=v1_stereo)

    def edit(tree):
        video_trak(tree).children.append(v1_box(xml))
        sample_entry(tree).children[1:1] = [st3d(v2_mode), sv3d(prhd(), equi())]

    return rewrite(source, target, edit)


def test_v1_and_v2_agreeing_uses_v2_quietly(base_mp4, tmp_path):
    layout = layout_of(_v1_and_v2(base_mp4, tmp_path / "both.mp4", "top-bottom", 1))
    assert (layout.kind, layout.stereo, layout.problems) == ("Spherical Video V2", "top-bottom", [])


def test_v1_and_v2_disagreeing_uses_v2_and_says_so(base_mp4, tmp_path):
    layout = layout_of(_v1_and_v2(base_mp4, tmp_path / "both.mp4", "top-bottom", 0))
    assert (layout.kind, layout.stereo) == ("Spherical Video V2", "mono")
    assert layout.problems == [problem_with(layout, "V1", "top-bottom", "mono")]


# ---------------------------------------------------------------------------------------------------------------
# Matroska


@pytest.mark.parametrize(
    "mode, stereo, swapped",
    [(1, "side-by-side", False), (2, "top-bottom", True), (3, "top-bottom", False), (11, "side-by-side", True)],
)
def test_matroska_stereo_modes(tagged_mkv, mode, stereo, swapped):
    layout = layout_of(tagged_mkv(f"mkv-stereo{mode}", "--projection-type", "0:1", "--stereo-mode", f"0:{mode}"))
    assert (layout.kind, layout.projection, layout.stereo, layout.eyes_swapped) == (
        "Matroska Projection", "equirectangular", stereo, swapped)
    # No ProjectionPrivate means "20 zero bytes": the full sphere. No pose elements: none stored.
    assert (layout.crop, layout.pose, layout.problems) == ((0.0, 0.0, 0.0, 0.0), None, [])


def test_matroska_vr180_private_and_pose_floats(tagged_mkv):
    # (mkvmerge 74 mis-parses negative values with a fraction: "-45.5" is stored as -44.5. Whole negatives are fine.)
    path = tagged_mkv(
        "mkv-vr180", "--projection-type", "0:1", "--projection-private", f"0:{VR180_PRIVATE}",
        "--projection-pose-yaw", "0:-45", "--projection-pose-pitch", "0:12.25", "--projection-pose-roll", "0:3",
        "--stereo-mode", "0:side_by_side_left_first",
    )
    assert read_container_layout(str(path)) == ContainerLayout(
        kind="Matroska Projection", projection="equirectangular", stereo="side-by-side", eyes_swapped=False,
        crop=(0.25, 0.0, 0.25, 0.0), pose=(-45.0, 12.25, 3.0), problems=[],
    )


def test_matroska_cubemap(tagged_mkv):
    path = tagged_mkv("mkv-cube", "--projection-type", "0:2", "--projection-private", "0:000000000000000000000002")
    layout = layout_of(path)
    assert (layout.projection, layout.cubemap_layout, layout.cubemap_padding, layout.problems) == ("cubemap", 0, 2, [])


def test_matroska_stereo_mode_alone(tagged_mkv):
    layout = layout_of(tagged_mkv("mkv-stereo-only", "--stereo-mode", "0:top_bottom_right_first"))
    assert (layout.kind, layout.projection, layout.stereo, layout.eyes_swapped) == (
        "Matroska StereoMode", None, "top-bottom", True)


@pytest.mark.parametrize("mode, words", [(4, "checkerboard"), (10, "anaglyph"), (13, "laced")])
def test_matroska_unsupported_stereo_modes(tagged_mkv, mode, words):
    layout = layout_of(tagged_mkv(f"mkv-stereo{mode}", "--stereo-mode", f"0:{mode}"))
    assert words in layout.stereo  # named; the layout decision says it is not supported (test_layout)
    assert layout.problems == []


def test_matroska_from_ffmpeg_sized_and_live(tagged_mkv, films):
    # ffmpeg writes 8-byte floats (mkvmerge 4-byte ones), and an unknown-size Segment when writing to a pipe.
    source = tagged_mkv("mkv-ff-source", "--projection-type", "0:1", "--projection-pose-yaw", "0:30",
                        "--projection-private", f"0:{VR180_PRIVATE}", "--stereo-mode", "0:3")
    sized, live = films / "ff-sized.mkv", films / "ff-live.mkv"
    _run("ffmpeg", "-v", "error", "-y", "-i", source, "-c", "copy", sized)
    with open(live, "wb") as out:
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(source), "-c", "copy", "-f", "matroska", "pipe:1"],
                       stdout=out, check=True, timeout=60)
    assert b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" in live.read_bytes()[:100]  # the Segment size is unknown
    for path in (sized, live):
        layout = layout_of(path)
        assert (layout.stereo, layout.crop, layout.pose, layout.problems) == (
            "top-bottom", (0.25, 0.0, 0.25, 0.0), (30.0, 0.0, 0.0), []), path.name


def ebml_size(size: int) -> bytes:
    length = next(n for n in range(1, 9) if size < (1 << (7 * n)) - 1)
    return (size | (1 << (7 * length))).to_bytes(length, "big")


def el(element_id: int, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + ebml_size(len(payload)) + payload


UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"
EBML_HEADER = el(0x1A45DFA3, el(0x4282, b"webm"))


def video_track(*video_children: bytes) -> bytes:
    return el(0x1654AE6B, el(0xAE, el(0xD7, b"\x01"), el(0x83, b"\x01"), el(0xE0, *video_children)))


def test_hand_built_webm_tracks_after_clusters_found_by_seekhead():
    # A live-style file: unknown-size Segment, Clusters first, Tracks last, SeekHead pointing at it.
    yaw, roll = el(0x7673, struct.pack(">f", 15.5)), el(0x7675, struct.pack(">d", -2.5))  # 4- and 8-byte floats
    projection = el(0x7670, el(0x7671, b"\x01"), yaw, roll)
    tracks = video_track(el(0x53B8, b"\x01"), projection)
    clusters = el(0x1F43B675, bytes(50)) + el(0x1F43B675, bytes(70))

    def seek_head(position: int) -> bytes:
        return el(0x114D9B74, el(0x4DBB, el(0x53AB, b"\x16\x54\xae\x6b"), el(0x53AC, position.to_bytes(4, "big"))))

    head_size = len(seek_head(0))
    segment_data = seek_head(head_size + len(clusters)) + clusters + tracks
    data = EBML_HEADER + b"\x18\x53\x80\x67" + UNKNOWN_SIZE + segment_data
    layout = read_layout_from(io.BytesIO(data))
    assert layout == ContainerLayout(
        kind="Matroska Projection", projection="equirectangular", stereo="side-by-side", eyes_swapped=False,
        crop=(0.0, 0.0, 0.0, 0.0), pose=(15.5, 0.0, -2.5),
    )
    # Without the SeekHead, sized Clusters are stepped over until Tracks turns up.
    assert read_layout_from(io.BytesIO(EBML_HEADER + el(0x18538067, clusters + tracks))) == layout


def test_hand_built_webm_problems():
    def layout_for(*video_children: bytes) -> ContainerLayout:
        data = EBML_HEADER + el(0x18538067, video_track(*video_children))
        layout = read_layout_from(io.BytesIO(data))
        assert layout is not None
        return layout

    short = layout_for(el(0x7670, el(0x7671, b"\x01"), el(0x7672, bytes(12))))
    assert (short.projection, short.crop) == ("equirectangular", None)
    problem_with(short, "ProjectionPrivate", "12 bytes", "expected 20")

    mesh = layout_for(el(0x7670, el(0x7671, b"\x03"), el(0x7672, mshp().body)))
    assert mesh.projection == "mesh" and mesh.problems == [] and mesh.meshes[0].vertex_count == 1600
    zeros = layout_for(el(0x7670, el(0x7671, b"\x03"), el(0x7672, bytes(40))))
    assert zeros.projection == "mesh" and zeros.meshes is None
    problem_with(zeros, "ProjectionType 3", "CRC")

    odd_float = layout_for(el(0x7670, el(0x7671, b"\x01"), el(0x7673, bytes(3)), el(0x7674, struct.pack(">f", 9))))
    assert odd_float.pose is None
    problem_with(odd_float, "ProjectionPoseYaw", "3 bytes")
    not_a_number = layout_for(el(0x7670, el(0x7671, b"\x01"), el(0x7675, struct.pack(">d", float("nan")))))
    assert not_a_number.pose is None
    problem_with(not_a_number, "ProjectionPoseRoll", "nan")

    undefined = layout_for(el(0x53B8, b"\x20"))
    assert (undefined.kind, undefined.stereo) == ("Matroska StereoMode", None)
    problem_with(undefined, "StereoMode 32", "not defined")

    # A Projection whose declared size runs past its Video parent: named, and nothing past it read.
    video = el(0xE0, el(0x53B8, b"\x03"), b"\x76\x70" + ebml_size(500) + el(0x7671, b"\x01"))
    data = EBML_HEADER + el(0x18538067, el(0x1654AE6B, el(0xAE, el(0x83, b"\x01"), video)))
    layout = read_layout_from(io.BytesIO(data))
    assert (layout.kind, layout.stereo, layout.projection) == ("Matroska StereoMode", "top-bottom", None)
    problem_with(layout, "Projection", "overrunning", "Video")


def test_hand_built_webm_seekhead_past_an_unknown_size_cluster():
    # An unknown-size Cluster cannot be stepped over by its size: only the SeekHead finds the Tracks behind it.
    tracks = el(0x1654AE6B,
                el(0xAE, el(0xD7, b"\x01"), el(0x83, b"\x02")),  # an audio track first: not the picture
                el(0xAE, el(0xD7, b"\x02"), el(0x83, b"\x01"), el(0xE0, el(0x53B8, b"\x0b"))))
    cluster = b"\x1f\x43\xb6\x75" + UNKNOWN_SIZE + el(0xE7, b"\x00") + el(0xA3, bytes(40))
    seek_head_size = len(el(0x114D9B74, el(0x4DBB, el(0x53AB, b"\x16\x54\xae\x6b"), el(0x53AC, bytes(4)))))
    position = (seek_head_size + len(cluster)).to_bytes(4, "big")
    seek_head = el(0x114D9B74, el(0x4DBB, el(0x53AB, b"\x16\x54\xae\x6b"), el(0x53AC, position)))
    layout = read_layout_from(io.BytesIO(EBML_HEADER + el(0x18538067, seek_head, cluster, tracks)))
    assert layout == ContainerLayout(kind="Matroska StereoMode", stereo="side-by-side", eyes_swapped=True)


def test_webm_cluster_of_unknown_size_before_tracks_gives_none():
    data = EBML_HEADER + b"\x18\x53\x80\x67" + UNKNOWN_SIZE + b"\x1f\x43\xb6\x75" + UNKNOWN_SIZE + bytes(64)
    assert read_layout_from(io.BytesIO(data)) is None


# ---------------------------------------------------------------------------------------------------------------
# No metadata, and files that cannot be read


def test_no_metadata(base_mp4, faststart_mp4, tagged_mkv, films, tmp_path):
    plain_ffmpeg_mkv = films / "plain-ffmpeg.mkv"
    _run("ffmpeg", "-v", "error", "-y", "-i", base_mp4, "-c", "copy", plain_ffmpeg_mkv)
    (tmp_path / "notes.txt").write_text("this is not a film at all\n")
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "noise.bin").write_bytes(random.Random(1).randbytes(5000))
    for path in (base_mp4, faststart_mp4, tagged_mkv("plain-mkvmerge"), plain_ffmpeg_mkv,
                 tmp_path / "notes.txt", tmp_path / "empty.mp4", tmp_path / "noise.bin"):
        assert read_container_layout(str(path)) is None, path.name


def test_unreadable_paths_raise_oserror(tmp_path):
    with pytest.raises(OSError):
        read_container_layout(str(tmp_path / "missing.mp4"))
    with pytest.raises(OSError):
        read_container_layout(str(tmp_path))


# ---------------------------------------------------------------------------------------------------------------
# Malformed metadata: problem lines, never exceptions


def test_prhd_too_short(base_mp4, tmp_path):
    short_prhd = Box(b"prhd", bytes(4) + bytes(8))
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "prhd.mp4", sv3d(short_prhd, equi())))
    assert (layout.projection, layout.pose, layout.crop) == ("equirectangular", None, (0.0, 0.0, 0.0, 0.0))
    assert layout.problems == ["avc1/sv3d/proj/prhd is 12 bytes, expected 16: pose ignored"]


def test_st3d_undefined_and_custom_modes(base_mp4, tmp_path):
    undefined = layout_of(with_entry_boxes(base_mp4, tmp_path / "st3d7.mp4", st3d(7)))
    assert (undefined.kind, undefined.stereo, undefined.eyes_swapped) == ("Spherical Video V2", None, None)
    assert undefined.problems == ["avc1/st3d stereo_mode 7 is not defined: stereo mode ignored"]
    custom = layout_of(with_entry_boxes(base_mp4, tmp_path / "st3d3.mp4", st3d(3)))
    assert custom.stereo == "custom" and custom.problems == []


def test_equi_bounds_summing_past_one(base_mp4, tmp_path):
    bounds = equi(top=0x80000000, bottom=0x90000000)
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "equi.mp4", sv3d(prhd(), bounds)))
    assert (layout.projection, layout.crop) == ("equirectangular", None)
    problem_with(layout, "avc1/sv3d/proj/equi", "crop ignored")


def test_unknown_version_and_missing_or_doubled_projection(base_mp4, tmp_path):
    version1 = Box(b"equi", b"\x01" + bytes(3) + bytes(16))
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "v1equi.mp4", sv3d(prhd(), version1)))
    assert (layout.projection, layout.crop) == ("equirectangular", None)
    problem_with(layout, "equi", "version 1")

    missing = layout_of(with_entry_boxes(base_mp4, tmp_path / "noproj.mp4", sv3d(prhd(yaw=5))))
    assert (missing.projection, missing.pose) == (None, (5.0, 0.0, 0.0))
    problem_with(missing, "proj", "no equi, cbmp or mshp")

    doubled = layout_of(with_entry_boxes(base_mp4, tmp_path / "twoproj.mp4", sv3d(prhd(), cbmp(0, 3), equi())))
    assert (doubled.projection, doubled.cubemap_padding) == ("cubemap", 3)
    problem_with(doubled, "2 projection boxes", "cbmp, equi")


def test_box_overrunning_its_parent(base_mp4, tmp_path):
    # A valid st3d, then a box claiming 1000 bytes inside a sample entry far smaller than that.
    liar = Box(b"", raw=struct.pack(">I4s", 1000, b"sv3d") + bytes(40))
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "overrun.mp4", st3d(1), liar))
    assert (layout.stereo, layout.projection) == ("top-bottom", None)
    problem_with(layout, "avc1/sv3d", "overrunning avc1")


def test_box_smaller_than_its_header(base_mp4, tmp_path):
    tiny = Box(b"", raw=struct.pack(">I4s", 4, b"abcd"))
    layout = layout_of(with_entry_boxes(base_mp4, tmp_path / "tiny.mp4", st3d(2), tiny, sv3d(prhd(), equi())))
    assert layout.stereo == "side-by-side"
    problem_with(layout, "abcd", "declares 4 bytes")


def test_truncated_files(base_mp4, faststart_mp4, tmp_path):
    boxes = (st3d(1), sv3d(prhd(yaw=20), equi()))
    # moov first, cut in the middle of mdat: nothing after moov is read, so the metadata comes back whole.
    whole = with_entry_boxes(faststart_mp4, tmp_path / "fs.mp4", *boxes).read_bytes()
    cut = tmp_path / "cut-mdat.mp4"
    cut.write_bytes(whole[:-500])
    layout = layout_of(cut)
    assert (layout.stereo, layout.pose, layout.problems) == ("top-bottom", (20.0, 0.0, 0.0), [])

    # moov last, cut near its end (in udta): the metadata is whole, the truncation is noted.
    whole = with_entry_boxes(base_mp4, tmp_path / "end.mp4", *boxes).read_bytes()
    cut = tmp_path / "cut-udta.mp4"
    cut.write_bytes(whole[:-20])
    layout = layout_of(cut)
    assert (layout.stereo, layout.pose) == ("top-bottom", (20.0, 0.0, 0.0))
    assert layout.problems == [problem_with(layout, "truncated", "moov")]

    # moov last, cut inside prhd: what can be read is, the rest is named.
    cut = tmp_path / "cut-prhd.mp4"
    cut.write_bytes(whole[:whole.index(b"prhd") + 10])
    layout = layout_of(cut)
    assert layout.stereo == "top-bottom"
    assert layout.pose is None
    problem_with(layout, "truncated")
    problem_with(layout, "prhd", "expected 16")


def test_every_cut_and_corruption_is_survived(base_mp4, tagged_mkv, tmp_path):
    """Cut the films at every byte of their metadata, and flip bytes at random in it: no exception ever."""
    v1 = v1_box(v1_xml(Spherical="true", StereoMode="top-bottom", InitialViewHeadingDegrees="5"))
    mp4 = with_entry_boxes(base_mp4, tmp_path / "v2.mp4", st3d(1), sv3d(prhd(yaw=20), equi()))
    mp4 = with_trak_box(mp4, tmp_path / "v1v2.mp4", v1).read_bytes()
    mkv = tagged_mkv("mkv-fuzz", "--projection-type", "0:1", "--stereo-mode", "0:1",
                     "--projection-private", f"0:{VR180_PRIVATE}").read_bytes()
    rng = random.Random(7)
    for data, start in ((mp4, mp4.index(b"moov") - 4), (mkv, 0)):
        end = min(len(data), start + 1200)
        for cut in range(start, end):
            layout = read_layout_from(io.BytesIO(data[:cut]))
            assert layout is None or isinstance(layout, ContainerLayout)
        for _ in range(300):
            corrupt = bytearray(data)
            for _ in range(3):
                corrupt[rng.randrange(start, end)] = rng.randrange(256)
            layout = read_layout_from(io.BytesIO(bytes(corrupt)))
            assert layout is None or all("\n" not in line for line in layout.problems)


# ---------------------------------------------------------------------------------------------------------------
# Cross-check with ffmpeg's own reading (frame side data through PyAV)


def ffmpeg_side_data(path: Path) -> dict[str, tuple]:
    """SPHERICAL → (projection, yaw, pitch, roll, left, top, right, bottom, padding); STEREO3D → (type, flags)."""
    with av.open(str(path)) as container:
        coded = getattr(container.streams.video[0].codec_context, "coded_side_data", None)
        if coded is not None:  # PyAV 19: the stream's side data, as raw structs
            found = {}
            if "spherical" in coded:
                found["SPHERICAL"] = struct.unpack_from("<iiiiIIIII", bytes(coded["spherical"]))
            if "stereo_3d" in coded:
                found["STEREO3D"] = struct.unpack_from("<ii", bytes(coded["stereo_3d"]))
            return found
        frame = next(container.decode(video=0))  # PyAV 18: the first frame's side data
        side_data = getattr(frame, "side_data", None)
        if side_data is None or not hasattr(side_data, "__iter__"):
            pytest.skip("this PyAV does not expose frame side data")
        found = {}
        for item in side_data:
            kind = getattr(getattr(item, "type", None), "name", None)
            if kind == "SPHERICAL":
                found[kind] = struct.unpack_from("<iiiiIIIII", bytes(item))
            elif kind == "STEREO3D":
                found[kind] = struct.unpack_from("<ii", bytes(item))
        return found


CROSS_CHECK_FILMS = {
    "vr180-tb-pose": ("--projection-type", "0:1", "--projection-private", f"0:{VR180_PRIVATE}",
                      "--projection-pose-yaw", "0:30", "--projection-pose-pitch", "0:-10",
                      "--projection-pose-roll", "0:5", "--stereo-mode", "0:3"),
    "equi-sbs": ("--projection-type", "0:1", "--stereo-mode", "0:1"),
    "equi-sbs-right-first": ("--projection-type", "0:1", "--stereo-mode", "0:11"),
    "equi-tb-right-first": ("--projection-type", "0:1", "--stereo-mode", "0:2"),
    "cube-pad": ("--projection-type", "0:2", "--projection-private", "0:000000000000000000000004"),
}
FFMPEG_PROJECTIONS = {0: "equirectangular", 1: "cubemap", 2: "equirectangular"}  # 2: ffmpeg's "tiled" (cropped) equi


# ffmpeg 5.1 writes no st3d for right-eye-first packing, so those films are only checked as Matroska.
CROSS_CHECKS = [(film, "mkv") for film in CROSS_CHECK_FILMS] + [
    (film, "mp4") for film in CROSS_CHECK_FILMS if "right-first" not in film]


@pytest.mark.parametrize("film, container", CROSS_CHECKS)
def test_ffmpeg_reads_the_same(tagged_mkv, v2_mp4, film, container):
    options = CROSS_CHECK_FILMS[film]
    path = tagged_mkv(film, *options) if container == "mkv" else v2_mp4(film, *options)
    ours = layout_of(path)
    theirs = ffmpeg_side_data(path)
    assert "SPHERICAL" in theirs
    projection, yaw, pitch, roll, left, top, right, bottom, padding = theirs["SPHERICAL"]
    assert ours.projection == FFMPEG_PROJECTIONS[projection]
    assert tuple(round(v * 65536) for v in ours.pose or (0, 0, 0)) == (yaw, pitch, roll)
    if ours.crop is not None:
        assert tuple(round(v * 2**32) for v in ours.crop) == (left, top, right, bottom)
    if ours.projection == "cubemap":
        assert ours.cubemap_padding == padding
    if ours.stereo is None:
        assert "STEREO3D" not in theirs
    else:
        stereo_type, flags = theirs["STEREO3D"]
        assert {1: "side-by-side", 2: "top-bottom"}[stereo_type] == ours.stereo
        assert bool(flags & 1) == ours.eyes_swapped
