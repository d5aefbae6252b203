"""HLS and DASH streams made here by FFmpeg (three variants of the picture, the sound apart), served by the tests'
own server: every frame plays, the variant follows the throughput (and the others are never fetched), a switch
falls between segments with no jump in the picture's time, a segment that fails is retried, one that is gone for
good is reported as a hole and the sound stays in sync, a seek lands where asked, a live playlist plays at its edge."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from conftest import LATE_ATTEMPTS, run_cli, sound_was_late, timing_pictures
from film_server import Behaviour, FilmServer
from vrplayer.media import adaptive

FPS = 30
SECONDS = 6.0
SCALE = "[0:v]split=3[a][b][c];[a]scale=320:160[v0];[b]scale=640:320[v1];[c]scale=1280:640[v2]"
VARIANTS = ["-map", "[v0]", "-map", "[v1]", "-map", "[v2]", "-map", "0:a", "-c:v", "libx264", "-preset", "veryfast",
            "-b:v:0", "200k", "-b:v:1", "700k", "-b:v:2", "2500k", "-g", str(FPS), "-keyint_min", str(FPS),
            "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k"]


@pytest.fixture(scope="module")
def streams(make_film, tmp_path_factory):
    """hls/ (TS segments, master playlist, an audio rendition) and dash/ (fMP4), 1 s segments, of one film."""
    film = make_film("stream-source.mp4", width=1280, height=640, seconds=SECONDS, fps=FPS, grain=4)
    root = tmp_path_factory.mktemp("streams")
    (root / "hls").mkdir()
    (root / "dash").mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-filter_complex", SCALE, *VARIANTS, "-f", "hls",
                    "-hls_time", "1", "-hls_playlist_type", "vod", "-hls_segment_filename", str(root / "hls" / "v%v_%03d.ts"),
                    "-master_pl_name", "master.m3u8", "-var_stream_map",
                    "v:0,agroup:aud v:1,agroup:aud v:2,agroup:aud a:0,agroup:aud", str(root / "hls" / "v%v.m3u8")],
                   check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-filter_complex", SCALE, *VARIANTS, "-f", "dash",
                    "-seg_duration", "1", "-use_template", "1", "-use_timeline", "1", "-adaptation_sets",
                    "id=0,streams=v id=1,streams=a", str(root / "dash" / "manifest.mpd")], check=True)
    return root


def play(url, tmp_path, *extra, env=None, timeout=120):
    timing = tmp_path / "timing.jsonl"
    result = run_cli("play", url, "--display", "offscreen", "--size", "64x32", "--timing-log", timing, *extra,
                     env=env, timeout=timeout)
    return result, timing_pictures(timing)


def continuous(pictures) -> None:
    """Every frame of the film, in order, once each (a frame shown again after a pause to buffer counts once)."""
    frames = [round(p["pts"] * FPS) for p in pictures]
    assert sorted(set(frames)) == list(range(int(SECONDS * FPS))), sorted(set(range(int(SECONDS * FPS))) - set(frames))
    assert frames == sorted(frames)


def variants_fetched(server, prefix: str) -> list[int]:
    """The variant of each media segment asked for, in order (HLS names: v0_000.ts …)."""
    return [int(m.group(1)) for path, _ in server.requests if (m := re.search(rf"/{prefix}([0-2])_\d+\.ts$", path))]


@pytest.mark.parametrize("kind, manifest", [("hls", "master.m3u8"), ("dash", "manifest.mpd")])
def test_a_stream_plays_every_frame_with_its_sound_and_climbs_to_the_best_variant(streams, tmp_path, pulse, kind, manifest):
    with FilmServer(streams / kind) as server:
        result, pictures = play(server.url(manifest), tmp_path, env=pulse.env)
    assert result.returncode == 0, result.stderr
    assert "(audio clock)" in result.stderr and f"{kind.upper()} on demand, 3 variants" in result.stderr
    continuous(pictures)
    assert "→ 1280x640" in result.stderr  # a fast link: up to the best variant
    if kind == "hls":
        fetched = variants_fetched(server, "v")
        assert 2 in fetched and fetched[fetched.index(2):] == [2] * len(fetched[fetched.index(2):])  # once up, only it


def test_the_variant_follows_the_throughput_and_the_others_are_not_fetched(streams, tmp_path):
    # Each connection at 90 KB/s (0.72 Mb/s): the middle variant (0.7 Mb/s + sound) is too much, the lowest fits.
    with FilmServer(streams / "hls", Behaviour(rate=90_000)) as server:
        result, pictures = play(server.url("master.m3u8"), tmp_path, "--no-audio", timeout=180)
        slow = variants_fetched(server, "v")
    assert result.returncode == 0, result.stderr
    continuous(pictures)
    assert set(slow) == {0}, slow  # never the higher variants: not one of their segments asked for
    # Fast at first, then the link drops: up, then down again, between segments.
    with FilmServer(streams / "hls", Behaviour(slow_from=(r"^v2_", 60_000))) as server:  # slow from the first v2 on
        result, pictures = play(server.url("master.m3u8"), tmp_path, "--no-audio", timeout=180)
        fetched = variants_fetched(server, "v")
    assert result.returncode == 0, result.stderr
    continuous(pictures)  # the switches left no jump in the picture's time
    top = fetched.index(2)
    assert any(v < 2 for v in fetched[top:]), fetched  # it came down after the link did
    assert re.search(r"1280x640 \(\d+ kb/s\) → (320x160|640x320)", result.stderr), result.stderr


def test_a_failing_segment_is_retried_and_one_gone_for_good_is_a_hole_with_the_sound_in_sync(streams, tmp_path, pulse):
    names = [f"v{v}_002.ts" for v in range(4)]
    with FilmServer(streams / "hls", Behaviour(flaky=set(names))) as server:
        result, pictures = play(server.url("master.m3u8"), tmp_path, "--no-audio")
    assert result.returncode == 0, result.stderr
    assert "failed (503" in result.stderr and "hole" not in result.stderr  # asked again: it came
    continuous(pictures)
    from test_audio import MonitorRecorder, flash_offsets

    env = dict(os.environ, **pulse.env)
    for _ in range(LATE_ATTEMPTS):  # (played again while the player reports its sound late: see sound_was_late)
        with FilmServer(streams / "hls", Behaviour(missing=set(names))) as server:
            recorder = MonitorRecorder(env)
            time.sleep(0.4)
            result, pictures = play(server.url("master.m3u8"), tmp_path, env=pulse.env)
            time.sleep(0.3)
            samples, sample0_time = recorder.stop()
        if not sound_was_late(result.stderr):
            break
    assert result.returncode == 0, result.stderr
    assert re.search(r"segment 2 \(2\.00–3\.00 s\) failed 3 times \(404 Not Found\): skipped, a hole", result.stderr)
    assert "a hole in the picture from 2.00 s to 3.00 s" in result.stderr  # and seen in the timestamps
    frames = sorted({round(p["pts"] * FPS) for p in pictures})
    assert frames == [f for f in range(int(SECONDS * FPS)) if not 2 * FPS <= f < 3 * FPS]
    # The sound kept the hole's time as silence: after it, each second's flash meets its beep as before it (the
    # retries took long enough for the film to pause to buffer meanwhile, picture and sound together).
    assert "(audio clock)" in result.stderr
    offsets = flash_offsets(pictures, samples, sample0_time)
    assert {3, 4, 5} <= set(offsets), offsets
    assert all(abs(offsets[second]) <= 0.030 for second in (3, 4, 5)), offsets


def test_probe_describes_a_stream_and_its_variants(streams, tmp_path):
    for kind, manifest in (("hls", "master.m3u8"), ("dash", "manifest.mpd")):
        with FilmServer(streams / kind) as server:
            result = run_cli("probe", server.url(manifest))
        assert result.returncode == 0, result.stderr
        assert f"stream:      {kind.upper()} on demand, 3 variants: 320x160" in result.stdout, result.stdout
        assert "container:   " + ("mpegts" if kind == "hls" else "mp4") + ", 0:06.000" in result.stdout
        assert "audio:       aac 48000 Hz, 2 ch" in result.stdout


def test_a_seek_in_a_stream_lands_where_asked(streams, tmp_path):
    for kind, manifest in (("hls", "master.m3u8"), ("dash", "manifest.mpd")):
        with FilmServer(streams / kind) as server:
            result, pictures = play(server.url(manifest), tmp_path, "--no-audio", "--start", "3.5", "--duration", "1.5")
        assert result.returncode == 0, result.stderr
        assert pictures[0]["pts"] == pytest.approx(3.5, abs=1 / FPS), (kind, pictures[:2])


def test_a_live_playlist_plays_from_near_its_edge_as_it_grows(streams, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    source = streams / "hls"
    segments = sorted(path.name for path in source.glob("v0_*.ts"))
    for name in segments:
        shutil.copy(source / name, live / name)

    def publish(count: int) -> None:
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0"]
        for name in segments[:count]:
            lines += ["#EXTINF:1.0,", name]
        (live / "live.m3u8.tmp").write_text("\n".join(lines) + "\n")
        os.replace(live / "live.m3u8.tmp", live / "live.m3u8")

    plays_live(live, "live.m3u8", publish, len(segments), tmp_path, "HLS live")


def plays_live(folder, manifest: str, publish, segments: int, tmp_path, says: str) -> None:
    """A live stream whose `publish(count)` lists its first `count` one-second segments: four at first (it is
    joined three from the edge, at segment 1: media time 0 for the player), one more each second while it plays
    for 5 s. It starts at once and plays on into the segments published after it started."""
    publish(4)
    stop = threading.Event()

    def grow() -> None:
        for count in range(5, segments + 1):
            if stop.wait(1.0):
                return
            publish(count)

    with FilmServer(folder) as server:
        threading.Thread(target=grow, daemon=True).start()
        result, pictures = play(server.url(manifest), tmp_path, "--no-audio", "--duration", "5")
        stop.set()
    assert result.returncode == 0, result.stderr
    assert says in result.stderr
    pts = [p["pts"] for p in pictures]
    assert pts[0] < 0.1, pts[:3]  # at once, not after the time before the join
    assert pts == sorted(pts) and pts[-1] > 3.0, pts[-3:]  # on into the segments published after it started


@pytest.mark.parametrize("content, words", [
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", "names no playlist"),
    ("<MPD><Period/></MPD>", "no video Representation"),
    ("not a manifest", "not an HLS playlist"),
])
def test_a_broken_manifest_is_one_line(tmp_path, content, words):
    name = "bad.mpd" if content.startswith("<") else "bad.m3u8"
    (tmp_path / name).write_text(content)
    with FilmServer(tmp_path) as server:
        result, _ = play(server.url(name), tmp_path, "--no-audio")
        gone, _ = play(server.url("gone.m3u8"), tmp_path, "--no-audio")
    assert result.returncode != 0 and words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert gone.returncode != 0 and "answered 404" in gone.stderr


def test_the_choice_has_hysteresis():
    chooser = adaptive.VariantChooser([300_000, 1_000_000, 3_000_000])
    assert chooser.choose(1_500_000) == 0  # above 1.4 × the next once: not yet
    assert chooser.choose(1_500_000) == 1  # twice in a row: up
    assert chooser.choose(1_200_000) == 1  # below 1.4 × the next, above 1.1 × its own rate: stays
    assert chooser.choose(4_300_000) == 1 and chooser.choose(4_300_000) == 2
    assert chooser.choose(3_500_000) == 2  # near its rate: no flip-flop
    assert chooser.choose(1_000_000) == 0  # a drop: at once, to what fits (1.0 Mb/s ≥ 1.25 × 0.3 only)
    meter = adaptive.Throughput()
    for _ in range(5):
        meter.add(1_000_000, 1.0)
    meter.add(1_000_000, 10.0)  # one slow segment: the estimate believes it at once
    assert meter.estimate < 6e6


def test_a_live_dash_stream_plays_from_near_its_edge_as_its_timeline_grows(streams, tmp_path):
    import xml.etree.ElementTree as ET

    live = tmp_path / "live"
    shutil.copytree(streams / "dash", live)
    mpd = ET.parse(streams / "dash" / "manifest.mpd")
    namespace = "urn:mpeg:dash:schema:mpd:2011"
    ET.register_namespace("", namespace)
    root = mpd.getroot()
    root.set("type", "dynamic")
    root.set("minimumUpdatePeriod", "PT1S")
    root.attrib.pop("mediaPresentationDuration", None)
    timelines = [(timeline, [(int(s.get("t", 0)), int(s.get("d")), int(s.get("r", 0))) for s in timeline])
                 for timeline in root.iter(f"{{{namespace}}}SegmentTimeline")]

    def publish(count: int) -> None:
        """The MPD with the first `count` segments of each timeline, as a live encoder has them so far."""
        for timeline, entries in timelines:
            for entry in list(timeline):
                timeline.remove(entry)
            time_now, listed = None, 0
            for start, duration, repeat in entries:
                time_now = start if time_now is None else time_now
                for _ in range(repeat + 1):
                    if listed < count:
                        ET.SubElement(timeline, f"{{{namespace}}}S", t=str(time_now), d=str(duration))
                        listed += 1
                    time_now += duration
        mpd.write(live / "live.tmp", xml_declaration=True, encoding="utf-8")
        os.replace(live / "live.tmp", live / "live.mpd")

    plays_live(live, "live.mpd", publish, 6, tmp_path, "DASH live")
