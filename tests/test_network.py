"""Films on a web server: the tests' own server (film_server.py) with Range and without, cutting every connection
after a few hundred KB, answering 404; the player reads with range requests, reconnects from the byte it reached,
seeks by range, and says in one line why a link does not play."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

import shaped_link
from conftest import LATE_ATTEMPTS, ROOT, VRPLAYER, run_cli, sound_was_late, timing_pictures
from film_server import Behaviour, FilmServer

FPS = 24
SECONDS = 4.0


@pytest.fixture(scope="module")
def served(make_film, tmp_path_factory):
    """A folder with one film twice: its index at its start (+faststart) and at its end (as muxers write it)."""
    folder = tmp_path_factory.mktemp("served")
    # Grain, as camera footage has: a film of some MB, in which a seek is far from what was read.
    made = make_film("network.mp4", width=480, height=240, seconds=SECONDS, fps=FPS, grain=6)
    for name, flags in (("fast.mp4", ["-movflags", "+faststart"]), ("tail.mp4", [])):
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(made), "-c", "copy", *flags, str(folder / name)], check=True)
    for name, index_first in (("fast.mp4", True), ("tail.mp4", False)):
        data = (folder / name).read_bytes()
        assert (data.find(b"moov") < data.find(b"mdat")) == index_first
    return folder


def finished(stderr: str) -> tuple[int, int]:
    """(frames shown, frames dropped) from the player's closing line."""
    found = re.search(r"finished \S+: (\d+) frames shown, (\d+) dropped", stderr)
    assert found, stderr
    return int(found.group(1)), int(found.group(2))


def every_frame_arrived(stderr: str, pictures: list[dict]) -> None:
    """Every frame of the film came over the network and was shown (or, on a busy machine, dropped as late: the
    display's business, not the network's). A frame shown again after a pause to buffer counts once."""
    _, dropped = finished(stderr)
    distinct = {round(p["pts"] * FPS) for p in pictures}
    assert distinct <= set(range(int(SECONDS * FPS)))
    assert len(distinct) + dropped >= int(SECONDS * FPS), (len(distinct), dropped)


def play(url, tmp_path, *extra):
    timing = tmp_path / "timing.jsonl"
    result = run_cli("play", url, "--display", "offscreen", "--size", "64x32", "--no-audio", "--timing-log", timing,
                     *extra, timeout=120)
    return result, timing_pictures(timing)


@pytest.mark.parametrize("name", ["fast.mp4", "tail.mp4"])
def test_a_film_on_a_range_server_plays_every_frame(served, tmp_path, name):
    # (At full speed a small film may arrive whole before its index is asked for: at twice its bit rate its index at
    # the end comes by a range request of its own.)
    size = (served / name).stat().st_size
    with FilmServer(served, Behaviour(rate=size / 2 if name == "tail.mp4" else None)) as server:
        result, pictures = play(server.url(name), tmp_path)
    assert result.returncode == 0, result.stderr
    every_frame_arrived(result.stderr, pictures)
    assert [p["pts"] for p in pictures] == sorted(p["pts"] for p in pictures)
    if name == "tail.mp4":  # its index was fetched by a range from its end
        assert max(server.range_starts(name)) > size // 2


def test_a_connection_cut_again_and_again_resumes_from_the_byte_it_reached(served, tmp_path):
    size = (served / "fast.mp4").stat().st_size
    cut = size // 6
    with FilmServer(served, Behaviour(cut_after=cut)) as server:
        result, pictures = play(server.url("fast.mp4"), tmp_path)
    assert result.returncode == 0, result.stderr
    every_frame_arrived(result.stderr, pictures)
    # Each reconnection asked for the rest from the byte the cut left it at.
    starts = server.range_starts("fast.mp4")
    assert len(server.cuts) >= 5
    assert all(cut in starts[starts.index(0):] for cut in server.cuts), (server.cuts, starts)


def test_a_seek_is_a_range_request(served, tmp_path):
    size = (served / "fast.mp4").stat().st_size
    with FilmServer(served, Behaviour(rate=size / 8)) as server:  # (at full speed the film is all there at once)
        result, pictures = play(server.url("fast.mp4"), tmp_path, "--start", "3", "--duration", "3")
    assert result.returncode == 0, result.stderr
    assert pictures and pictures[0]["pts"] == pytest.approx(3.0, abs=1 / FPS)
    # The picture at 3 s of 4 came from a range starting well into the file, not from reading all before it.
    assert any(start > size // 3 for start in server.range_starts("fast.mp4")), server.requests


def test_a_server_without_range_plays_a_faststart_film_and_names_the_fix_for_the_other(served, tmp_path):
    with FilmServer(served, Behaviour(ranges=False)) as server:
        result, pictures = play(server.url("fast.mp4"), tmp_path)
        assert result.returncode == 0, result.stderr
        assert "ignores Range requests: the film plays from its start" in result.stderr
        every_frame_arrived(result.stderr, pictures)
        result, _ = play(server.url("tail.mp4"), tmp_path)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line or line.startswith("vrplayer:")]
    assert len(errors) == 1 and "ignores Range" in errors[0] and "+faststart" in errors[0], result.stderr


@pytest.mark.parametrize("link, words", [
    ("missing", "answered 404"),
    ("refused", "refused the connection"),
    ("nowhere", "cannot find the server"),
])
def test_a_dead_link_is_one_line_and_a_non_zero_exit(served, tmp_path, link, words):
    with FilmServer(served, Behaviour(missing={"gone.mp4"})) as server:
        url = {"missing": server.url("gone.mp4"), "refused": "http://127.0.0.1:9/film.mp4",
               "nowhere": "http://no-such-host.invalid/film.mp4"}[link]
        result, _ = play(url, tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0] and url in lines[0], result.stderr


def test_probe_reads_a_films_360_metadata_over_http(served, tmp_path, make_film):
    tagged = tmp_path / "tagged.mp4"
    result = run_cli("tag", served / "fast.mp4", "--stereo", "top-bottom", "-o", tagged)
    if result.returncode != 0:
        pytest.fail(result.stderr)
    with FilmServer(tmp_path) as server:
        result = run_cli("probe", server.url("tagged.mp4"))
    assert result.returncode == 0, result.stderr
    assert "top-bottom — metadata (Spherical Video V2" in result.stdout, result.stdout


def test_a_link_slower_than_the_film_pauses_to_buffer_and_stays_in_sync(served, tmp_path, pulse):
    """On a link at 0.6 × the film's bit rate (tc's token bucket on a veth pair into a network namespace) the film
    pauses to buffer, picture and sound together, says so, plays every frame, and its flashes still meet their
    beeps after each pause."""
    why = shaped_link.available()
    if why is not None:
        pytest.skip(why)
    import numpy as np
    from test_audio import MonitorRecorder, flash_offsets

    film = served / "fast.mp4"
    bit_rate = film.stat().st_size * 8 / SECONDS
    timing = tmp_path / "timing.jsonl"
    env = dict(os.environ, **pulse.env)
    for _ in range(LATE_ATTEMPTS):  # (played again while the player reports its sound late: see sound_was_late)
        with shaped_link.ShapedLink(0.6 * bit_rate) as link, FilmServer(served, host=link.host_address) as server:
            recorder = MonitorRecorder(env)
            time.sleep(0.4)
            result = subprocess.run(link.wrap([*VRPLAYER, "play", server.url("fast.mp4"), "--display", "offscreen",
                                               "--size", "64x32", "--timing-log", str(timing)]),
                                    env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
            time.sleep(0.3)
            samples, sample0_time = recorder.stop()
        if not sound_was_late(result.stderr):
            break
    assert result.returncode == 0, result.stderr
    underruns = int(re.search(r"(\d+) buffer underruns", result.stderr).group(1))
    assert underruns >= 1 and "buffering at" in result.stderr, result.stderr
    pictures = timing_pictures(timing)
    every_frame_arrived(result.stderr, pictures)
    # Sync: each flash (the first frame of a whole second) against the beep heard nearest to it, every second after
    # the first (whose beep's onset a new stream cuts).
    offsets = list(flash_offsets(pictures, samples, sample0_time).values())
    assert len(offsets) >= 2, offsets
    assert abs(float(np.median(offsets))) <= 0.030, [round(o * 1000) for o in offsets]


def test_the_kiosk_status_and_the_info_line_show_the_buffer_and_the_throughput(served, tmp_path):
    from test_kiosk import _status, finish, free_port, start_kiosk, wait_for

    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.player import Player, PlayOptions
    from vrplayer.player.info_line import InfoLine
    from vrplayer.player.playback import Playback

    film = served / "fast.mp4"
    bit_rate = film.stat().st_size / SECONDS  # bytes per second
    with FilmServer(served, Behaviour(rate=0.5 * bit_rate)) as server:
        # The info line, on a film being fetched at half its rate.
        display = OffscreenDisplay((64, 32))
        player = Player(display, PlayOptions(show_info=True), audio=False)
        playback = Playback(server.url("fast.mp4"), None, 1.0)
        try:
            first = playback.goto(0.0)
            player.playback = playback
            player.schedule_first(playback, first, paused=False)
            player.buffering.step(playback)  # too little here to start on: it waits, and says what for
            assert player.buffering.active and playback.clock.paused
            card = player.buffering.cards(playback)[0].text
            assert re.fullmatch(r"buffering [\d.]+ / 1 s, [\d.]+ MB/s", card), card
            time.sleep(1.0)
            line = InfoLine(player).text(playback)
            assert "BUFFERING" in line
        finally:
            player.playback = None
            playback.close()
            player.close()
            display.close()
        found = re.search(r"BUFFER ([\d.]+) S ([\d.]+) MB/S", line)
        assert found and float(found.group(2)) > 0, line
        # The kiosk's status, while a film from the server plays on a link too slow for it.
        prog = tmp_path / "prog.toml"  # (streamed as it arrives: not fetched ahead)
        prog.write_text(f'[[items]]\nfile = "{server.url("fast.mp4")}"\nstream = true\n')
        port = free_port()
        proc = start_kiosk(prog, tmp_path / "log", "--no-audio", "--start-trigger", "auto", "--control",
                           f"127.0.0.1:{port}", "--duration", "40", "--cache", tmp_path / "cache")
        try:
            buffering = wait_for(lambda: (s := _status(port)) and s.get("buffering") and s, timeout=40, what="buffering")
            assert buffering["throughput_bps"] > 0 and buffering["buffer_s"] is not None
        finally:
            proc.terminate()
            finish(proc)
