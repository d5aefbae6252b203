"""`vrplayer heatmap`: where the audience looked, from their head traces — a map over the film's frame (PNG), a
heat-map video of the whole film (MP4), the raw map (.npy), attention figures per window (JSON), the share of
viewers who saw a region, and two cuts compared (CC and KLD per window)."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from vrplayer import log
from vrplayer.analytics import maps
from vrplayer.analytics.importers import CsvColumns, load_all
from vrplayer.analytics.pictures import Overview, VideoWriter, blend
from vrplayer.errors import PlayerError

_log = log.get("heatmap")

DEFAULT_WINDOW = 2.0
DEFAULT_MIN_VIEWERS = 5
VIEWPORT_SAMPLES = 10  # a viewer's samples in a window taken for the viewport map (evenly spread)


def add_parser(sub) -> None:
    heat = sub.add_parser(
        "heatmap", help="where the audience looked: heat-maps and attention figures from head traces",
        description="Heat-maps from head traces (vrplayer's own, Salient360! raw CSV, or a generic CSV): a map over the "
                    "film's frame (OUT.png), a heat-map video of the whole film (OUT.mp4), the raw map, figures per "
                    "window, the share of viewers who saw a region, or two cuts compared.",
        epilog="Compare two cuts: vrplayer heatmap [OPTIONS] --compare TRACES_A… -- TRACES_B…  (no film needed; the options come first).")
    heat.add_argument("inputs", nargs="*", metavar="FILM TRACE", help="the film, then trace files or folders of them")
    heat.add_argument("-o", "--output", metavar="OUT.png|OUT.mp4", help="a picture of the map over the film's frame at --at, or a video of the whole film")
    heat.add_argument("--window", type=_positive, default=DEFAULT_WINDOW, metavar="S", help=f"seconds of film a map gathers (default {DEFAULT_WINDOW:g})")
    heat.add_argument("--at", type=float, default=None, metavar="S", help="the window's middle for a picture or --raw (default: the film's middle)")
    heat.add_argument("--sigma", type=_positive, default=maps.SIGMA_DEG, metavar="DEG", help=f"width of the head-direction kernel (default {maps.SIGMA_DEG})")
    heat.add_argument("--kind", choices=("head", "viewport"), default="head", help="head directions (default) or the share of viewers whose view held each direction")
    heat.add_argument("--size", type=_map_size, default=(1024, 512), metavar="WxH", help="the map's size, twice as wide as high (default 1024x512)")
    heat.add_argument("--raw", metavar="OUT.npy", help="write the map itself (float64, rows top = +90°, columns left = −180°)")
    heat.add_argument("--json", metavar="FIGURES.json", help="write the figures per window (they are printed too)")
    heat.add_argument("--min-viewers", type=int, default=DEFAULT_MIN_VIEWERS, metavar="K", help=f"fewer viewers in a window: no map, \"not enough viewers\" (default {DEFAULT_MIN_VIEWERS})")
    heat.add_argument("--region", type=_region, metavar="LON1,LAT1,LON2,LAT2", help="the share of viewers whose head pointed into this box (left-top to right-bottom, degrees) between --from and --to")
    heat.add_argument("--from", dest="start", type=float, default=0.0, metavar="S", help="with --region: from this film time (default 0)")
    heat.add_argument("--to", dest="end", type=float, default=None, metavar="S", help="with --region: to this film time (default: the end)")
    heat.add_argument("--compare", nargs="+", metavar="TRACES_A", help="cut A's traces; cut B's follow `--`: CC and KLD per window")
    csv = heat.add_argument_group("generic CSV traces", "How to read a CSV that is neither ours nor Salient360!'s.")
    csv.add_argument("--csv-time", default="t", metavar="COL", help="the time column (default t)")
    csv.add_argument("--csv-yaw", default="yaw", metavar="COL", help="the yaw column (default yaw)")
    csv.add_argument("--csv-pitch", default="pitch", metavar="COL", help="the pitch column (default pitch)")
    csv.add_argument("--csv-roll", metavar="COL", help="the roll column (default: none)")
    csv.add_argument("--csv-quaternion", metavar="X,Y,Z,W", help="four quaternion columns instead of yaw and pitch")
    csv.add_argument("--csv-axes", choices=("openxr", "unity"), default="openxr", help="the quaternion's axes (default openxr: right-handed, −z forward)")
    csv.add_argument("--csv-radians", action="store_true", help="the angles are in radians")
    csv.add_argument("--csv-yaw-left", action="store_true", help="the file's yaw grows to the left")
    csv.add_argument("--csv-yaw-offset", type=float, default=0.0, metavar="D", help="add D degrees to the yaw so that 0 is the film's frame centre")
    csv.add_argument("--csv-time-unit", type=_positive, default=1.0, metavar="S", help="seconds per unit of the time column (default 1; 0.001 for ms)")


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _map_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size like 1024x512") from None
    if width != 2 * height or not 8 <= height <= 4096 or height % 2:
        raise argparse.ArgumentTypeError("a map is twice as wide as high, from 16x8 to 8192x4096, even sizes")
    return width, height


def _region(text: str) -> tuple[float, float, float, float]:
    try:
        lon1, lat1, lon2, lat2 = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not LON1,LAT1,LON2,LAT2 (degrees)") from None
    if not all(-180 <= lon <= 180 for lon in (lon1, lon2)) or not all(-90 <= lat <= 90 for lat in (lat1, lat2)):
        raise argparse.ArgumentTypeError("longitudes are −180…180°, latitudes −90…90°")
    return lon1, lat1, lon2, lat2


def _columns(args) -> CsvColumns:
    quaternion = None
    if args.csv_quaternion:
        parts = [p.strip() for p in args.csv_quaternion.split(",")]
        if len(parts) != 4:
            raise PlayerError("--csv-quaternion takes four column names: X,Y,Z,W")
        quaternion = tuple(parts)
    return CsvColumns(time=args.csv_time, yaw=args.csv_yaw, pitch=args.csv_pitch, roll=args.csv_roll, quaternion=quaternion,
                      radians=args.csv_radians, yaw_sign=-1.0 if args.csv_yaw_left else 1.0, yaw_offset=args.csv_yaw_offset,
                      time_scale=args.csv_time_unit, axes=args.csv_axes)


def run(args) -> int:
    if args.compare:
        return _compare(args)
    if len(args.inputs) < 2:
        raise PlayerError("heatmap takes the film and at least one trace: vrplayer heatmap FILM TRACE… -o OUT.png")
    if not (args.output or args.raw or args.json or args.region):
        raise PlayerError("say what to make: -o OUT.png or OUT.mp4, --raw OUT.npy, --json FIGURES.json or --region")
    film, traces = args.inputs[0], load_all(args.inputs[1:], _columns(args))
    film_info = _film(film)
    duration = film_info["duration"] or max((t.samples[-1, 0] for t in traces if len(t.samples)), default=0.0)
    _log.info("%d traces, %d samples, film %.1f s", len(traces), sum(len(t.samples) for t in traces), duration)
    if args.region:
        end = duration if args.end is None else args.end
        share = maps.region_share([maps.in_window(t.samples, args.start, end)[:, 1:3] for t in traces], args.region)
        print(f"region {args.region}: {'no viewers' if share is None else f'{100 * share:.1f} % of viewers'} between {args.start:g} and {end:g} s")
    windows = _window_figures(traces, duration, args.window)
    for w in windows:
        f = w["figures"]
        if f["viewers"] < args.min_viewers:
            _log.info("%6.1f–%6.1f s: %d viewers: not enough viewers", w["from"], w["to"], f["viewers"])
        else:
            _log.info("%6.1f–%6.1f s: %d viewers, %.0f %% within the front 90°, spread %.1f°, centre (%.1f°, %.1f°)",
                      w["from"], w["to"], f["viewers"], 100 * f["front_share"], f["spread_deg"], *(f["centroid"] or (math.nan, math.nan)))
    if args.json:
        _write_json(args.json, {"film": film_info["name"], "window_s": args.window, "min_viewers": args.min_viewers,
                                "traces": len(traces), "windows": [_private(w, args.min_viewers) for w in windows]})
    at = duration / 2 if args.at is None else args.at
    if args.output and args.output.lower().endswith(".mp4"):
        _video(args, film, film_info, traces)
    elif args.output or args.raw:
        heat, viewers = _map_at(args, traces, at)
        if args.raw:
            _save_raw(args.raw, heat, viewers, args.min_viewers)
        if args.output:
            _picture(args, film, film_info, at, None if viewers < args.min_viewers else heat)
    return 0


def _film(path: str) -> dict:
    from vrplayer.media.container import open_container, video_stream, duration_seconds
    from vrplayer.media.probe import decide_film_layout

    container = open_container(path)
    try:
        stream = video_stream(container, path)
        cc = stream.codec_context
        decision = decide_film_layout(path, cc.width, cc.height, None)
        return {"name": path, "duration": duration_seconds(container, stream), "rate": stream.average_rate,
                "layout": decision.layout}
    finally:
        container.close()


def _window_figures(traces, duration: float, window: float) -> list[dict]:
    out = []
    count = max(1, math.ceil(duration / window - 1e-9))
    for k in range(count):
        start, end = k * window, min(duration, (k + 1) * window) if duration else (k + 1) * window
        viewers = [maps.in_window(t.samples, start, end)[:, 1:3] for t in traces]
        out.append({"from": round(start, 3), "to": round(end, 3), "figures": maps.figures(viewers).as_dict()})
    return out


def _private(window: dict, min_viewers: int) -> dict:
    """A window's figures, or only its viewer count when too few viewers were there to keep them anonymous."""
    if window["figures"]["viewers"] >= min_viewers:
        return window
    return {"from": window["from"], "to": window["to"], "figures": {"viewers": window["figures"]["viewers"]}, "note": "not enough viewers"}


def _viewers_in(traces, start: float, end: float, columns=slice(1, 3)):
    return [(maps.in_window(t.samples, start, end)[:, columns], t.fov) for t in traces]


def _map_at(args, traces, at: float) -> tuple[np.ndarray, int]:
    start, end = at - args.window / 2, at + args.window / 2
    width, height = args.size
    viewers = [(s, fov) for s, fov in _viewers_in(traces, start, end, slice(1, 4)) if len(s)]
    if args.kind == "viewport":
        spread = [(s[np.linspace(0, len(s) - 1, min(len(s), VIEWPORT_SAMPLES)).astype(int)], fov) for s, fov in viewers]
        small = maps.viewport_map(spread, max(16, width // 4), max(8, height // 4))
        return np.kron(small, np.ones((height // small.shape[0], width // small.shape[1]))), len(viewers)
    return maps.normalise(maps.window_map(traces, start, end, width, height, args.sigma)), len(viewers)


def _save_raw(path: str, heat: np.ndarray, viewers: int, min_viewers: int) -> None:
    if viewers < min_viewers:
        raise PlayerError(f"not enough viewers in the window ({viewers} of the {min_viewers} --min-viewers asks): no map written")
    try:
        np.save(path, heat)
    except OSError as exc:
        raise PlayerError(f"cannot write {path} ({exc.strerror})") from None


def _write_json(path: str, data: dict) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
    except OSError as exc:
        raise PlayerError(f"cannot write {path} ({exc.strerror})") from None


def _frames(film: str):
    """(pts seconds, av.VideoFrame) of every frame of the film, in order."""
    from vrplayer.media.container import decoded_frames, open_container, origin_seconds, video_stream

    container = open_container(film)
    try:
        stream = video_stream(container, film)
        stream.thread_type = "AUTO"
        origin = origin_seconds(container)
        for frame in decoded_frames(container, stream, lambda: True, lambda packet, exc: None, _log):
            if frame.pts is not None:
                yield float(frame.pts * stream.time_base) - origin, frame
    finally:
        container.close()


def _picture(args, film: str, film_info: dict, at: float, heat) -> None:
    from vrplayer.media.still import open_pictures
    from vrplayer.snapshot import write_png

    width, height = args.size
    overview = Overview(film_info["layout"], width, height)
    decoder = open_pictures(film)
    try:
        item = decoder.wait_picture(at)  # the frame on screen at `at`, by an exact seek
        panorama = overview.of(item.frame)
        item = None  # released before its decoder is
    finally:
        decoder.close()
    write_png(blend(panorama, heat), args.output)
    _log.info("wrote %s (%dx%d, the window %.1f–%.1f s)", args.output, width, height, at - args.window / 2, at + args.window / 2)


def _video(args, film: str, film_info: dict, traces) -> None:
    """Every frame of the film, its panorama under the map of the window centred on it. The window slides: samples
    are added as they enter it and taken away as they leave, so each is stamped twice however long the film."""
    width, height = args.size
    overview = Overview(film_info["layout"], width, height)
    writer = VideoWriter(args.output, width, height, film_info["rate"] or 30)
    half = args.window / 2
    heat = np.zeros((height, width))
    low = high = -math.inf  # the window the map holds now
    duration = film_info["duration"] or 0.0
    shown_at = 0.0
    try:
        for pts, frame in _frames(film):
            if args.kind == "viewport":
                current, viewers = _map_at(args, traces, pts)
            else:
                start, end = pts - half, pts + half
                if start >= high:  # a jump past the window (or the first frame): start it afresh
                    heat = maps.window_map(traces, start, end, width, height, args.sigma)
                else:
                    heat += maps.window_map(traces, max(high, start), end, width, height, args.sigma)
                    heat -= maps.window_map(traces, low, min(start, high), width, height, args.sigma)
                low, high = start, end
                viewers = maps.viewer_count(traces, start, end)
                current = maps.normalise(np.clip(heat, 0, None))
            writer.write(blend(overview.of(frame), current if viewers >= args.min_viewers else None))
            if duration and pts - shown_at >= duration / 20:
                shown_at = pts
                _log.info("heat-map video: %.0f of %.0f s", pts, duration)
    finally:
        writer.close()
    _log.info("wrote %s (%d frames, %dx%d)", args.output, writer.frames, width, height)


def _compare(args) -> int:
    a, b = load_all(args.compare, _columns(args)), load_all(args.inputs, _columns(args))
    if not a or not b:
        raise PlayerError("--compare needs traces for both cuts: --compare TRACES_A… -- TRACES_B…")
    end = max(t.samples[-1, 0] for t in a + b if len(t.samples))
    width, height = args.size
    rows = []
    for k in range(max(1, math.ceil(end / args.window))):
        start, stop = k * args.window, (k + 1) * args.window
        maps_of = []
        for traces in (a, b):
            viewers = maps.viewer_count(traces, start, stop)
            if viewers < args.min_viewers:
                maps_of.append(None)
                continue
            maps_of.append(maps.normalise(maps.window_map(traces, start, stop, width, height, args.sigma)))
        row = {"from": start, "to": stop}
        if maps_of[0] is None or maps_of[1] is None:
            row["note"] = "not enough viewers"
        else:
            row["cc"], row["kld"] = round(maps.weighted_cc(*maps_of), 4), round(maps.weighted_kld(*maps_of), 4)
        rows.append(row)
        print(f"{start:7.1f}–{stop:7.1f} s  " + (f"CC {row['cc']:.3f}  KLD {row['kld']:.3f}" if "cc" in row else row["note"]))
    if args.json:
        _write_json(args.json, {"window_s": args.window, "cut_a": len(a), "cut_b": len(b), "windows": rows})
    return 0
