"""`vrplayer check`: for each rule a film that passes and one that fails, made here with ffmpeg (and, where no tool
writes what a rule reads, the MP4 box rewriter of test_spherical); the verdicts read from the command's JSON and its
exit status. Loudness and true peak are compared with FFmpeg's own `ebur128` run by the ffmpeg command line."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_sample, run_cli
from test_spherical import equi, prhd, st3d, sv3d, with_entry_boxes

TARGETS = ("quest3", "quest2", "pico4", "vision-pro", "youtube-vr", "desktop")
# Loudness of a 1 kHz sine on both channels: BS.1770 gives about −14.9 LUFS at amplitude 0.18.
QUIET, MID = 0.01, 0.127  # ≈ −40 and −18 LUFS


def ffmpeg(*args) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed: scripts/setup.sh --test installs it")
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True, capture_output=True, timeout=120)


def sine(amplitude: float, frequency: float = 1000.0, phase: str = "0") -> str:
    wave = f"{amplitude}*sin(2*PI*{frequency}*t+{phase})"
    return f"aevalsrc={wave}|{wave}:s=48000"


def film(path: Path, size="256x128", seconds=2, rate=30, video=("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "30"),
         sound: str | None = sine(MID), audio=("-c:a", "aac", "-b:a", "128k"), picture="testsrc2", extra=()) -> Path:
    inputs = ["-f", "lavfi", "-i", f"{picture}{':' if '=' in picture else '='}size={size}:rate={rate}"]
    if sound:
        inputs += ["-f", "lavfi", "-i", sound]
    ffmpeg(*inputs, "-t", seconds, *video, *(audio if sound else ("-an",)), *extra, path)
    return path


@pytest.fixture(scope="module")
def films(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("check")


@pytest.fixture(scope="module")
def plain(films) -> Path:
    """A good small 2:1 film: H.264 High, a key frame a second, stereo AAC at about −18 LUFS, no metadata."""
    return film(films / "plain.mp4")


@pytest.fixture(scope="module")
def tagged(films, plain) -> Path:
    """The same film with Spherical Video V2 boxes saying equirectangular mono."""
    return with_entry_boxes(plain, films / "tagged.mp4", st3d(0), sv3d(prhd(), equi()))


def check(path, *targets, extra=()) -> tuple[dict, int]:
    result = run_cli("check", path, *(("--target", *targets) if targets else ()), "--json", *extra, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout), result.returncode


def verdict(answer: dict, target: str, rule: str) -> tuple[str, str]:
    found = next(t for t in answer["targets"] if t["id"] == target)
    item = next(c for c in found["checks"] if c["check"] == rule)
    return item["verdict"], item["reason"]


def assert_verdict(path, target: str, rule: str, expected: str) -> str:
    answer, status = check(path, target)
    got, reason = verdict(answer, target, rule)
    assert got == expected, f"{rule} on {target}: {got} ({reason})"
    assert "\n" not in reason and reason
    assert status == (1 if answer["targets"][0]["verdict"] == "fail" else 0)
    return reason


def ffmpeg_r128(path: Path, filters: str = "ebur128=peak=true") -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) from the summary of FFmpeg's ebur128 run by the ffmpeg command line."""
    done = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a", "-af", filters, "-f", "null", "-"],
                          capture_output=True, text=True, timeout=120, check=True)
    summary = done.stderr[done.stderr.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


# ---------------------------------------------------------------------------------------------------------------
# Each rule: a film that passes, a film that fails


def test_file_whole_passes_and_a_truncated_one_fails(films, plain):
    assert_verdict(plain, "desktop", "file", "pass")
    whole = film(films / "faststart.mp4", seconds=3, extra=("-movflags", "+faststart"))
    cut = films / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    reason = assert_verdict(cut, "desktop", "file", "fail")
    assert "truncated" in reason or "ends" in reason or "breaks off" in reason


def test_resolution_and_frame_rate_against_the_decoder(films, plain):
    assert_verdict(plain, "quest3", "resolution", "pass")
    fast = film(films / "fast.mp4", size="128x64", seconds=0.5, rate=240, sound=None)
    assert "240 fps" in assert_verdict(fast, "quest3", "resolution", "fail")
    wide = film(films / "wide.mp4", size="8704x64", seconds=0.1, rate=10, sound=None)  # wider than 8192
    assert "8704×64" in assert_verdict(wide, "quest3", "resolution", "fail")


def test_codec_and_profile(films, plain):
    reason = assert_verdict(plain, "quest3", "codec", "pass")
    assert reason.startswith("h264 ")
    full_chroma = film(films / "444.mp4", video=("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"), sound=None)
    assert "High 4:4:4" in assert_verdict(full_chroma, "quest3", "codec", "fail")
    other = film(films / "mpeg4.mp4", video=("-c:v", "mpeg4"), sound=None)
    assert "mpeg4" in assert_verdict(other, "vision-pro", "codec", "fail")


def test_key_frame_interval_from_the_packets(films, plain):
    assert "1.00 s" in assert_verdict(plain, "quest3", "key_frames", "pass")
    sparse = film(films / "sparse.mp4", seconds=4, sound=None,
                  video=("-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "keyint=90:min-keyint=90:scenecut=0"))
    assert "3.00 s" in assert_verdict(sparse, "quest3", "key_frames", "fail")


def test_bit_rate_measured(films, plain):
    assert_verdict(plain, "quest3", "bit_rate", "pass")
    noise = film(films / "noise.mp4", size="1280x640", seconds=1, sound=None, picture="color=c=gray",
                 video=("-vf", "noise=alls=100:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"))
    answer, status = check(noise, "quest3")
    got, reason = verdict(answer, "quest3", "bit_rate")
    assert (got, status) == ("fail", 1), reason
    measured = answer["facts"]["video"]["bit_rate"]
    assert measured == pytest.approx(8 * answer["facts"]["video"]["bytes"] / answer["facts"]["video"]["measured_duration"])
    assert answer["facts"]["video"]["peak_bit_rate"] > 120e6


def test_projection_the_target_shows(films, plain):
    assert_verdict(plain, "youtube-vr", "projection", "pass")
    fisheye = film(films / "lens_FISHEYE.mp4", size="128x128", sound=None)
    assert "fisheye" in assert_verdict(fisheye, "youtube-vr", "projection", "fail")


def test_spherical_metadata_present_and_fitting_the_picture(films, plain, tagged):
    assert "Spherical Video V2" in assert_verdict(tagged, "youtube-vr", "spherical_metadata", "pass")
    assert "no spherical metadata" in assert_verdict(plain, "youtube-vr", "spherical_metadata", "fail")
    assert_verdict(plain, "quest3", "spherical_metadata", "warn")
    four_to_one = film(films / "four.mp4", size="512x128", sound=None)
    wrong = with_entry_boxes(four_to_one, films / "four_tb.mp4", st3d(1), sv3d(prhd(), equi()))
    assert "top-bottom" in assert_verdict(wrong, "desktop", "spherical_metadata", "fail")


def test_stereo_packing(films):
    square = film(films / "square.mp4", size="256x256", sound=None)
    top_bottom = with_entry_boxes(square, films / "square_tb.mp4", st3d(1), sv3d(prhd(), equi()))
    assert "top-bottom" in assert_verdict(top_bottom, "youtube-vr", "stereo", "pass")
    four_to_one = film(films / "four2.mp4", size="512x128", sound=None)
    side_by_side = with_entry_boxes(four_to_one, films / "four_lr.mp4", st3d(2), sv3d(prhd(), equi()))
    assert "side-by-side" in assert_verdict(side_by_side, "youtube-vr", "stereo", "fail")


def test_audio_codec_and_layout(films, plain):
    assert_verdict(plain, "vision-pro", "audio", "pass")
    opus = film(films / "opus.mkv", audio=("-c:a", "libopus"))
    assert "opus" in assert_verdict(opus, "vision-pro", "audio", "fail")


def test_spatial_audio_metadata(films):
    ambix = films / "ambix.mp4"
    make_sample.make_film(str(ambix), width=256, height=128, seconds=2, fps=10, sound="ambix1",
                          extra_options={"preset": "ultrafast"})
    assert "SA3D" in assert_verdict(ambix, "youtube-vr", "spatial_audio", "pass")
    assert_verdict(ambix, "youtube-vr", "audio", "pass")
    four = film(films / "four_channels.mp4", sound="aevalsrc=0.1*sin(2*PI*440*t)|0.1*sin(2*PI*550*t)|0|0:s=48000",
                audio=("-c:a", "aac", "-channel_layout", "quad"))
    Path(str(four) + ".json").write_text(json.dumps({"audio": "ambix1"}))
    assert "manifest" in assert_verdict(four, "youtube-vr", "spatial_audio", "fail")


def test_integrated_loudness_against_the_range(films, plain):
    assert_verdict(plain, "quest3", "loudness", "pass")
    quiet = film(films / "quiet.mp4", sound=sine(QUIET))
    assert "too quiet" in assert_verdict(quiet, "quest3", "loudness", "fail")


def test_true_peak_between_the_samples(films, plain):
    assert_verdict(plain, "quest3", "true_peak", "pass")
    # A sine at a quarter of the sample rate, 45° off: every sample is at 0.99, the wave between them at 1.4.
    overs = film(films / "overs.mov", sound=sine(1.4, 12000, "PI/4"), audio=("-c:a", "pcm_s16le"))
    answer, _ = check(overs, "quest3")
    assert verdict(answer, "quest3", "true_peak")[0] == "fail"
    assert verdict(answer, "quest3", "clipping")[0] == "pass"  # no sample is at full scale


def test_clipping(films, plain):
    assert_verdict(plain, "quest3", "clipping", "pass")
    clipped = film(films / "clipped.mov", sound=sine(2.0, 440), audio=("-c:a", "pcm_s16le"))
    assert "clipped samples" in assert_verdict(clipped, "quest3", "clipping", "fail")


# ---------------------------------------------------------------------------------------------------------------
# The measurements against FFmpeg's own


@pytest.mark.parametrize("name, sound", [
    ("music", "anoisesrc=color=pink:amplitude=0.3:seed=7,volume=enable='lt(mod(t,1),0.5)':volume=0.2"),
    ("tone", sine(MID)),
])
def test_loudness_and_true_peak_agree_with_ffmpeg(films, name, sound):
    path = film(films / f"{name}.mp4", seconds=4, sound=sound)
    answer, _ = check(path, "desktop")
    loudness = answer["facts"]["audio"]["loudness"]
    integrated, peak = ffmpeg_r128(path)
    assert loudness["integrated_lufs"] == pytest.approx(integrated, abs=0.3)
    assert loudness["true_peak_dbtp"] == pytest.approx(peak, abs=0.3)


def test_a_sound_field_is_measured_as_its_filter_says(films):
    ambix = films / "ambix_measured.mp4"
    make_sample.make_film(str(ambix), width=256, height=128, seconds=3, fps=10, sound="ambix1",
                          extra_options={"preset": "ultrafast"})
    answer, _ = check(ambix, "desktop")
    loudness = answer["facts"]["audio"]["loudness"]
    assert loudness["filter"].startswith("pan=stereo|c0=1*c0|c1=1*c0,")
    integrated, peak = ffmpeg_r128(ambix, loudness["filter"])
    assert loudness["integrated_lufs"] == pytest.approx(integrated, abs=0.3)
    assert loudness["true_peak_dbtp"] == pytest.approx(peak, abs=0.3)


# ---------------------------------------------------------------------------------------------------------------
# The command


def test_every_target_is_judged_by_default_and_the_exit_status_follows_the_worst(plain, tagged):
    answer, status = check(plain)
    assert [t["id"] for t in answer["targets"]] == list(TARGETS)
    assert all(c["verdict"] in ("pass", "warn", "fail") for t in answer["targets"] for c in t["checks"])
    assert status == 1 and answer["verdict"] == "fail"  # YouTube needs the metadata
    answer, status = check(tagged, "quest3", "quest2")
    assert answer["verdict"] != "fail" and status == 0
    for target in answer["targets"]:
        assert all(c["source"] for c in target["checks"]), target["id"]


def test_the_table(plain):
    result = run_cli("check", plain, "--target", "quest3", "desktop")
    assert result.returncode in (0, 1), result.stderr
    assert "Meta Quest 3 (quest3):" in result.stdout and "Desktop PC (vrplayer) (desktop):" in result.stdout
    assert re.search(r"^\s+(pass|WARN|FAIL)\s+key frames\s+\S", result.stdout, re.M)
    assert result.stdout.rstrip().splitlines()[-1].startswith("overall:")


def test_unknown_targets_are_one_line_and_exit_2(plain):
    result = run_cli("check", plain, "--target", "quest9", "Desktop")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'quest9'" in lines[0] and all(t in lines[0] for t in TARGETS)


@pytest.mark.parametrize("content", [None, b"not a film at all" * 100])
def test_a_missing_or_corrupt_file_is_one_line(films, content):
    path = films / ("missing.mp4" if content is None else "garbage.mp4")
    if content is not None:
        path.write_bytes(content)
    result = run_cli("check", path, "--json")
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrplayer: ") and "Traceback" not in result.stderr


def test_a_progress_bar_on_a_terminal(plain):
    """On a terminal the reading shows as one line redrawn in place on stderr (stdout stays the JSON)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "vrplayer", "check", str(plain), "--target", "desktop", "--json"],
                            stdout=subprocess.PIPE, stderr=follower, cwd=ROOT)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    text = seen.decode()
    assert "\r" in text and "100 %" in text and "checking plain.mp4" in text
    assert text.count("\n") == 1  # one line, redrawn
    assert json.loads(out)["targets"][0]["id"] == "desktop"
