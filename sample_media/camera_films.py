"""Camera files made the way the cameras make them, as far as vrplayer/cameras/facts.py knows (no real camera's
file is at hand, so these follow those facts exactly): for the tests and the benchmarks."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import av
import numpy as np

from vrplayer.cameras import facts

SEAM_MARK = (255, 0, 255)  # the lens-overlap band, marked: none of it may show once the band is cut out


def gopro_tracks(canvas: np.ndarray, strip: int, marked: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A 3x2 EAC picture (no padding) as a GoPro MAX's two track pictures: each row of faces with a band of `strip`
    pixels in the middle of its side faces, where the lenses' seam runs: marked (SEAM_MARK), or (marked=False) what
    both lenses saw there, the face's own columns round the seam."""
    face = canvas.shape[0] // 2
    half = face // 2
    tracks = []
    for row in (canvas[:face], canvas[face:]):
        left, middle, right = row[:, :face], row[:, face:2 * face], row[:, 2 * face:]

        def band(side):
            if not marked:
                return side[:, half - strip // 2:half + strip // 2]
            mark = np.empty((face, strip, 3), np.uint8)
            mark[:] = SEAM_MARK
            return mark

        tracks.append(np.concatenate([left[:, :half], band(left), left[:, half:], middle, right[:, :half],
                                      band(right), right[:, half:]], axis=1))
    return tracks[0], tracks[1]


def ambisonic_tone(seconds: float, azimuth: float, rate: int = 48000, hz: float = 500.0) -> np.ndarray:
    """First-order AmbiX (ACN W Y Z X, SN3D) of a tone from `azimuth` degrees (to the left positive, on the
    horizon): (4, samples) float."""
    t = np.arange(int(seconds * rate)) / rate
    s = 0.3 * np.sin(2 * math.pi * hz * t)
    a = math.radians(azimuth)
    return np.stack([s, s * math.sin(a), 0 * s, s * math.cos(a)])


def _klv(key: str, kind: str, size: int, repeat: int, data: bytes) -> bytes:
    """One GPMF entry, its data padded to 4 bytes."""
    head = key.encode() + bytes([0 if kind == "\0" else ord(kind), size]) + struct.pack(">H", repeat)
    return head + data + bytes((-len(data)) % 4)


def gpmf_gravity(samples) -> bytes:
    """A GPMF payload (DEVC → STRM → SCAL, GRAV) of gravity vectors (x, y, z in g)."""
    values = b"".join(struct.pack(">3h", *(round(v * 32767) for v in g)) for g in samples)
    stream = _klv("SCAL", "s", 2, 1, struct.pack(">h", 32767)) + _klv("GRAV", "s", 6, len(samples), values)
    return _klv("DEVC", "\0", 1, len(_klv("STRM", "\0", 1, len(stream), stream)),
                _klv("STRM", "\0", 1, len(stream), stream))


def gopro_max(path: Path, canvas, seconds: float = 1.0, fps: int = 10, strip: int = 32,
              sound_azimuth: float | None = 90.0, marked: bool = True, grain: int = 0, progress=None,
              preset: str = "ultrafast", gravity=None) -> Path:
    """A GoPro MAX `.360`: the canvas (a 3x2 EAC picture, no padding) as two HEVC tracks with GoPro's handler,
    (with sound) a stereo AAC track of silence and a 4-channel PCM track (handler "GoPro AMB") of a tone from
    `sound_azimuth` — streams in the camera's order of kinds: video, AAC, video, PCM. `grain`: ± this many levels
    of noise, new every frame (so it decodes as camera footage does); `progress(frames_written)` after each frame.
    `canvas` may be a list, one picture per frame. `gravity`: a telemetry track ("GoPro MET", GPMF) of the gravity
    vector, a function of film time giving (x, y, z), sampled 20 times a second (the film is then an MP4)."""
    canvases = canvas if isinstance(canvas, list) else [canvas]
    tracks = [gopro_tracks(c, strip, marked) for c in canvases]
    height, width = tracks[0][0].shape[:2]
    with av.open(str(path), "w", format="mp4" if gravity is not None else "mov") as out:
        videos = []
        for _ in range(2):
            stream = out.add_stream("libx265", rate=fps, options={"crf": "12" if not grain else "24", "preset": preset,
                                                                   "x265-params": "log-level=error"})
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.metadata["handler_name"] = facts.GOPRO_VIDEO_HANDLER
            videos.append(stream)
            if sound_azimuth is not None and len(videos) == 1:
                mix = out.add_stream("aac", rate=48000, layout="stereo")
        if sound_azimuth is not None:
            field = out.add_stream("pcm_s16le", rate=48000, layout="quad")
            field.metadata["handler_name"] = facts.GOPRO_SOUND_HANDLER
        if gravity is not None:
            telemetry = out.add_mux_stream("bin_data")
            telemetry.time_base = __import__("fractions").Fraction(1, 1000)
            telemetry.metadata["handler_name"] = facts.GOPRO_TELEMETRY_HANDLER
            for start in np.arange(0.0, seconds, 0.5):
                packet = av.Packet(gpmf_gravity([gravity(start + i / 20) for i in range(10)]))
                packet.stream, packet.pts, packet.dts, packet.duration = telemetry, round(start * 1000), round(start * 1000), 500
                out.mux(packet)
        noise = np.random.default_rng(7)
        for index in range(int(seconds * fps)):
            first, second = tracks[min(index, len(tracks) - 1)]
            for stream, picture in zip(videos, (first, second)):
                if grain:
                    shake = noise.integers(-grain, grain + 1, picture.shape[:2], dtype=np.int16)[..., None]
                    picture = np.clip(picture.astype(np.int16) + shake, 0, 255).astype(np.uint8)
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
                frame.pts = index
                out.mux(stream.encode(frame))
            if progress is not None:
                progress(index + 1)
        for stream in videos:
            out.mux(stream.encode(None))
        if sound_azimuth is not None:
            tone = ambisonic_tone(seconds, sound_azimuth)
            for stream, samples in ((mix, np.zeros((2, tone.shape[1]), np.float32)), (field, tone)):
                for start in range(0, samples.shape[1], 1024):
                    chunk = samples[:, start:start + 1024]
                    if stream is field:
                        frame = av.AudioFrame.from_ndarray((chunk.T * 32767).astype("<i2").reshape(1, -1),
                                                           format="s16", layout="quad")
                    else:
                        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk, np.float32), format="fltp",
                                                           layout="stereo")
                    frame.sample_rate, frame.pts = 48000, start
                    out.mux(stream.encode(frame))
                out.mux(stream.encode(None))
    return path


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _field(number: int, value) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def insv_trailer(camera_type: str = "Insta360 X3", posture: int = 0, file_index: int | None = None,
                 size: tuple[int, int] | None = None, orientations=()) -> bytes:
    """An Insta360 trailer as the facts describe it: a protobuf metadata record and a quaternion record, walked
    backwards from the 72-byte tail (padding, total size, version, magic)."""
    metadata = _field(facts.INSV_FIELD_CAMERA_TYPE, camera_type) + _field(facts.INSV_FIELD_OFFSET, "2_1440_1440_1440_0_0_0_2880_2880")
    metadata += _field(facts.INSV_FIELD_POSTURE, posture // 90)
    if size is not None:
        metadata += _field(facts.INSV_FIELD_DIMENSION, _field(1, size[0]) + _field(2, size[1]))
    if file_index is not None:
        metadata += _field(facts.INSV_FIELD_FILE_GROUP, _field(1, 0) + _field(2, file_index) + _field(4, 2))
    samples = b"".join(struct.pack(facts.INSV_QUATERNION_SAMPLE, round(t * 1000), *q) for t, *q in orientations)
    records = b""
    for record_id, record_format, payload in ((facts.INSV_RECORD_QUATERNIONS, 0, samples),
                                             (facts.INSV_RECORD_METADATA, 1, metadata)):
        records += payload + struct.pack("<BBI", record_format, record_id, len(payload))
    total = len(records) + facts.INSV_TRAILER_TAIL
    return records + bytes(32) + struct.pack("<II", total, 3) + facts.INSV_MAGIC


def turned_lenses(dual_fisheye: np.ndarray) -> np.ndarray:
    """A dual-fisheye picture (back lens left, front right, upright) as an Insta360 records it: each circle turned
    a quarter turn so the lenses' tops meet in the middle (the left clockwise, the right counter-clockwise)."""
    half = dual_fisheye.shape[1] // 2
    return np.concatenate([np.rot90(dual_fisheye[:, :half], k=-1), np.rot90(dual_fisheye[:, half:], k=1)], axis=1)


def _h264_film(path: Path, pictures: list, fps: int, seconds: float) -> None:
    """An H.264 MP4 of one video stream per entry of `pictures`: a picture, or a list of them (one per frame)."""
    with av.open(str(path), "w", format="mp4") as out:
        streams = []
        for picture in pictures:
            first = picture[0] if isinstance(picture, list) else picture
            stream = out.add_stream("libx264", rate=fps, options={"crf": "10", "preset": "ultrafast"})
            stream.width, stream.height, stream.pix_fmt = first.shape[1], first.shape[0], "yuv420p"
            streams.append(stream)
        for index in range(int(seconds * fps)):
            for stream, picture in zip(streams, pictures):
                if isinstance(picture, list):
                    picture = picture[min(index, len(picture) - 1)]
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
                frame.pts = index
                out.mux(stream.encode(frame))
        for stream in streams:
            out.mux(stream.encode(None))


def insta360_insv(folder: Path, dual_fisheye: np.ndarray, kind: str = "one", seconds: float = 1.0, fps: int = 10,
                  orientations=()) -> Path:
    """An Insta360 take of an upright dual-fisheye picture (back lens left, front right; or a list, one per frame),
    each lens turned as the camera records it, with a trailer (`orientations`: (seconds, w, x, y, z) samples): kind "one" (both lenses side by side in one stream), "streams" (one square
    stream per lens in one file, the front lens first) or "two" (one file per lens, `…_00_…` the front lens).
    Returns the file to open (the front lens's, of a two-file take)."""
    frames = dual_fisheye if isinstance(dual_fisheye, list) else [dual_fisheye]  # (one picture per frame, or one)
    turned = [turned_lenses(picture) for picture in frames]
    half = turned[0].shape[1] // 2
    back, front = [t[:, :half] for t in turned], [t[:, half:] for t in turned]
    files = []
    if kind == "one":
        files.append((folder / "VID_20260101_120000_007.insv", [turned], None))
    elif kind == "streams":
        files.append((folder / "VID_20260101_120000_008.insv", [front, back], None))
    else:
        files += [(folder / "VID_20260101_120000_00_009.insv", [front], 0),
                  (folder / "VID_20260101_120000_10_009.insv", [back], 1)]
    for path, pictures, index in files:
        _h264_film(path, pictures, fps, seconds)
        with open(path, "ab") as film:
            film.write(insv_trailer(file_index=index, size=(turned[0].shape[1], turned[0].shape[0]), posture=0,
                                    orientations=orientations))
    return files[0][0]


def canon_dual_fisheye(path: Path, right_eye: np.ndarray, left_eye: np.ndarray, seconds: float = 1.0,
                       fps: int = 10) -> Path:
    """A Canon RF 5.2 mm dual-fisheye film: the right eye's fisheye picture on the left, the left eye's on the
    right, with the camera's tags (made by Canon, the lens named) as FFmpeg writes QuickTime metadata."""
    picture = np.concatenate([right_eye, left_eye], axis=1)
    with av.open(str(path), "w", format="mp4", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata.update({"make": "Canon", "model": "Canon EOS R5 C", "lens": facts.CANON_DUAL_FISHEYE_LENS})
        stream = out.add_stream("libx264", rate=fps, options={"crf": "10", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = picture.shape[1], picture.shape[0], "yuv420p"
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def with_camm(path: Path, pictures: list, fps: int, rotations) -> Path:
    """An MP4 film of `pictures` (one per frame) with a VR180 camera's `camm` motion track: an angle-axis sample
    (type 0) for each (seconds, angle-axis (x, y, z) radians) of `rotations`. (FFmpeg writes a data track only as
    `gpmd`: the sample entry is renamed `camm` afterwards, the two entries being laid out alike.)"""
    import fractions

    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps, options={"crf": "10", "preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = pictures[0].shape[1], pictures[0].shape[0], "yuv420p"
        motion = out.add_mux_stream("bin_data")
        motion.time_base = fractions.Fraction(1, 1000)
        for t, axis in rotations:
            packet = av.Packet(struct.pack("<HH3f", 0, 0, *axis))
            packet.stream, packet.pts, packet.dts, packet.duration = motion, round(t * 1000), round(t * 1000), 10
            out.mux(packet)
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    path.write_bytes(path.read_bytes().replace(b"gpmd", b"camm"))  # (its sample entry's type, the only mention)
    return path
