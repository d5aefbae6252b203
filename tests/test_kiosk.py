"""The festival kiosk run for real, headless (offscreen display; no sound, or a PulseAudio null sink): a programme
with good films and broken ones, read back from the session log and the staff HTTP API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, start_pulse, stop_pulse
from vrplayer.kiosk.sessionlog import read_events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def films(make_film, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("kiosk-films")
    a = make_film("kiosk_a.mp4", width=480, height=240, seconds=1.0)
    b = make_film("kiosk_b.mp4", width=480, height=240, seconds=1.0, audio=False)
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(a.read_bytes()[:3000])  # a film cut off in its first packets
    notes = folder / "notes.txt"
    notes.write_text("not a film\n")
    return {"a": a, "b": b, "corrupt": corrupt, "notes": notes, "missing": folder / "missing.mp4"}


def programme(path: Path, files: list[Path], **options) -> Path:
    lines = [f"{key} = {json.dumps(value)}" for key, value in {"start_trigger": "auto", **options}.items()]
    for file in files:
        lines += ["[[items]]", f"file = {json.dumps(str(file))}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def start_kiosk(prog: Path, log_dir: Path, *extra, env=None, supervisor=False) -> subprocess.Popen:
    command = [sys.executable, "-m", "vrplayer", "kiosk", str(prog), "--display", "offscreen", "--size", "320x180",
               "--log-dir", str(log_dir), *map(str, extra)]
    if not supervisor:
        command.append("--no-supervisor")
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})}, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout=30.0, what="the kiosk"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def events(log_dir: Path, name: str | None = None) -> list[dict]:
    found = read_events(log_dir) if log_dir.exists() else []
    return [e for e in found if name is None or e["event"] == name]


def started_films(log_dir: Path) -> list[str]:
    return [Path(e["file"]).name for e in events(log_dir, "film_started")]


def http(port: int, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def finish(proc: subprocess.Popen) -> str:
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def test_plays_the_good_films_in_order_skips_the_bad_ones_and_loops(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films[k] for k in ("a", "missing", "corrupt", "notes", "b")])
    port = free_port()
    proc = start_kiosk(prog, tmp_path / "log", "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "30")
    try:
        status = wait_for(lambda: (s := _status(port)) and s.get("state") == "playing" and s, what="the status page")
        assert status["item"]["number"] in (1, 5) and status["sound"] == "none" and status["headset"] is None
        wait_for(lambda: started_films(tmp_path / "log")[:4] == ["kiosk_a.mp4", "kiosk_b.mp4", "kiosk_a.mp4", "kiosk_b.mp4"],
                 what="two passes through the programme")
        status = http(port, "/api/status")
        assert any("missing.mp4" in error for error in status["last_errors"])
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    log = tmp_path / "log"
    skipped = [(e["item"], Path(e["file"]).name) for e in events(log, "film_skipped")]
    assert skipped[:3] == [(2, "missing.mp4"), (3, "corrupt.mp4"), (4, "notes.txt")]  # each named, in order
    assert skipped[3:6] == skipped[:3]  # and tried again on the next pass
    ended = events(log, "film_ended")
    assert ended[0]["reason"] == "end" and ended[0]["frames_shown"] > 5
    traces = events(log, "head_trace")
    assert traces and traces[0]["rate_hz"] == 10 and len(traces[0]["yaw"]) >= 5  # ~1 s of film at 10 Hz


def _status(port: int) -> dict | None:
    try:
        return http(port, "/api/status")
    except OSError:
        return None


def test_reloads_an_edited_programme_and_keeps_the_last_good_one_after_a_broken_edit(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["a"]])
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--duration", "40")
    try:
        wait_for(lambda: len(started_films(log)) >= 2, what="film a twice")
        prog.write_text("start_trigger = \"auto\"\n[[items]]\nfile = 12\n")  # broken: a number, not a path
        wait_for(lambda: events(log, "programme_reload_failed"), what="the broken edit to be reported")
        count = len(started_films(log))
        wait_for(lambda: len(started_films(log)) >= count + 1, what="one more film")
        assert set(started_films(log)) == {"kiosk_a.mp4"}  # still the last good programme
        programme(prog, [films["b"]])
        wait_for(lambda: started_films(log)[-1:] == ["kiosk_b.mp4"], what="the edited programme's film")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    assert len(events(log, "programme_reload_failed")) == 1  # reported once per broken version, not per film
    assert "item 1" in events(log, "programme_reload_failed")[0]["error"]
    assert events(log, "programme_reloaded")


def test_staff_commands_move_through_the_programme(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["a"], films["b"], films["a"]])
    port = free_port()
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "40")
    try:
        wait_for(lambda: (s := _status(port)) and s.get("state") == "playing", what="the first film")
        http(port, "/api/command", {"command": "play", "item": 3})
        wait_for(lambda: (s := _status(port)) and (s.get("item") or {}).get("number") == 3, what="item 3")
        http(port, "/api/command", {"command": "pause"})
        wait_for(lambda: (s := _status(port)) and s.get("state") == "paused", what="paused")
        http(port, "/api/command", {"command": "resume"})
        wait_for(lambda: (s := _status(port)) and s.get("state") == "playing", what="playing again")
        http(port, "/api/command", {"command": "next"})
        wait_for(lambda: (s := _status(port)) and (s.get("item") or {}).get("number") == 1, what="next: item 1 (loop)")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    commands = [e["command"] for e in events(log, "command")]
    assert commands == ["play", "pause", "resume", "next"]


def test_nothing_playable_says_so_and_keeps_retrying(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["missing"], films["notes"]])
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--duration", "30")
    try:
        wait_for(lambda: len(events(log, "no_playable_item")) >= 1, what="the nothing-to-play screen")
        films["missing"].write_bytes(films["b"].read_bytes())  # the USB stick arrives
        wait_for(lambda: "missing.mp4" in started_films(log), timeout=30, what="the film that came back")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
        films["missing"].unlink(missing_ok=True)


def test_a_bad_programme_is_one_line_and_no_restart(tmp_path):
    prog = tmp_path / "prog.json"
    prog.write_text('{"items": [{"file": "a.mp4", "volume": "loud"}]}')
    proc = start_kiosk(prog, tmp_path / "log", "--no-audio", supervisor=True)
    err = finish(proc)
    assert proc.returncode == 3
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and "volume" in lines[0] and "item 1" in lines[0], err


def test_the_supervisor_restarts_a_crashed_kiosk_which_resumes_the_programme(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["a"], films["b"]])
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--duration", "60", supervisor=True)
    try:
        wait_for(lambda: started_films(log), what="the first film")
        worker = events(log, "kiosk_started")[0]["pid"]
        before = started_films(log)[-1]
        os.kill(worker, signal.SIGKILL)  # a crash
        wait_for(lambda: len(events(log, "kiosk_started")) == 2, timeout=30, what="the restart")
        wait_for(lambda: len(started_films(log)) >= 2 and events(log, "resumed"), what="the next film after the restart")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    restarting = events(log, "kiosk_restarting")
    assert restarting and restarting[0]["exit"] == "signal 9"
    assert events(log, "resumed")[0]["after_item"] == (1 if before == "kiosk_a.mp4" else 2)
    assert proc.returncode == 0


def test_losing_the_audio_device_goes_on_silently_and_takes_it_back(films, tmp_path):
    server = start_pulse()
    prog = programme(tmp_path / "prog.toml", [films["a"]])
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--duration", "60", env=server.env)
    try:
        wait_for(lambda: (s := started_films(log)) and len(s) >= 1, what="the first film")
        stop_pulse(server)  # the sound server goes away mid-film
        count = len(started_films(log))
        wait_for(lambda: len(started_films(log)) >= count + 2, timeout=30, what="films after the audio device went")
        server = start_pulse(server.runtime)  # and comes back where it was
        wait_for(lambda: events(log, "audio_back"), timeout=40, what="the kiosk to take the sound back")
    finally:
        proc.send_signal(signal.SIGTERM)
        err = finish(proc)
        stop_pulse(server)
    assert "audio device went away" in err, err


def test_a_desktop_kiosk_waits_for_a_key_and_greets_each_viewer_with_a_film(xvfb, films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["b"]], start_trigger="key")
    log = tmp_path / "log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrplayer", "kiosk", str(prog), "--display", "desktop", "--size", "480x270",
         "--no-audio", "--no-supervisor", "--log-dir", str(log), "--duration", "40"],
        cwd=ROOT, env={**os.environ, "DISPLAY": xvfb}, stderr=subprocess.PIPE, text=True,
    )
    try:
        found = wait_for(lambda: subprocess.run(["xdotool", "search", "--name", "vrplayer kiosk"], capture_output=True,
                                                text=True, env={"DISPLAY": xvfb}).stdout.split(), what="the kiosk window")
        window = found[0]
        time.sleep(1.5)
        assert started_films(log) == []  # nobody pressed anything: the start screen waits
        subprocess.run(["xdotool", "key", "--window", window, "space"], env={"DISPLAY": xvfb}, check=True)
        wait_for(lambda: started_films(log) == ["kiosk_b.mp4"], what="the film for the first viewer")
        subprocess.run(["xdotool", "key", "--window", window, "q", "Escape"], env={"DISPLAY": xvfb}, check=True)
        wait_for(lambda: events(log, "viewer_off"), what="the film to end and the kiosk to wait again")
        assert events(log, "film_ended")[0]["reason"] == "end"  # Q and Esc do nothing in front of an audience
        time.sleep(1.0)
        assert len(started_films(log)) == 1  # it waits for the next viewer rather than playing on
        subprocess.run(["xdotool", "key", "--window", window, "Return"], env={"DISPLAY": xvfb}, check=True)
        wait_for(lambda: len(started_films(log)) == 2, what="the film for the second viewer")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    assert [e["how"] for e in events(log, "viewer_on")] == ["key", "key"]
    assert events(log, "viewer_off")[0]["why"] == "film over"
