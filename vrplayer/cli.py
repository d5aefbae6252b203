"""The `vrplayer` command: play, probe, snapshot, render-audio, kiosk, bench, and the rooms' commands: heatmap
(analytics); check, compare, set-view, tag (the creator's desk)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from vrplayer import __version__, log, memory
import vrplayer.cameras  # noqa: F401  (camera files: adds its recognisers to the media door)
from vrplayer.errors import PlayerError, path_text
from vrplayer.layout import EYE_MODES, PROJECTIONS, STEREO_MODES
from vrplayer.view import FOV_MAX, FOV_MIN, ViewState


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
        if width <= 0 or height <= 0 or width > 16384 or height > 16384:
            raise ValueError
        return width, height
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size like 1280x720") from None


def _fov(text: str) -> float:
    value = float(text)
    if not FOV_MIN <= value <= FOV_MAX:
        raise argparse.ArgumentTypeError(f"FOV must be between {FOV_MIN:.0f} and {FOV_MAX:.0f} degrees")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return value


def _view_arguments(parser: argparse.ArgumentParser, roll: bool = False) -> None:
    parser.add_argument("--yaw", type=float, metavar="D", help="face D degrees right of the film's centre (default: the film's initial view)")
    parser.add_argument("--pitch", type=float, metavar="D", help="look up by D degrees (default: the film's initial view)")
    if roll:
        parser.add_argument("--roll", type=float, metavar="D", help="tip the view's right side down by D degrees")
    parser.add_argument("--fov", type=_fov, default=90.0, metavar="D", help="horizontal field of view, 30–120 (default 90)")
    parser.add_argument("--eye", choices=EYE_MODES, default="left", help="which eye of a stereo film to show, or both side by side, or a red-cyan anaglyph (default left)")
    parser.add_argument("--level", action=argparse.BooleanOptionalAction, default=None,
                        help="turn the picture by the camera's own orientation (GoPro GPMF, VR180 camm, Insta360"
                             " quaternions) so its horizon stays level; key G (default: off to play, on to compare)")


def _layout_arguments(parser: argparse.ArgumentParser, suffix: str = "", whose: str = "the film's") -> None:
    """The layout overrides; `suffix` names a second set (compare's "-b": cut B's own)."""
    group = parser.add_argument_group(f"layout overrides{' of ' + whose if suffix else ''}",
                                      "Say what the picture is when detection gets it wrong (see README: Layouts).")
    group.add_argument(f"--projection{suffix}", choices=tuple(PROJECTIONS), help=f"{whose} projection")
    group.add_argument(f"--stereo{suffix}", choices=STEREO_MODES, help="how the two eyes are packed")
    group.add_argument(f"--eyes-swapped{suffix}", action="store_true", default=None, help="the right eye comes first (bottom-top, right-left)")
    group.add_argument(f"--fov-covered{suffix}", type=_covered, metavar="D", help="degrees the picture covers: 180 for VR180; a fisheye lens's FOV; a flat screen's width")
    group.add_argument(f"--initial-yaw{suffix}", type=float, metavar="D", help=f"{whose} initial view: D degrees right of its centre")


def _sound_arguments(parser: argparse.ArgumentParser, hrtf: bool = True) -> None:
    from vrplayer.formats.sound import FORMAT_NAMES

    parser.add_argument("--audio-format", choices=FORMAT_NAMES, metavar="NAME",
                        help=f"what the film's sound is, when detection gets it wrong: {', '.join(FORMAT_NAMES)}")
    if hrtf:
        parser.add_argument("--hrtf", metavar="FILE.sofa", help="the listener's own HRTF for spatial sound (default: MIT KEMAR)")
        parser.add_argument("--head-path", metavar="FILE", help="a scripted head: lines of TIME YAW [PITCH [ROLL]] (film seconds, degrees) that view and sound follow")


def _headset_arguments(parser: argparse.ArgumentParser) -> None:
    from vrplayer.creator.headsets import DEFAULT_HEADSET, HEADSETS

    parser.add_argument("--headset", choices=tuple(HEADSETS), help=f"the headset whose view the overview outlines (default {DEFAULT_HEADSET})")
    parser.add_argument("--headset-fov", metavar="HxV", help="the outlined view's horizontal × vertical degrees, instead of a headset's")


def _covered(text: str) -> float:
    value = float(text)
    if not 0 < value <= 360:
        raise argparse.ArgumentTypeError("must be degrees between 0 and 360")
    return value


def layout_flags(args, suffix: str = "") -> dict:
    """The layout overrides given on the command line, for `layout.decide_layout` (`suffix` "_b": the second set's)."""
    names = ("projection", "stereo", "eyes_swapped", "fov_covered", "initial_yaw")
    return {name: getattr(args, name + suffix) for name in names if getattr(args, name + suffix, None) is not None}


def player_arguments(parser: argparse.ArgumentParser) -> None:
    """How a player shows and sounds: `play`'s options, which a screening room's seat takes too."""
    _view_arguments(parser)
    _layout_arguments(parser)
    parser.add_argument("--volume", type=float, default=1.0, metavar="V", help="volume, 0–2 (default 1)")
    _sound_arguments(parser)
    parser.add_argument("--no-audio", action="store_true", help="play without sound, on the wall clock")
    parser.add_argument("--fullscreen", action="store_true", help="start in fullscreen")
    parser.add_argument("--display", choices=("auto", "xr", "desktop", "offscreen"), default="auto", help="where to show the picture (default auto: the headset if there is one, else the desktop window)")
    parser.add_argument("--xr-layer", choices=("projection", "equirect"), default="projection", help="headset: draw each eye (default), or hand a mono 360° film to the runtime as an equirect layer that its compositor samples at display time")
    parser.add_argument("--mirror", action="store_true", help="with a headset: also show the left eye in a desktop window (keys there: space, arrows, R, M, Q)")
    parser.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="window size (default 1280x720)")
    parser.add_argument("--info", action="store_true", help="show the on-screen info line from the start (key I toggles it)")
    parser.add_argument("--timing-log", metavar="FILE", help="write one JSON line per picture shown: media time and monotonic clock time")
    parser.add_argument("--record-heads", metavar="DIR", help="write a head trace per viewing into DIR (see `vrplayer heatmap`)")
    _headset_arguments(parser)
    _subtitle_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vrplayer", description="A 360° VR screening player: every 360 layout, in an OpenXR headset or a desktop window, with head-tracked spatial sound; snapshots, offline sound renders, a festival kiosk and benchmarks.")
    parser.add_argument("--version", action="version", version=f"vrplayer {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log lines (-vv adds FFmpeg's)")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    play = sub.add_parser("play", help="play one or more films (a playlist)", description="Play films in a window; several files play as a playlist. Controls: see README.")
    play.add_argument("files", nargs="+", metavar="FILE")
    play.add_argument("--loop", action="store_true", help="start the playlist again after the last film")
    play.add_argument("--start", type=_non_negative, default=0.0, metavar="S", help="start each film at S seconds")
    play.add_argument("--duration", type=_non_negative, metavar="S", help="stop after S seconds of playing (for scripts and tests)")
    play.add_argument("--photo-seconds", type=_positive, metavar="S", help="show each photo for S seconds, then the next (default: until → or N; a playlist of photos is a slideshow)")
    player_arguments(play)
    play.add_argument("--heatmap", nargs="+", metavar="TRACE", help="head traces (files or folders) whose heat-map key H shows over the film")

    probe = sub.add_parser("probe", help="describe a film", description="Container, codecs, picture, colour, sound and projection of a film.")
    probe.add_argument("file", metavar="FILE")
    probe.add_argument("--json", action="store_true", help="print JSON")
    _layout_arguments(probe)
    _sound_arguments(probe, hrtf=False)

    snap = sub.add_parser("snapshot", help="render one view of one frame to a PNG", description="Render exactly the frame shown at S seconds, through the real renderer, offscreen.")
    snap.add_argument("file", metavar="FILE")
    snap.add_argument("--at", type=_non_negative, default=0.0, metavar="S", help="film time in seconds (default 0)")
    _view_arguments(snap, roll=True)
    _layout_arguments(snap)
    snap.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="picture size (default 1280x720)")
    snap.add_argument("-o", "--output", required=True, metavar="OUT.png")
    snap.add_argument("--overview", action="store_true", help="the whole picture unwrapped flat (2:1, e.g. --size 2048x1024) with the headset's view at --yaw/--pitch/--roll outlined on it")
    _headset_arguments(snap)
    _subtitle_arguments(snap)

    render = sub.add_parser("render-audio", help="render a film's sound for headphones, for a fixed head or a head path",
                            description="Render the film's sound as a listener hears it (spatial sound rotated by the head and "
                                        "decoded binaurally) to a 32-bit float stereo WAV, to check a mix without a headset.")
    render.add_argument("file", metavar="FILE")
    render.add_argument("-o", "--output", required=True, metavar="OUT.wav")
    render.add_argument("--yaw", type=float, default=0.0, metavar="D", help="the head faces D degrees right (default 0)")
    render.add_argument("--pitch", type=float, default=0.0, metavar="D", help="the head looks D degrees up (default 0)")
    render.add_argument("--rate", type=int, default=48000, metavar="HZ", help="sample rate (default 48000)")
    _sound_arguments(render)

    kiosk = sub.add_parser("kiosk", help="run a festival kiosk: a programme all day, unattended",
                           description="Play a programme (M3U, JSON or TOML; see README: Kiosk) over and over, skipping anything broken, "
                                       "reloading the programme when it is edited, restarting after a crash, with a staff web page.")
    kiosk.add_argument("programme", metavar="PROGRAMME")
    kiosk.add_argument("--display", choices=("auto", "xr", "desktop", "offscreen"), default="auto", help="where to show the picture (default auto: the headset if there is one, else the desktop window)")
    kiosk.add_argument("--mirror", action="store_true", help="with a headset: also show the left eye in a desktop window for the staff")
    kiosk.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="window size (default 1280x720)")
    kiosk.add_argument("--fullscreen", action="store_true", help="fullscreen (what a kiosk screen wants)")
    kiosk.add_argument("--eye", choices=EYE_MODES, default="left", help="which eye of stereo films a screen shows (default left)")
    kiosk.add_argument("--fov", type=_fov, default=90.0, metavar="D", help="horizontal field of view, 30–120 (default 90)")
    kiosk.add_argument("--volume", type=float, default=1.0, metavar="V", help="volume, 0–2 (default 1; items scale it)")
    kiosk.add_argument("--no-audio", action="store_true", help="no sound at all")
    kiosk.add_argument("--head-path", metavar="FILE", help="a scripted head for every film (lines of TIME YAW [PITCH [ROLL]]): demos, and tests of the recorded head traces")
    kiosk.add_argument("--control", metavar="HOST:PORT", help="serve the staff API and page here (off by default; beyond 127.0.0.1 a token is required: --token-file, $VRPLAYER_KIOSK_TOKEN or --token)")
    add_token_options(kiosk, "the staff API's access token")
    kiosk.add_argument("--start-trigger", choices=("auto", "key"), help="how a desktop kiosk starts a film: 'auto' plays on by itself, 'key' waits for a key or click (or a staff next / play); overrides the programme's start_trigger, which an M3U programme cannot set (its default is key)")
    kiosk.add_argument("--log-dir", default="kiosk-log", metavar="DIR", help="session log folder (default ./kiosk-log)")
    kiosk.add_argument("--duration", type=_non_negative, metavar="S", help="stop after S seconds (for scripts and tests)")
    kiosk.add_argument("--room", metavar="URL", help="be a seat of this screening room (mqtt://[USER@]HOST[:PORT]/ROOM): play the programme's films when the room's conductor says (see README: A screening room)")
    kiosk.add_argument("--seat-name", metavar="NAME", help="with --room: this kiosk's name in the room (default: the host's name)")
    kiosk.add_argument("--ca", metavar="FILE", help="with an mqtts:// room: the certificate authority that signed the broker's certificate")
    importlib.import_module("vrplayer.kiosk.fetch_command").cache_arguments(kiosk)
    _subtitle_arguments(kiosk)
    kiosk.add_argument("--no-supervisor", action="store_true", help="run in this process: no restart after a crash (for a service manager that restarts it)")
    kiosk.add_argument("--watchdog", type=_non_negative, default=15.0, metavar="S", help="the supervisor kills and restarts a kiosk whose loop has stopped for S seconds (a hung share, a frozen driver), resuming after the item it was on (default 15; 0: never)")
    kiosk.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    kiosk.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    kiosk.add_argument("--heartbeat-fd", type=int, help=argparse.SUPPRESS)  # the supervisor's pipe (kiosk/lifeline.py)

    for module in ROOM_COMMANDS.values():
        importlib.import_module(module).add_parser(sub)

    bench = sub.add_parser("bench", help="push a film through the whole pipeline as fast as it goes", description="Decode, upload, render offscreen (no vsync), decode and mix sound without playing it; print JSON figures.")
    bench.add_argument("file", metavar="FILE")
    bench.add_argument("--size", type=_size, default=(640, 360), metavar="WxH", help="render size (default 640x360)")
    bench.add_argument("--frames", type=int, metavar="N", help="stop after N frames (default: the whole film)")
    bench.add_argument("--seeks", type=int, default=5, metavar="N", help="exact seeks to time afterwards (default 5)")
    _subtitle_arguments(bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    memory.limit_arenas()  # before any thread of ours allocates (see vrplayer.memory)
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # the kiosk's supervisor starts its worker with the same arguments
    if args.command is None:
        parser.print_help()
        return 2
    log.setup(-1 if args.quiet else args.verbose)
    try:
        if args.command in ROOM_COMMANDS:
            return importlib.import_module(ROOM_COMMANDS[args.command]).run(args)
        return _COMMANDS[args.command](args)
    except PlayerError as exc:
        print(f"vrplayer: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`vrplayer probe FILM | head`): not an error of ours, and no traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _play(args) -> int:
    return open_player(args, "vrplayer", lambda player: player.play(args.files))


def play_options(args, **overrides):
    """The PlayOptions of `player_arguments` (and play's own, where the command has them)."""
    from vrplayer.player import PlayOptions

    fields = dict(
        loop=getattr(args, "loop", False), start=getattr(args, "start", 0.0), duration=args.duration,
        volume=max(0.0, min(2.0, args.volume)), show_info=args.info, timing_log=args.timing_log, view=ViewState(fov=args.fov),
        start_view=_start_view(args), layout_flags=layout_flags(args), eye=args.eye, xr_layer=args.xr_layer,
        audio_format=args.audio_format, hrtf=args.hrtf, head_path=_head_path(args), photo_seconds=getattr(args, "photo_seconds", None),
        level=bool(getattr(args, "level", None)), level_asked=bool(getattr(args, "level", None)),
    )
    fields.update(overrides)
    return PlayOptions(**fields)


def open_player(args, title: str, work) -> int:
    """Open the display and a Player with `player_arguments`' options and doors (head traces, the creator's desk,
    subtitles), run work(player) and close them again; its exit status."""
    from vrplayer.display import open_display
    from vrplayer.player import Player

    display = open_display(args.display, size=args.size, title=title, fullscreen=args.fullscreen, mirror=args.mirror)
    try:
        options = play_options(args)
        if getattr(args, "level", None) is None:  # the creator's desk (a desktop window of films) levels by default
            options.level = display.name == "desktop" and bool(getattr(args, "files", None))
        player = Player(display, options, audio=not args.no_audio)
        try:
            _analytics(player, args)
            if getattr(args, "files", None):  # (a room's seat is no creator's desk)
                _desk(player, args)
            _text_engine(player)
            # Subtitles: --subtitles, and key S through the film's tracks (the overlay is there even when off).
            from vrplayer.text.overlay import SubtitleOverlay

            subtitles = SubtitleOverlay(args.subtitles, args.subtitle_size, place=args.subtitle_place,
                                        language=args.language, depth=display.name == "xr")
            player.overlays.append(subtitles)
            player.inputs.append(subtitles.take)
            player.events.listen(subtitles.heard)  # the caption in view follows the head
            return work(player)
        finally:
            player.close()
    finally:
        display.close()


def _analytics(player, args) -> None:
    """--record-heads and --heatmap: the audience room's doors into the player (its events, an overlay)."""
    if args.record_heads:
        from vrplayer.analytics.recorder import HeadTraceRecorder

        player.events.listen(HeadTraceRecorder(args.record_heads, player.display_fov, player.display.name))
    if getattr(args, "heatmap", None):
        from vrplayer.analytics.desk import HeatmapOverlay

        player.overlays.append(HeatmapOverlay(player, args.heatmap))


def _desk(player, args) -> None:
    """The creator's desk in a desktop window: its doors into the player (inputs, the view drawer, an overlay)."""
    if player.display.name == "xr":
        return
    from vrplayer.creator.desk import open_desk

    open_desk(player, args)


def _probe(args) -> int:
    from vrplayer.media.probe import describe, probe

    info, decision = probe(args.file, layout_flags(args), args.audio_format)
    from vrplayer.text.subtitles import available

    info["subtitles"] = available(args.file)
    if args.json:
        for warning in info["warnings"]:  # what will keep the film from playing: on stderr too, for scripts
            log.get("probe").warning("%s", warning)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(describe(info, decision))
        for track in info["subtitles"]:
            where = (f"beside it, {path_text(track['file'])}" if track["source"] == "sidecar"
                     else f"stream {track['index']}, {track['codec']}" + (" (pictures: not shown)" if track["picture"] else ""))
            print(f"subtitles:   {track['language'] or 'language not named'} — {where}")
    return 0


def _text_engine(player) -> None:
    """The player's text cards (title cards, the info line, messages) written by the text room, in every script."""
    from vrplayer.text.engine import card_coverage

    player.overlay.rasterise_text = card_coverage


def _subtitle_arguments(parser) -> None:
    parser.add_argument("--subtitles", metavar="LANG|FILE|off",
                        help="subtitles: a language found beside or in the film (FILM.LANG.srt, .vtt, .ass, .ttml), a "
                             "subtitle file, or off (default: the --language ones where the film has them, else off)")
    parser.add_argument("--language", metavar="LANG",
                        help="the viewer's language (en, zh, ru, ar, hi, …): subtitles in it wherever a film has them, "
                             "unless --subtitles chooses")
    parser.add_argument("--subtitle-size", type=_positive_degrees, default=2.0, metavar="DEG",
                        help="height of a line of subtitles in degrees of visual angle (default 2)")
    parser.add_argument("--subtitle-place", choices=("view", "speaker"), default="view",
                        help="view: below the centre of the view (default); speaker: each cue that names its speaker's "
                             "direction (TTML imac:equirectangularLongitude/Latitude, or SUBTITLES.speakers.csv) "
                             "sits there, with an arrow at the edge of the view while the speaker is out of it")


def _positive_degrees(text: str) -> float:
    value = float(text)
    if not 0.2 <= value <= 20.0:
        raise argparse.ArgumentTypeError("must be between 0.2 and 20 degrees")
    return value


def _subtitles(args, patient: bool = False) -> list:
    """--subtitles: the text room's overlay, or none. patient: for one moment (snapshot), read up to it."""
    if (not args.subtitles and not args.language) or args.subtitles == "off":
        return []
    from vrplayer.text.overlay import SubtitleOverlay

    return [SubtitleOverlay(args.subtitles, args.subtitle_size, patient, place=args.subtitle_place, language=args.language)]


def _snapshot(args) -> int:
    from vrplayer.snapshot import render_view, write_png

    overview = None
    if args.overview:
        from vrplayer.creator.headsets import field_of_view

        overview = field_of_view(args.headset, args.headset_fov)
    picture, view = render_view(args.file, args.at, _start_view(args), args.fov, args.size, layout_flags(args), args.eye,
                                overview=overview, overlays=_subtitles(args, patient=True), level=bool(args.level))
    write_png(picture, args.output)
    log.get("snapshot").info("wrote %s (%dx%d, %.3f s, yaw %g pitch %g roll %g fov %g, %s)", args.output, *args.size, args.at, view.yaw, view.pitch, view.roll, view.fov, args.eye)
    return 0


def _start_view(args) -> tuple[float | None, float | None, float | None]:
    """--yaw/--pitch/--roll as given (None: the film's initial view decides)."""
    return args.yaw, args.pitch, getattr(args, "roll", None)


def _head_path(args):
    if not getattr(args, "head_path", None):
        return None
    from vrplayer.audio.offline import load_head_path

    return load_head_path(args.head_path)


def _render_audio(args) -> int:
    from vrplayer.audio.offline import HeadPath, render_file
    from vrplayer.media.probe import film_manifest

    head = _head_path(args) or HeadPath.fixed(args.yaw, args.pitch)
    manifest, _ = film_manifest(args.file)  # its "audio" may say what the sound is
    manifest_audio = manifest.get("audio") if manifest else None
    progress_log = log.get("render-audio")

    def progress(done: float, total: float) -> None:
        progress_log.info("%.1f s of %s rendered", done, f"{total:.1f} s" if total else "?")

    render_file(args.file, args.output, head, args.rate, args.audio_format, args.hrtf, manifest_audio, progress)
    return 0


def _kiosk(args) -> int:
    from vrplayer.errors import DisplayUnavailable
    from vrplayer.kiosk.folderlock import FolderLock
    from vrplayer.kiosk.supervisor import CONFIG_ERROR, DISPLAY_GONE, supervise

    try:
        args.token = staff_token(args)
    except PlayerError as exc:
        print(f"vrplayer: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    if not args.worker and not args.no_supervisor:
        at = args.argv.index("kiosk")
        # The token goes to the worker in its environment, never on its command line (which `ps` shows everyone).
        try:
            return supervise(args.argv[:at], _worker_arguments(args.argv[at + 1:]), args.log_dir, watchdog=args.watchdog,
                             token=args.token)
        except PlayerError as exc:  # another kiosk on the folder, or a folder that cannot be used
            return _kiosk_failed(args, exc, CONFIG_ERROR)
    lock = None
    try:
        lock = None if args.worker else FolderLock(args.log_dir).take()  # (a worker holds its supervisor's)
        return _kiosk_worker(args)
    except DisplayUnavailable as exc:
        return _kiosk_failed(args, exc, DISPLAY_GONE)  # the supervisor tries again after a pause: it may come
    except PlayerError as exc:
        return _kiosk_failed(args, exc, CONFIG_ERROR)
    finally:
        if lock is not None:
            lock.release()


def _kiosk_failed(args, exc: Exception, status: int) -> int:
    """A kiosk that cannot start (or go on) says why on stderr and in its session log; the exit status."""
    from vrplayer.kiosk.folderlock import LogFolderError
    from vrplayer.kiosk.sessionlog import SessionLog

    print(f"vrplayer: {exc}", file=sys.stderr)
    if not isinstance(exc, LogFolderError):  # (a folder that cannot be used cannot hold the line either)
        with SessionLog(args.log_dir) as session:
            session.event("kiosk_failed", error=str(exc), exit=status)
    return status


def _without_token_options(argv: list[str]) -> list[str]:
    """The arguments without the token options: --token T, --token=T, --token-file P (and argparse's abbreviations
    of it)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg.startswith("--token"):
            skip = "=" not in arg
        else:
            kept.append(arg)
    return kept


def _worker_arguments(kiosk_argv: list[str]) -> list[str]:
    """The kiosk's arguments for its worker: without --resume (the supervisor adds it) nor the token options."""
    return [arg for arg in _without_token_options(kiosk_argv) if arg != "--resume"]


def add_token_options(parser, what: str) -> None:
    """--token-file and --token, for a command serving a page and API beyond loopback (the kiosk, the conductor)."""
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--token-file", metavar="PATH", help=f"read {what} from this file (one line; chmod 600 it)")
    token.add_argument("--token", metavar="TOKEN", help=f"{what} (moved at once from the command line, which `ps` shows "
                       "every user, to the environment; --token-file or $VRPLAYER_KIOSK_TOKEN never show it)")


def staff_token(args) -> str | None:
    """The token of add_token_options' command: from --token, its --token-file, or $VRPLAYER_KIOSK_TOKEN (None
    without one); PlayerError for a token file that cannot be used. Given as `--token T` on the command line (which
    `ps` shows every user of the machine), the command starts itself again at once — the same process, by exec —
    with the token in its environment instead."""
    import os

    from vrplayer.kiosk.control import TOKEN_ENV, read_token_file

    token = args.token or (read_token_file(args.token_file) if args.token_file else os.environ.get(TOKEN_ENV))
    if token and any(arg == "--token" or arg.startswith("--token=") for arg in args.argv):
        os.execve(sys.executable, [sys.executable, "-m", "vrplayer", *_without_token_options(args.argv)],
                  {**os.environ, TOKEN_ENV: token})
    return token


def _kiosk_worker(args) -> int:
    from vrplayer.display import open_display
    from vrplayer.kiosk.runner import Kiosk, KioskOptions
    from vrplayer.kiosk.programme import load_programme
    from vrplayer.player import Player, PlayOptions

    load_programme(args.programme)  # a programme that cannot be read at all is a one-line error before any window
    room = None
    if args.room:
        from vrplayer.room.link import parse_room
        from vrplayer.room.seat import default_name

        room = parse_room(args.room, args.ca)
        args.seat_name = args.seat_name or default_name()
    options = PlayOptions(duration=args.duration, volume=max(0.0, min(2.0, args.volume)), view=ViewState(fov=args.fov), eye=args.eye,
                          head_path=_head_path(args))
    display = open_display(args.display, size=args.size, title="vrplayer kiosk", fullscreen=args.fullscreen, mirror=args.mirror)
    try:
        player = Player(display, options, audio=not args.no_audio)
        try:
            kiosk = Kiosk(args.programme, player, KioskOptions(log_dir=args.log_dir, control=args.control, token=args.token, resume=args.resume,
                                                             start_trigger=args.start_trigger, heartbeat_fd=args.heartbeat_fd,
                                                             cache=args.cache, cache_limit=int(args.cache_limit * 1e9),
                                                             room=room, seat_name=args.seat_name))
            _text_engine(player)
            # This kiosk's (or seat's) language, --subtitles, unless the programme's item chooses its own.
            from vrplayer.text.overlay import SubtitleOverlay

            subtitles = SubtitleOverlay(args.subtitles, args.subtitle_size, wanted_for=kiosk.subtitles_for,
                                        place=args.subtitle_place, language=args.language, depth=display.name == "xr")
            player.overlays.append(subtitles)
            player.events.listen(subtitles.heard)
            return kiosk.run()
        finally:
            player.close()
    finally:
        display.close()


def _bench(args) -> int:
    from vrplayer.bench import run

    print(json.dumps(run(args.file, args.size, args.frames, args.seeks, _subtitles(args, patient=True))))
    return 0


# Commands of the rooms (each module has `add_parser(sub)` and `run(args)`), by name.
ROOM_COMMANDS = {
    "heatmap": "vrplayer.analytics.command", "check": "vrplayer.creator.check_command",
    "compare": "vrplayer.creator.compare", "set-view": "vrplayer.creator.opening_view", "tag": "vrplayer.creator.tag",
    "fetch": "vrplayer.kiosk.fetch_command", "seat": "vrplayer.room.seat_command",
    "conductor": "vrplayer.room.conductor_command",
}
_COMMANDS = {"play": _play, "probe": _probe, "snapshot": _snapshot, "render-audio": _render_audio, "kiosk": _kiosk, "bench": _bench}
