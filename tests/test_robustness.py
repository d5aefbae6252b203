"""Hostile and broken input: special files, a file that never opens, data that stops coming mid-film, decoders freed
with each film, a picture wider than the GPU's textures, messages that name what is really wrong, counts that add up,
and a seeded fuzz run of damaged films through probe, snapshot and play (the long run: bench/fuzz.py)."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from conftest import ROOT, VRPLAYER, run_cli, start_pulse, stop_pulse, timing_pictures

sys.path.insert(0, str(ROOT / "bench"))
import fuzz  # noqa: E402  (bench/fuzz.py: the mutations and the judge of a run)

OFFSCREEN = ("--display", "offscreen", "--no-audio", "--size", "64x32")
COMMAND_ARGS = {"probe": [], "snapshot": ["--size", "64x32", "-o", "out.png"], "play": list(OFFSCREEN)}


@pytest.fixture(scope="module")
def small_film(make_film):
    """2 s of 160x80 at 24 fps with stereo sound; its moov comes first (so a cut keeps the headers)."""
    return make_film("robust.mp4", width=160, height=80, seconds=2.0, fps=24)


def error_lines(result) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return fuzz.error_lines(result.stderr)


def one_error(result) -> str:
    """The one error line of a run that failed as it should."""
    errors = error_lines(result)
    assert result.returncode != 0 and len(errors) == 1, result.stderr
    return errors[0]


def run_in(folder: Path, command: str, path, *extra, timeout=60):
    args = [a if a != "out.png" else folder / "out.png" for a in COMMAND_ARGS[command]]
    return run_cli(command, path, *args, *extra, timeout=timeout)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# -- point 1: only regular files, opened within a time limit ---------------------------------------------------

@pytest.mark.parametrize("command", ["probe", "snapshot", "play"])
def test_a_fifo_a_socket_or_a_device_is_refused_in_one_line(tmp_path, command):
    fifo = tmp_path / "f.mp4"
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.mp4"))
    try:
        for path, kind in ((fifo, "a FIFO (named pipe)"), (tmp_path / "s.mp4", "a socket"), (Path("/dev/zero"), "a character device")):
            line = one_error(run_in(tmp_path, command, path, timeout=30))  # (a FIFO used to block in av.open for good)
            assert str(path) in line and f"is {kind}, not a regular file" in line
    finally:
        sock.close()


def test_a_playlist_skips_a_fifo_and_plays_the_next(tmp_path, small_film):
    fifo = tmp_path / "f.mp4"
    os.mkfifo(fifo)
    result = run_cli("play", fifo, small_film, *OFFSCREEN, timeout=60)
    assert "FIFO" in one_error(result)
    assert f"finished {small_film}" in result.stderr


def test_a_local_hls_playlist_plays_only_the_regular_files_in_its_folder(tmp_path, small_film):
    """A local HLS playlist makes FFmpeg open the files it names, past the regular-file check: a FIFO among them
    held the film for good, and it could reach other folders and hosts. Each such part is left out with one
    warning; the rest plays."""
    folder = tmp_path / "stream"
    folder.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x80:rate=24:duration=3", "-c:v",
                    "libx264", "-g", "12", "-f", "hls", "-hls_time", "0.5", "-hls_list_size", "0",
                    str(folder / "film.m3u8")], check=True)
    segments = sorted(folder.glob("film*.ts"), key=lambda p: int(p.stem[4:]))
    assert len(segments) >= 4
    shutil.move(segments[1], tmp_path / "outside.ts")
    segments[2].unlink()
    os.mkfifo(segments[2])
    text = (folder / "film.m3u8").read_text()
    text = text.replace(segments[1].name, "../outside.ts").replace(segments[3].name, "http://127.0.0.1:9/film.ts")
    (folder / "film.m3u8").write_text(text)
    result = run_cli("play", folder / "film.m3u8", small_film, *OFFSCREEN, timeout=60)
    assert not error_lines(result), result.stderr
    warnings = [line for line in result.stderr.splitlines() if "that part is left out" in line]
    assert len(warnings) == 3, result.stderr
    assert "outside.ts: lies outside the playlist's folder" in warnings[0]
    assert f"{segments[2].name}: is a FIFO (named pipe), not a regular file" in result.stderr
    assert "http://127.0.0.1:9/film.ts: is on another host" in result.stderr
    assert re.search(r"finished .*film\.m3u8: \d+ frames shown", result.stderr), result.stderr
    assert f"finished {small_film}" in result.stderr


@pytest.mark.parametrize("command", ["probe", "snapshot", "play"])
def test_a_concat_script_is_refused_before_ffmpeg_opens_what_it_names(tmp_path, small_film, command):
    fifo = tmp_path / "part.mp4"
    os.mkfifo(fifo)
    concat = tmp_path / "list.mp4"  # (its name says nothing)
    concat.write_text(f"ffconcat version 1.0\nfile '{fifo}'\nfile '{small_film}'\n")
    line = one_error(run_in(tmp_path, command, concat, timeout=30))
    assert "is an FFmpeg concat script" in line and "not a film" in line and "did not open" not in line, line


@contextlib.contextmanager
def lease_held(path: Path):
    """`path` cannot be opened while a write lease on it is held (the kernel makes an open wait for the holder, up
    to /proc/sys/fs/lease-break-time: 45 s): a real open that hangs, as on a stuck share."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, signal, sys, time\n"
        "signal.signal(signal.SIGIO, signal.SIG_IGN)\n"
        "fd = os.open(sys.argv[1], os.O_WRONLY)\n"
        "try:\n    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)\nexcept OSError as e:\n    print('no', e, flush=True); sys.exit()\n"
        "print('held', flush=True)\n"
        "time.sleep(300)\n"), str(path)], stdout=subprocess.PIPE, text=True)
    answer = holder.stdout.readline()
    if not answer.startswith("held"):
        holder.wait()
        pytest.skip(f"this file system takes no lease ({answer.strip()})")
    try:
        yield path
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def leased(tmp_path, small_film):
    """A copy of the film whose opening hangs (lease_held)."""
    path = tmp_path / "leased.mp4"
    shutil.copy(small_film, path)
    with lease_held(path):
        yield path


def test_a_film_that_does_not_open_in_time_fails_in_one_line_and_the_playlist_goes_on(leased, small_film, tmp_path):
    for command in ("probe", "snapshot"):
        line = one_error(run_in(tmp_path, command, leased, timeout=120))
        assert str(leased) in line and "did not open within" in line
    # The thread stuck in the open neither holds the player (the next film plays) nor keeps the process alive.
    result = run_cli("play", leased, small_film, *OFFSCREEN, timeout=120)
    assert "did not open within" in one_error(result)
    assert f"finished {small_film}" in result.stderr


def test_a_film_whose_data_stops_coming_mid_film_ends_in_one_line(tmp_path, small_film):
    # An HLS playlist is a regular file; its second segment is a FIFO nobody writes: the decoder's read blocks for
    # good a second into the film, as a read from a share that stopped answering does.
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(small_film), "-c", "copy", "-f", "hls", "-hls_time", "1",
                    "-hls_list_size", "0", str(tmp_path / "film.m3u8")], check=True)
    segments = sorted(tmp_path.glob("film*.ts"))
    assert len(segments) >= 2
    with lease_held(segments[1]):  # its second part's file stops answering
        result = run_cli("play", tmp_path / "film.m3u8", small_film, *OFFSCREEN, timeout=120)
    line = one_error(result)
    assert "film.m3u8: stopped at" in line and "no data came from the file" in line
    assert f"finished {small_film}" in result.stderr  # the next film played: the player did not freeze


# -- point 10 (the decoders): each film's decoders end with it -----------------------------------------------------

def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def test_decoder_threads_end_with_each_film_without_the_garbage_collector(small_film, tmp_path):
    from test_player_seams import SteppedTime

    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.media.audio import AudioDecoder
    from vrplayer.player import Film, Player, PlayOptions
    from vrplayer.sync import WallClock

    display = OffscreenDisplay((64, 32))
    player = Player(display, PlayOptions(), audio=False)
    time_source = SteppedTime()
    player.clock_for = lambda mixer: WallClock(monotonic=time_source)
    player.on_tick = lambda playback: setattr(time_source, "t", time_source.t + 0.5 / 24)
    gc.collect()
    gc.disable()  # freed when the film ends, not whenever the collector runs
    try:
        baseline = None
        for film in range(5):
            assert player.play_film(Film(str(small_film))) == "end"
            sound = AudioDecoder(str(small_film), 48000, 2, ring_seconds=3.0)  # the whole film fits
            sound.seek(0.0)
            wait_for(lambda: sound.ring.finished, 30, "the sound to decode")
            sound.close()
            if baseline is None:
                baseline = thread_count()  # after the first film: the GL's own threads are up
            else:
                wait_for(lambda: thread_count() <= baseline, 10, f"threads back to {baseline} (now {thread_count()})")
    finally:
        gc.enable()
        player.close()
        display.close()


def test_no_collector_pass_walks_what_was_alive_before_the_film_while_it_plays(small_film):
    """A pass of the cyclic collector over everything the process holds keeps the interpreter's lock for tens of ms,
    and the audio callback waits for it (a skip in the sound). While a film plays, what was alive before it is
    frozen out of the collector; the cycles an earlier film left are gathered before the next one starts."""
    import weakref

    from test_player_seams import SteppedTime

    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.player import Film, Player, PlayOptions
    from vrplayer.sync import WallClock

    class Node:
        pass

    display = OffscreenDisplay((64, 32))
    player = Player(display, PlayOptions(), audio=False)
    time_source = SteppedTime()
    frozen_during = []
    player.clock_for = lambda mixer: WallClock(monotonic=time_source)

    def tick(playback):
        frozen_during.append(gc.get_freeze_count())
        time_source.t += 0.5 / 24

    player.on_tick = tick
    try:
        left_over = Node()
        left_over.itself = left_over  # a cycle an earlier film left behind
        alive_before = len(gc.get_objects())
        gone = weakref.ref(left_over)
        del left_over
        assert player.play_film(Film(str(small_film))) == "end"
        assert gone() is None, "the cycle left before the film was not gathered"
        assert frozen_during and min(frozen_during) >= 0.9 * alive_before, (min(frozen_during), alive_before)
        assert gc.get_freeze_count() == 0  # after the film, everything is the collector's again
    finally:
        player.close()
        display.close()


ARENAS_AFTER = r"""
import ctypes, sys
from vrplayer import cli
status = cli.main(sys.argv[1:])
libc = ctypes.CDLL(None)
libc.fdopen.restype, libc.fdopen.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_char_p]
out = ctypes.c_void_p(libc.fdopen(1, b"w"))
sys.stdout.flush()
libc.malloc_info(0, out)  # the allocator's own account: one <heap> per arena
libc.fflush(out)
sys.exit(status)
"""


def test_the_player_keeps_its_memory_in_two_arenas(make_film):
    """Each thread that allocates while another holds an arena gets one of its own (up to eight per core), and
    trimming cannot give back their part-used pages: a kiosk's memory climbed by hundreds of MB. The player keeps
    to two; the same film with the allocator's default (MALLOC_ARENA_MAX set, which the player leaves alone)
    spreads over more."""
    film = make_film("arenas.mp4", width=1280, height=640, seconds=2.0, fps=24, audio=False)

    def arenas(env: dict) -> int:
        result = subprocess.run([sys.executable, "-c", ARENAS_AFTER, "play", str(film), "--display", "offscreen",
                                 "--size", "320x180", "--no-audio"], capture_output=True, text=True, timeout=120,
                                cwd=ROOT, env=dict(os.environ, **env))
        assert result.returncode == 0, result.stderr
        return result.stdout.count("<heap nr=")

    assert arenas({}) <= 2
    assert arenas({"MALLOC_ARENA_MAX": "16"}) > 2


# -- point 12: a picture wider than the GPU's largest texture --------------------------------------------------

def test_a_picture_wider_than_the_gpus_textures_is_one_line_and_the_next_film_plays(tmp_path, small_film):
    wide = tmp_path / "x8.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=17000x16:rate=24:duration=2",
                    "-c:v", "mjpeg", str(wide)], check=True)
    line = one_error(run_in(tmp_path, "snapshot", wide))
    assert re.search(r"17000x16, larger than this GPU's largest texture \((\d+)x\1\); scale the film down", line), line
    result = run_cli("play", wide, small_film, *OFFSCREEN, timeout=60)
    assert "largest texture" in one_error(result)
    assert f"finished {small_film}" in result.stderr


# -- point 13: messages that say what is really wrong ----------------------------------------------------------

@pytest.mark.parametrize("command", ["probe", "snapshot", "play"])
def test_broken_360_metadata_that_ffmpeg_refuses_is_named(tmp_path, small_film, command):
    data = small_film.read_bytes()
    bounds = tmp_path / "bounds.mp4"
    bounds.write_bytes(fuzz.with_entry_boxes(data, fuzz.spherical_v2(*[0xFFFFFFFF] * 4)))
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(fuzz.with_entry_boxes(data, fuzz.box_bytes(b"sv3d", bytes(range(200, 256)))))
    for path, box in ((bounds, "avc1/sv3d/proj/equi bounds"), (garbage, "avc1/sv3d/")):
        line = one_error(run_in(tmp_path, command, path))
        assert "broken 360° metadata" in line and box in line and "not a video file" not in line, line
        assert "export the film again" in line


@pytest.mark.parametrize("command", ["probe", "snapshot", "play"])
def test_an_empty_file_says_it_is_empty(tmp_path, command):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert "is empty (0 bytes)" in one_error(run_in(tmp_path, command, empty))


def test_a_truncated_film_is_said_to_be_truncated(tmp_path, small_film):
    data = small_film.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    # It plays what it has, then says where it stopped of how long it claims to be; the command failed its job.
    result = run_cli("play", cut, *OFFSCREEN, timeout=60)
    line = one_error(result)
    assert re.search(r"cut\.mp4: truncated at 1\.\d\d s of 2\.00 s", line), line
    # A picture past the cut is refused with the same facts, not replaced by the last one there is.
    line = one_error(run_in(tmp_path, "snapshot", cut, "--at", "1.9"))
    assert "no picture at 1.900 s: truncated at" in line
    # probe warns from the file's structure alone: its media data runs past the end of the file.
    result = run_cli("probe", cut, "--json")
    assert result.returncode == 0 and not error_lines(result)
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == 1 and f"truncated at {len(data) * 6 // 10} bytes" in warnings[0], warnings
    assert "WARNING" in result.stderr and "truncated" in result.stderr


def test_a_matroska_film_whose_sound_runs_past_its_picture_is_not_called_truncated(tmp_path):
    """Matroska keeps no track's length in its index, only the segment's — the longest track's: the picture's own
    length is the DURATION tag its muxer wrote. A film cut short is still said to be truncated."""
    film = tmp_path / "longer_sound.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x80:rate=24:duration=2", "-f",
                    "lavfi", "-i", "sine=duration=3.5", "-c:v", "libx264", "-g", "12", "-c:a", "aac", str(film)],
                   check=True)
    result = run_cli("play", film, *OFFSCREEN, timeout=60)
    assert result.returncode == 0 and not error_lines(result), result.stderr
    assert "48 frames shown" in result.stderr
    cut = tmp_path / "cut.mkv"
    data = film.read_bytes()
    cut.write_bytes(data[: len(data) * 5 // 10])
    line = one_error(run_cli("play", cut, *OFFSCREEN, timeout=60))
    assert re.search(r"cut\.mkv: truncated at \d\.\d\d s of 2\.0\d s", line), line


@pytest.mark.parametrize("command", ["probe", "snapshot", "play"])
def test_ffmpegs_generic_error_is_not_a_permissions_problem(tmp_path, small_film, command):
    # A ctts box of size 0 runs to the end of its parent, swallowing the sample tables: FFmpeg's seek answers with
    # its generic error, EPERM, which used to reach the user as "Operation not permitted".
    data = bytearray(small_film.read_bytes())
    ctts = next(box for box in fuzz.boxes(bytes(data)) if box.fourcc == b"ctts")
    struct.pack_into(">I", data, ctts.start, 0)
    damaged = tmp_path / "ctts0.mp4"
    damaged.write_bytes(data)
    result = run_in(tmp_path, command, damaged)
    assert "not permitted" not in result.stderr and "permission" not in result.stderr.lower(), result.stderr
    if command == "probe":
        assert result.returncode == 0 and "the film will not play" in result.stdout
    else:
        assert "has no picture FFmpeg could decode" in one_error(result)


@pytest.mark.parametrize("command", ["snapshot", "play"])
def test_a_film_without_a_decodable_picture_says_so(tmp_path, small_film, command):
    data = bytearray(small_film.read_bytes())
    for table in (box for box in fuzz.boxes(bytes(data)) if box.fourcc == b"stco"):
        count = struct.unpack_from(">I", data, table.body + 4)[0]
        for i in range(count):  # every chunk of sound and picture read from the file's first bytes
            struct.pack_into(">I", data, table.body + 8 + 4 * i, 0)
    nothing = tmp_path / "nothing.mp4"
    nothing.write_bytes(data)
    line = one_error(run_in(tmp_path, command, nothing))
    assert "has no picture FFmpeg could decode" in line and "0.000 s" not in line and "shorter" not in line


@pytest.mark.parametrize("command", ["probe", "snapshot", "play"])
def test_a_newline_in_a_file_name_keeps_the_message_one_line(tmp_path, command):
    odd = tmp_path / "two\nlines.mp4"
    odd.write_text("not a film\n" * 50)
    result = run_in(tmp_path, command, odd)
    line = one_error(result)
    assert "two\\nlines.mp4" in line and "not a video file" in line
    assert not any(text.startswith("lines.mp4") for text in result.stderr.splitlines())


# -- point 14: counts that add up, sources named right, unplayable films warned about ----------------------------

def with_block_timestamp(source: Path, target: Path, frame: int, relative_ms: int) -> None:
    """The Matroska film with one video block's timestamp (relative to its Cluster, in ms) rewritten."""
    data = bytearray(source.read_bytes())
    with av.open(str(source)) as container:
        positions = [p.pos for p in container.demux(video=0) if p.size]
    pos = positions[frame]  # FFmpeg's packet position: the block's data, track number first
    assert data[pos] == 0x81, "expected a block of track 1"
    struct.pack_into(">h", data, pos + 1, relative_ms)
    target.write_bytes(data)


def test_damaged_timestamps_do_not_hold_back_or_drop_the_frames_after_them(make_film, tmp_path):
    from test_player_seams import play_on_stepped_clock

    film = make_film("stamps.mkv", width=160, height=80, seconds=4.0, fps=12, audio=False, gop=48)
    once = tmp_path / "once.mkv"
    with_block_timestamp(film, once, 6, 3500)  # a frame near 0.5 s claims 3.5 s: within the film, far ahead
    damaged = tmp_path / "damaged.mkv"
    with_block_timestamp(once, damaged, 30, 32767)  # one near 2.5 s claims 32.8 s, past the film's end
    with av.open(str(damaged)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == 48
    # Half a frame per turn of the loop: every frame is due on a turn of its own, so all are shown, none dropped
    # (before: the first bad frame held the picture until 3.5 s, then the frames it held back were dropped).
    outcome, counts, pts = play_on_stepped_clock(damaged, 0.5 / 12, tmp_path)
    assert outcome == "end"
    assert (counts["frames_shown"], counts["frames_dropped"]) == (decoded, 0)
    assert pts == sorted(pts) and pts[-1] < 4.0


def test_frames_shown_count_the_whole_film_across_an_audio_loss(make_film, tmp_path):
    film = make_film("loss.mp4", width=160, height=80, seconds=9.0, fps=24)
    server = start_pulse()
    timing = tmp_path / "timing.jsonl"
    proc = subprocess.Popen([*VRPLAYER, "play", str(film), "--display", "offscreen", "--size", "64x32",
                             "--timing-log", str(timing)], cwd=ROOT, env={**os.environ, **server.env},
                            stderr=subprocess.PIPE, text=True)
    try:
        def played_past(seconds):
            pictures = timing_pictures(timing)
            return pictures and pictures[-1]["pts"] >= seconds

        # (A new stream may stall up to 5 s while it starts: a loss is told from a start only after that.)
        wait_for(lambda: played_past(5.5), 60, "the film to play 5.5 s")
        stop_pulse(server)  # the sound device goes away mid-film: the film goes on silently from there
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        stop_pulse(server)
    assert proc.returncode == 0 and "audio device went away" in stderr, stderr
    shown, dropped = map(int, re.search(r"finished \S+: (\d+) frames shown, (\d+) dropped", stderr).groups())
    # Every frame of the film was shown or dropped once (give or take the one shown again where it went on).
    assert 9 * 24 - 2 <= shown + dropped <= 9 * 24 + 2, stderr


def test_probe_credits_a_matroska_films_stereo_to_its_stereo_mode(small_film, tmp_path):
    tagged = tmp_path / "tagged.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(tagged), "--projection-type", "0:1", "--stereo-mode", "0:3",
                    str(small_film)], check=True)
    result = run_cli("probe", tagged, "--json")
    assert result.returncode == 0, result.stderr
    layout = json.loads(result.stdout)["layout"]
    assert layout["stereo"] == "top-bottom"
    assert layout["sources"]["stereo"] == "metadata (Matroska StereoMode)"
    assert layout["sources"]["projection"] == "metadata (Matroska Projection)"


def test_probe_warns_about_a_film_that_cannot_play(small_film, tmp_path):
    data = small_film.read_bytes()
    moov = next(box for box in fuzz.boxes(data) if box.fourcc == b"moov")
    # A second copy of the headers in front of the first: the chunk offsets FFmpeg reads now point into headers.
    twice = tmp_path / "two-moov.mp4"
    twice.write_bytes(data[:moov.start] + data[moov.start:moov.end] + data[moov.start:])
    result = run_cli("probe", twice, "--json")
    assert result.returncode == 0 and not error_lines(result)
    warnings = json.loads(result.stdout)["warnings"]
    assert any("2 moov boxes" in w for w in warnings) and any("the film will not play" in w for w in warnings)
    assert sum("WARNING probe" in line for line in result.stderr.splitlines()) == len(warnings)
    assert json.loads(run_cli("probe", small_film, "--json").stdout)["warnings"] == []
    assert "has no picture FFmpeg could decode" in one_error(run_cli("play", twice, *OFFSCREEN))  # as probe warned


# -- the fuzz run -----------------------------------------------------------------------------------------------

def test_damaged_films_never_crash_hang_or_fail_silently(tmp_path):
    """A fixed, seeded set of damaged films through probe --json, snapshot and play: each run exits 0 with its
    output or non-zero with exactly one error line; no traceback, no crash, no hang. (bench/fuzz.py: hundreds.)"""
    films = fuzz.make_seed_films(tmp_path)
    case_list = fuzz.cases(films, 35, seed=12)  # five of each mutation
    verdicts = fuzz.run_all(case_list, tmp_path, jobs=3, timeout=60)
    failures = [fuzz.failure_report(v) for v in verdicts if not v.ok]
    assert not failures, "\n".join(failures) + "\n" + fuzz.summary(verdicts)
    assert len(verdicts) == 35 * 3
