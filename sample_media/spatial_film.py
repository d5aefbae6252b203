#!/usr/bin/env python3
"""Makes sample_media/spatial_two_views.mov: a small Apple-spatial-video-like MV-HEVC film (two views in one HEVC
track, the base layer the left eye), for the tests. Each eye's picture says which eye it is: the left one has a red
band at its top and a white block left of the centre, the right one a blue band and the block right of the centre;
a black bar at the bottom grows by one step a frame, so a frame's number can be read off either eye.

FFmpeg decodes both views (its HEVC decoder's `view_ids`), but no encoder in Debian's FFmpeg or x265 writes them:
x265 ≥ 4.0 does when built with ENABLE_MULTIVIEW, which Debian's is not. So the film is made once and kept in the
repository (4.5 kB). To make it again (the same bytes), build x265 4.1 from its source (Debian 13's
`x265_4.1.orig.tar.xz`, e.g. inside the root of scripts/xr-root.sh) with
`cmake SOURCE/source -DENABLE_MULTIVIEW=ON -DENABLE_SHARED=OFF && make`, and give its command:

    .venv/bin/python sample_media/spatial_film.py --x265 "PATH/TO/x265"
    .venv/bin/python sample_media/spatial_film.py --x265 "scripts/xr-root.sh run /src/.cache/mv/x265"  # built there

x265 writes the raw MV-HEVC stream; PyAV (FFmpeg ≥ 7.1) puts it in a QuickTime file, whose sample entry then
carries the layered configuration (`lhvC`) beside `hvcC`, as an iPhone's does.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys

import av
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WIDTH, HEIGHT, FPS, FRAMES = 320, 176, 10, 10
EYE_BAND = {"left": (220, 30, 30), "right": (30, 30, 220)}
BAR_STEP = 24  # the frame-number bar grows by this many pixels a frame


def eye_picture(eye: str, index: int) -> np.ndarray:
    """One eye's RGB picture of frame `index`."""
    picture = np.full((HEIGHT, WIDTH, 3), 110, np.uint8)
    picture[: HEIGHT // 5] = EYE_BAND[eye]
    block = WIDTH // 8
    x = WIDTH // 2 - 2 * block if eye == "left" else WIDTH // 2 + block
    picture[HEIGHT // 3 : HEIGHT // 3 + 2 * block, x : x + block] = 255
    picture[HEIGHT - 16 :, : BAR_STEP * (index + 1)] = 0
    return picture


def i420(picture: np.ndarray) -> bytes:
    """The picture as raw I420 (what x265 reads): its Y, U and V planes, each without the decoder's row padding."""
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
    return b"".join(np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width].tobytes()
                    for plane in frame.planes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--x265", required=True, metavar="CMD", help="an x265 built with ENABLE_MULTIVIEW (a command: "
                        "it runs in the repository, and is given paths relative to it)")
    parser.add_argument("-o", "--output", default=os.path.join(HERE, "spatial_two_views.mov"))
    parser.add_argument("--work", default=".cache/spatial", help="a folder for the raw views, relative to the repository")
    args = parser.parse_args()
    work = os.path.join(ROOT, args.work)
    os.makedirs(work, exist_ok=True)
    for eye in ("left", "right"):
        with open(os.path.join(work, f"{eye}.yuv"), "wb") as raw:
            for index in range(FRAMES):
                raw.write(i420(eye_picture(eye, index)))
    with open(os.path.join(work, "views.cfg"), "w") as config:
        config.write(f'--num-views 2\n--format 0\n--input "{args.work}/left.yuv"\n--input "{args.work}/right.yuv"\n')
    stream = f"{args.work}/views.hevc"
    command = [*shlex.split(args.x265), "--multiview-config", f"{args.work}/views.cfg", "--input-res",
               f"{WIDTH}x{HEIGHT}", "--input-csp", "i420", "--fps", str(FPS), "--keyint", str(FPS), "--crf", "18", "--bframes", "0",
               "--preset", "fast", "--log-level", "warning", "--output", stream]
    print("spatial_film:", " ".join(command), file=sys.stderr)
    subprocess.run(command, cwd=ROOT, check=True)
    with av.open(os.path.join(ROOT, stream), format="hevc") as source, av.open(args.output, "w", format="mov") as out:
        video = source.streams.video[0]
        copy = out.add_stream_from_template(video)
        copy.disposition = copy.disposition | av.stream.Disposition.multilayer
        out.start_encoding()  # (the muxer picks the track's time base here)
        step = round(1 / (FPS * copy.time_base))
        # (No B-frames: decoding order is showing order, so each packet's time is its place.)
        for n, packet in enumerate(p for p in source.demux(video) if p.size):
            packet.stream = copy
            packet.time_base = copy.time_base
            packet.pts = packet.dts = n * step
            packet.duration = step
            out.mux(packet)
    print(f"spatial_film: wrote {args.output} ({os.path.getsize(args.output)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
