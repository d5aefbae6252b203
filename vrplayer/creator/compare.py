"""`vrplayer compare CUT_A CUT_B`: two cuts of a film at once — a wipe that follows the mouse, a split, a toggle,
their difference — decoded in lockstep at the same media time with one view for both, sound from the cut on
show; or, with -o, one moment of the comparison written offscreen to a PNG, as `vrplayer snapshot` writes one view.

`--offset-b S`: B's moment t + S is shown beside A's moment t (a B whose picture starts S seconds later in its
file, a longer head, is lined up by a positive S)."""

from __future__ import annotations

import argparse

from vrplayer import log
from vrplayer.errors import MediaError, path_text
from vrplayer.render.compare_pass import MODES, Composition
from vrplayer.view import ViewState, start_pose

_log = log.get("compare")

DEFAULT_GAIN = 4.0


def add_parser(sub) -> None:
    from vrplayer import cli
    from vrplayer.layout import EYE_MODES

    compare = sub.add_parser(
        "compare", help="two cuts at once: wipe, split, toggle or difference, in lockstep",
        description="Compare two cuts of a film, decoded in lockstep at the same media time, one view for both: a wipe "
                    "following the mouse (A left of the line, B right), a split (A in the left half, B in the right), "
                    "a toggle (Tab), or |A - B| amplified. Keys: 1-4 the modes, Tab A/B, and the player's keys "
                    "(space, arrows, , . , R, E, X, M, I for the label, H for the audiences' heat-maps, F, Q). Each cut's audience "
                    "(--heatmap-a, --heatmap-b) is drawn over that cut's part of the picture. With -o, one moment to a PNG.")
    compare.add_argument("cut_a", metavar="CUT_A")
    compare.add_argument("cut_b", metavar="CUT_B")
    compare.add_argument("--mode", choices=MODES, default="wipe", help="how the cuts are shown (default wipe)")
    compare.add_argument("--offset-b", type=float, default=0.0, metavar="S",
                         help="B's moment t + S is shown beside A's moment t (default 0; positive for a B that starts later in its file)")
    compare.add_argument("--at", type=cli._non_negative, default=0.0, metavar="S", help="A's time to show (with -o) or to start at (default 0)")
    compare.add_argument("--show", choices=("A", "B", "a", "b"), default="A", help="toggle: the cut on show first (default A)")
    compare.add_argument("--wipe", type=_fraction, default=0.5, metavar="F", help="wipe: where the line starts, a fraction of the width (default 0.5; the mouse moves it)")
    compare.add_argument("--gain", type=_gain, default=DEFAULT_GAIN, metavar="G", help=f"difference: |A - B| times G (default {DEFAULT_GAIN:g})")
    compare.add_argument("--yaw", type=float, metavar="D", help="face D degrees right of A's centre (default: A's initial view)")
    compare.add_argument("--pitch", type=float, metavar="D", help="look up by D degrees (default: A's initial view)")
    compare.add_argument("--fov", type=cli._fov, default=90.0, metavar="D", help="horizontal field of view, 30–120 (default 90)")
    compare.add_argument("--eye", choices=EYE_MODES, default="left", help="which eye of stereo cuts to show (default left)")
    compare.add_argument("--level", action=argparse.BooleanOptionalAction, default=True,
                         help="turn each cut by its camera's own orientation so its horizon stays level, where the file"
                              " has one (default on; --no-level shows the pictures as filmed)")
    compare.add_argument("--size", type=cli._size, default=(1280, 720), metavar="WxH", help="window or picture size (default 1280x720)")
    compare.add_argument("--no-label", action="store_true", help="no label saying which cut is where")
    compare.add_argument("-o", "--output", metavar="OUT.png", help="write the comparison at --at to this PNG, offscreen, and exit")
    compare.add_argument("--display", choices=("desktop", "xr", "offscreen"), default="desktop",
                         help="the window (default), a headset (OpenXR: the controller's select button or Tab on the mirror window flips A/B), or offscreen (with --duration: scripts, tests)")
    compare.add_argument("--mirror", action="store_true", help="with --display xr: also a window showing the cut on show, whose keys are the operator's")
    compare.add_argument("--fullscreen", action="store_true", help="start in fullscreen")
    compare.add_argument("--volume", type=float, default=1.0, metavar="V", help="volume, 0–2 (default 1)")
    compare.add_argument("--no-audio", action="store_true", help="no sound: the comparison runs on the wall clock")
    compare.add_argument("--duration", type=cli._non_negative, metavar="S", help="stop after S seconds (for scripts and tests)")
    compare.add_argument("--heatmap-a", nargs="+", metavar="TRACE", help="A's audience: head traces (files or folders) whose heat-map is drawn over A's part (key H hides it)")
    compare.add_argument("--heatmap-b", nargs="+", metavar="TRACE", help="B's audience, over B's part")
    cli._layout_arguments(compare, whose="both cuts'")
    cli._layout_arguments(compare, "-b", whose="cut B's (over the ones for both)")
    compare.add_argument("--timing-log", metavar="FILE", help="one JSON line per picture shown: comparison time, each cut's frame, mode, cut on show")


def _fraction(text: str) -> float:
    import argparse

    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _gain(text: str) -> float:
    import argparse

    value = float(text)
    if not 0.0 < value <= 100.0:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 100")
    return value


def composition_of(args) -> Composition:
    return Composition(args.mode, args.wipe, 0 if args.show.upper() == "A" else 1, args.gain)


def layouts_of(args) -> tuple[dict, dict]:
    """Each cut's layout overrides: the ones for both, then B's own over them."""
    from vrplayer import cli

    both = cli.layout_flags(args)
    return both, {**both, **cli.layout_flags(args, "_b")}


def run(args) -> int:
    if args.output:
        picture = render_comparison(args.cut_a, args.cut_b, args.at, args.offset_b, (args.yaw, args.pitch, None), args.fov,
                                    args.size, composition_of(args), args.eye, not args.no_label,
                                    heatmaps=(args.heatmap_a, args.heatmap_b), layout_flags=layouts_of(args),
                                    level=args.level)
        from vrplayer.snapshot import write_png

        write_png(picture, args.output)
        _log.info("wrote %s (%dx%d, %s at %.3f s, B at %.3f s)", args.output, *args.size, args.mode, args.at, args.at + args.offset_b)
        return 0
    from vrplayer.creator.compare_loop import CompareOptions, run_window

    options = CompareOptions(
        offset_b=args.offset_b, at=args.at, composition=composition_of(args), start_view=(args.yaw, args.pitch, None),
        fov=args.fov, eye=args.eye, size=args.size, labels=not args.no_label, display=args.display,
        fullscreen=args.fullscreen, volume=max(0.0, min(2.0, args.volume)), audio=not args.no_audio,
        duration=args.duration, timing_log=args.timing_log, heatmaps=(args.heatmap_a, args.heatmap_b),
        mirror=args.mirror, layout_flags=layouts_of(args), level=args.level)
    return run_window(args.cut_a, args.cut_b, options)


def render_comparison(path_a: str, path_b: str, at: float, offset_b: float, start: tuple, fov: float,
                      size: tuple[int, int], composition: Composition, eye: str = "left", labels: bool = True,
                      display=None, heatmaps=(None, None), layout_flags=(None, None), level: bool = True):
    """The comparison's picture (H, W, 3 uint8) at A's time `at` (B's at + offset_b), offscreen: each cut's exact
    frame there (VideoDecoder.wait_picture, as a snapshot's), composed. `start`: (yaw, pitch, roll), None each for
    A's initial view. `heatmaps`: each cut's audience traces (or None), its heat-map drawn over its part.
    `layout_flags`: each cut's layout overrides (or None). `level`: each cut levelled by its camera's orientation
    where recorded."""
    from vrplayer.creator.compare_view import CompareDrawing, audiences_of, cut_label, label_texts, level_turns
    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.media.probe import decide_film_layout
    from vrplayer.media.video import VideoDecoder

    decoders = []
    try:
        for path in (path_a, path_b):
            decoders.append(VideoDecoder(path))
        layouts = []
        for decoder, path, flags in zip(decoders, (path_a, path_b), layout_flags):
            cc = decoder.stream.codec_context
            decision = decide_film_layout(path, cc.width, cc.height, flags or None)
            for warning in decision.warnings:
                _log.warning("%s", warning)
            layouts.append(decision.layout)
        view = ViewState(fov=fov)
        view.set_home(*start_pose(layouts[0], start))
        moments = (at, at + offset_b)
        frames = [decoders[0].wait_picture(at), _frame_or_none(decoders[1], moments[1])]
        texts = tuple(cut_label(name, moment, frame is not None, moment >= 0.0)
                      for name, moment, frame in zip("AB", moments, frames))
        cards = tuple(audience.cards(frame.pts) if audience is not None and frame is not None else ()
                      for audience, frame in zip(audiences_of(heatmaps), frames))
        own_display = display is None
        display = display or OffscreenDisplay(size)
        try:
            drawing = CompareDrawing(layouts, (path_text(path_a), path_text(path_b)), level_turns((path_a, path_b), level, wait=True))
            try:
                drawing.draw(frames, view, composition, size, eye, label_texts(composition, texts) if labels else None, cards)
                display.present()
                return display.read_pixels()
            finally:
                frames = None  # released before their decoders are freed
                drawing.close()
        finally:
            if own_display:
                display.close()
    finally:
        for decoder in decoders:
            decoder.close()


def _frame_or_none(decoder, moment: float):
    """B's frame on screen at `moment`, or None where B has none: before its start, past its end."""
    if moment < 0.0 or (decoder.duration is not None and moment >= decoder.duration):
        return None
    try:
        frame = decoder.wait_picture(moment)
    except MediaError:
        if decoder.shortfall() is not None or decoder.ended_at is None or moment < decoder.ended_at:
            raise  # a damaged or truncated B, not one that simply ends before the moment
        return None
    return frame if moment < frame.pts + frame.duration else None  # its last frame is over by then
