"""SA3D: spatial-audio metadata read from real MP4 files (written by PyAV/FFmpeg, which writes the box from the
stream's "SA3D" metadata) and from hand-built boxes for the malformed and QuickTime cases."""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest

from vrplayer.formats.sound import format_for
from vrplayer.media.sa3d import read_sa3d, read_sa3d_from


def write_film(path, codec: str, layout: str, sa3d: str | None, sample_format: str, options=None, video=False):
    """A tiny MP4 whose audio track is `codec` in `layout`, with PyAV's SA3D metadata `sa3d` (e.g. "ambisonic 1",
    "ambisonic 1+stereo"). The AAC encoder takes no ambisonic layout, so the channel count is carried by an
    ordinary one (quad, 5.1); Opus takes any count with mapping family 255; PCM goes in as ipcm."""
    with av.open(str(path), "w", format="mp4") as container:
        if video:
            picture = container.add_stream("mpeg4", rate=24)
            picture.width = picture.height = 16
            picture.pix_fmt = "yuv420p"
        sound = container.add_stream(codec, rate=48000, layout=layout, options=options or {})
        sound.format = sample_format
        if sa3d:
            sound.metadata["SA3D"] = sa3d
        channels = av.AudioLayout(layout).nb_channels
        planar = sample_format.endswith("p")
        dtype = {"s16": np.int16, "flt": np.float32}[sample_format.rstrip("p")]
        data = np.zeros((channels, 960) if planar else (1, 960 * channels), dtype)
        if video:
            image = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            for packet in picture.encode(image):
                container.mux(packet)
            for packet in picture.encode(None):
                container.mux(packet)
        for i in range(3):
            frame = av.AudioFrame.from_ndarray(data, format=sample_format, layout=layout)
            frame.sample_rate = 48000
            frame.pts = i * 960
            for packet in sound.encode(frame):
                container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
    return path


def decide(path):
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels, layout = stream.codec_context.channels, stream.layout.name
    return format_for(channels, read_sa3d(str(path)), None, None, layout_name=layout)


FILMS = {
    "ambix1": ("aac", "quad", "ambisonic 1", "fltp", None),
    "ambix1+stereo": ("aac", "hexagonal", "ambisonic 1+stereo", "fltp", None),
    "ambix2": ("libopus", "9 channels", "ambisonic 2", "flt", {"mapping_family": "255"}),
    "ambix3": ("pcm_s16le", "hexadecagonal", "ambisonic 3", "s16", None),
}


@pytest.mark.parametrize("name", list(FILMS))
def test_detected_from_a_real_file(tmp_path, name):
    codec, layout, sa3d, sample_format, options = FILMS[name]
    path = write_film(tmp_path / f"{name}.mp4", codec, layout, sa3d, sample_format, options)
    box = read_sa3d(str(path))
    assert box is not None and box.problems == []
    assert box.name == name and box.stream_index == 0
    assert box.channel_map == tuple(range(box.num_channels))
    fmt, source, warning = decide(path)
    assert (fmt.name, source, warning) == (name, "SA3D box", None)


def test_first_audio_track_after_a_video_track(tmp_path):
    path = write_film(tmp_path / "film.mp4", "aac", "hexagonal", "ambisonic 1+stereo", "fltp", video=True)
    box = read_sa3d(str(path))
    assert box.name == "ambix1+stereo" and box.stream_index == 1
    with av.open(str(path)) as container:
        assert container.streams.audio[0].index == 1  # the track order is PyAV's stream index
    assert read_sa3d(str(path), stream_index=1).name == "ambix1+stereo"
    assert read_sa3d(str(path), stream_index=0) is None  # the video track


def test_plain_audio_has_no_box(tmp_path):
    path = write_film(tmp_path / "plain.mp4", "aac", "5.1", None, "fltp")
    assert read_sa3d(str(path)) is None
    fmt, source, _ = decide(path)
    assert (fmt.name, source) == ("5.1", "channel layout '5.1'")


def test_not_mp4(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(range(256)) * 4)
    assert read_sa3d(str(path)) is None
    assert read_sa3d_from(io.BytesIO(b"")) is None


# ---------------------------------------------------------------------------------------------------------------
# Hand-built boxes


def box(fourcc: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), fourcc) + payload


def sa3d_body(version=0, kind=0, order=1, ordering=0, normalization=0, channels=None, channel_map=None) -> bytes:
    channels = (order + 1) ** 2 + (2 if kind & 0x80 else 0) if channels is None else channels
    channel_map = list(range(channels)) if channel_map is None else channel_map
    return struct.pack(">BBIBBI", version, kind, order, ordering, normalization, channels) + struct.pack(
        f">{len(channel_map)}I", *channel_map)


def mp4(sa3d_payload: bytes | None, sound_version: int = 0, brand: bytes = b"isom", entry: bytes = b"mp4a") -> bytes:
    fields = struct.pack(">6xH", 1) + struct.pack(">HHIHHHHI", sound_version, 0, 0, 2, 16, 0, 0, 48000 << 16)
    fields += bytes({0: 0, 1: 16, 2: 36}[sound_version])
    children = box(b"esds", bytes(20)) + (box(b"SA3D", sa3d_payload) if sa3d_payload is not None else b"")
    stsd = box(b"stsd", struct.pack(">II", 0, 1) + box(entry, fields + children))
    hdlr = box(b"hdlr", struct.pack(">II4s12x", 0, 0, b"soun") + b"sound\0")
    trak = box(b"trak", box(b"mdia", box(b"mdhd", bytes(24)) + hdlr + box(b"minf", box(b"stbl", stsd))))
    return box(b"ftyp", brand + bytes(4)) + box(b"moov", trak) + box(b"mdat", bytes(16))


def read(data: bytes):
    return read_sa3d_from(io.BytesIO(data))


def test_hand_built_box_and_channel_map():
    assert read(mp4(sa3d_body(order=2))).name == "ambix2"
    found = read(mp4(sa3d_body(order=1, channel_map=[0, 2, 3, 1])))
    assert found.problems == [] and found.audio_format().channel_map == (0, 2, 3, 1)
    assert read(mp4(sa3d_body(kind=0x80, order=3))).name == "ambix3+stereo"
    assert read(mp4(None)) is None


@pytest.mark.parametrize("version", [1, 2])
def test_quicktime_sound_descriptions(version):
    # QuickTime version 1 / 2 sound sample descriptions carry 16 / 36 more bytes before their boxes.
    assert read(mp4(sa3d_body(order=1), sound_version=version, brand=b"qt  ", entry=b"sowt")).name == "ambix1"


@pytest.mark.parametrize("payload, words", [
    (sa3d_body(version=1), "version 1"),
    (sa3d_body(kind=1), "ambisonic_type 1"),
    (sa3d_body(ordering=1), "channel_ordering 1"),
    (sa3d_body(normalization=1), "normalization 1"),
    (sa3d_body(order=0, channels=1), "ambisonic_order 0"),
    (sa3d_body(order=1, channels=6), "num_channels 6"),
    (sa3d_body(kind=0x80, order=1, channels=4, channel_map=[0, 1, 2, 3]), "num_channels 4"),
    (sa3d_body(order=1, channel_map=[0, 1, 2]), "cut short"),
    (sa3d_body(order=1, channel_map=[0, 1, 1, 3]), "not a permutation"),
    (sa3d_body(order=1, channel_map=[0, 1, 2, 9]), "not a permutation"),
    (b"\0\0\0", "too short"),
])
def test_malformed_box_gives_a_problem_line(payload, words):
    found = read(mp4(payload))
    assert found is not None and found.audio_format() is None
    assert any(words in line for line in found.problems), found.problems
    assert all("\n" not in line for line in found.problems)
    fmt, source, warning = format_for(4, found)
    assert (fmt.name, source) == ("stereo", "fallback") and "SA3D box unusable" in warning


def test_truncated_and_corrupt_files_do_not_raise():
    data = mp4(sa3d_body(order=1))
    for cut in range(8, len(data), 7):
        read(data[:cut])  # no exception, whatever it finds
    corrupt = bytearray(data)
    corrupt[data.index(b"stsd") - 4 : data.index(b"stsd")] = struct.pack(">I", 3)  # a size below the header
    assert read(bytes(corrupt)) is None
