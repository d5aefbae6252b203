"""The festival kiosk run for real, headless (offscreen display; no sound, or a PulseAudio null sink): a programme
with good films and broken ones, read back from the session log and the staff HTTP API."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from conftest import ROOT, start_pulse, stop_pulse
from vrplayer.analytics.trace import read_trace
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
    # Each viewing's head trace is a file of its own under heads/, which the log names (not a copy of it).
    traces = events(log, "head_trace")
    assert traces and traces[0]["item"] in (1, 5) and traces[0]["samples"] >= 10, traces[:1]
    recorded = read_trace(log / traces[0]["file"])
    assert recorded.header["source"] == "kiosk" and len(recorded.samples) == traces[0]["samples"]
    assert all("yaw" not in trace for trace in traces)


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


def post(port: int, body: dict, token: str | None = None) -> tuple[int, dict]:
    """(status, answer) of a staff command, errors included."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/command", data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _showing(port: int, number: int, state: str) -> bool:
    status = _status(port)
    return bool(status) and (status.get("item") or {}).get("number") == number and status.get("state") == state


def test_staff_commands_sent_together_are_each_applied_in_order(make_film, tmp_path):
    long_film = make_film("kiosk_long.mp4", width=320, height=160, seconds=30.0, audio=False)
    prog = programme(tmp_path / "prog.toml", [long_film] * 5)
    port = free_port()
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "60")
    try:
        wait_for(lambda: _showing(port, 1, "playing"), what="item 1")
        for command in ("next", "next", "pause"):  # milliseconds apart: one turn of the player's loop takes them all
            assert post(port, {"command": command})[0] == 202
        wait_for(lambda: _showing(port, 3, "paused"), what="item 3, paused")
        assert post(port, {"command": "next"})[0] == 202
        assert post(port, {"command": "play", "item": 5})[0] == 202
        wait_for(lambda: _showing(port, 5, "playing"), what="item 5")
        assert post(port, {"command": "play", "item": 1000000000}) == (
            400, {"error": "no item 1000000000: the programme has 5 items (1 to 5)"})
        programme(prog, [long_film] * 6)
        assert post(port, {"command": "reload"})[0] == 202
        wait_for(lambda: events(log, "programme_reloaded"), what="the reload")
        assert post(port, {"command": "play", "item": 6})[0] == 202
        wait_for(lambda: _showing(port, 6, "playing"), what="item 6")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    logged = [(e["command"], e.get("item")) for e in events(log, "command")]
    assert logged == [("next", None), ("next", None), ("pause", None), ("next", None), ("play", 5), ("reload", None),
                      ("play", 6)]  # what was carried out, and nothing that was not


def m3u(path: Path, files: list[Path]) -> Path:
    path.write_text("".join(f"{file}\n" for file in files))
    return path


def test_an_m3u_kiosk_starts_by_itself_with_start_trigger_auto(films, tmp_path):
    prog = m3u(tmp_path / "prog.m3u", [films["a"], films["b"]])
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--start-trigger", "auto", "--duration", "30")
    try:
        wait_for(lambda: started_films(log)[:3] == ["kiosk_a.mp4", "kiosk_b.mp4", "kiosk_a.mp4"], what="films without a key")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    assert events(log, "viewer_on") == []


def test_on_the_attract_screen_next_and_play_start_a_film_and_film_commands_are_dropped_saying_why(films, tmp_path):
    prog = m3u(tmp_path / "prog.m3u", [films["b"], films["a"]])  # M3U: start_trigger "key", nobody presses one
    port = free_port()
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "40")
    try:
        wait_for(lambda: (s := _status(port)) and s.get("state") == "attract", what="the attract screen")
        assert post(port, {"command": "pause"})[0] == 202
        wait_for(lambda: events(log, "command_dropped"), what="the pause to be dropped")
        assert post(port, {"command": "next"})[0] == 202
        wait_for(lambda: [e["item"] for e in events(log, "film_started")] == [1], what="item 1 for the staff's viewer")
        wait_for(lambda: events(log, "viewer_off"), what="the film to end and the kiosk to wait again")
        wait_for(lambda: (s := _status(port)) and s.get("state") == "attract", what="the attract screen again")
        assert post(port, {"command": "play", "item": 2})[0] == 202
        wait_for(lambda: [e["item"] for e in events(log, "film_started")] == [1, 2], what="item 2")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    dropped = events(log, "command_dropped")
    assert [(e["command"], e["why"]) for e in dropped] == [("pause", "no film is playing (attract)")]
    assert [e["how"] for e in events(log, "viewer_on")] == ["staff", "staff"]
    assert [e["command"] for e in events(log, "command")] == ["next", "play"]


def _command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_the_token_reaches_the_worker_off_its_command_line(films, tmp_path):
    token = "file-token-0123456789"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    prog = programme(tmp_path / "prog.toml", [films["a"]])
    for how, extra in (("file", ["--token-file", token_file]), ("option", ["--token", token])):
        port = free_port()
        log = tmp_path / f"log-{how}"
        proc = start_kiosk(prog, log, "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "30", *extra,
                           supervisor=True)
        try:
            worker = wait_for(lambda: events(log, "kiosk_started"), what="the worker")[0]["pid"]
            assert worker != proc.pid and token not in _command_line(worker), how
            assert token not in _command_line(proc.pid), how  # (--token: the kiosk took it off its own line at once)
            wait_for(lambda: post(port, {"command": "pause"}, token)[0] == 202, what="the staff API with the token")
            assert post(port, {"command": "pause"})[0] == 401
            assert post(port, {"command": "pause"}, "wrong-token-0123456789")[0] == 401
        finally:
            proc.send_signal(signal.SIGTERM)
            finish(proc)


@pytest.mark.parametrize("content, message", [(None, "cannot read the token file"), ("", "is empty"),
                                              ("two words\n", "one line")])
def test_a_bad_token_file_is_one_line_and_no_restart(films, tmp_path, content, message):
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    prog = programme(tmp_path / "prog.toml", [films["a"]])
    proc = start_kiosk(prog, tmp_path / "log", "--no-audio", "--control", "127.0.0.1:0", "--token-file", token_file,
                       supervisor=True)
    err = finish(proc)
    lines = [line for line in err.strip().splitlines() if line]
    assert proc.returncode == 3 and len(lines) == 1 and message in lines[0] and str(token_file) in lines[0], err


def test_the_players_remote_door_loses_no_command_handed_over_after_one_that_ends_the_film(films):
    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.player import Film, Player, PlayOptions

    display = OffscreenDisplay((128, 64))
    player = Player(display, PlayOptions(), audio=False)
    heard = []
    player.events.listen(heard.append)
    batches = iter([[("next", {}), ("pause", {})]] + [[]] * 5 + [[("play", {"item": 2}), ("next", {})]])
    player.remote = lambda: next(batches, [])
    try:
        first = player.play_film(Film(str(films["a"])))  # "next" ends it; the "pause" is for the next film
        second = player.play_film(Film(str(films["b"])))  # paused at once, then "play" ends it
        screen = player.show_text("A TITLE CARD", 30)  # the "next" after the "play" ends it
    finally:
        player.close()
        display.close()
    assert (first, second, screen) == (("remote", "next", {}), ("remote", "play", {"item": 2}), ("remote", "next", {}))
    assert [e.film for e in heard if e.name == "paused"] == [str(films["b"])]


# --- freezes, orphans and long days ----------------------------------------------------------------------------


def _long_film(make_film) -> Path:
    return make_film("kiosk_long.mp4", width=320, height=160, seconds=30.0, audio=False)


def _alive(pid: int) -> bool:
    """The process runs (a zombie waiting for a parent that is not ours to reap it counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _when(event: dict) -> float:
    return datetime.fromisoformat(event["t"].replace("Z", "+00:00")).timestamp()


def test_a_frozen_kiosk_is_killed_and_started_again_after_the_item_it_was_on(make_film, films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [_long_film(make_film), films["b"]])
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--watchdog", "3", "--duration", "120", supervisor=True)
    worker = None
    try:
        wait_for(lambda: started_films(log), what="the first film")
        worker = events(log, "kiosk_started")[0]["pid"]
        frozen_at = time.time()
        os.kill(worker, signal.SIGSTOP)  # frozen for real: its loop stops turning, as in a read from a hung share
        wait_for(lambda: events(log, "kiosk_hung"), timeout=60, what="the supervisor to see the freeze")
        wait_for(lambda: len(started_films(log)) >= 2, timeout=60, what="the film after the one that hung")
    finally:
        if worker is not None and _alive(worker):
            _kill(worker)
        proc.send_signal(signal.SIGTERM)
        err = finish(proc)
    hung = events(log, "kiosk_hung")[0]
    assert hung["item"] == 1 and hung["silent_s"] >= 3 and hung["pid"] == worker
    assert not _alive(worker)
    assert events(log, "kiosk_restarting")[0]["exit"].startswith("hung")
    assert events(log, "resumed")[0]["after_item"] == 1
    after = events(log, "film_started")[1]
    assert after["item"] == 2  # the programme goes on after the item that hung, not on it again
    print(f"\nrecovery from a frozen kiosk, freeze to the next film on screen: {_when(after) - frozen_at:.1f} s "
          "(watchdog 3 s, restart pause 1 s)")
    assert proc.returncode == 0, err


def test_killing_the_supervisor_ends_its_worker_and_frees_the_folder_and_the_port(make_film, tmp_path):
    prog = programme(tmp_path / "prog.toml", [_long_film(make_film)])
    log = tmp_path / "log"
    port = free_port()
    proc = start_kiosk(prog, log, "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "120", supervisor=True)
    worker = None
    try:
        wait_for(lambda: started_films(log), what="the film")
        worker = events(log, "kiosk_started")[0]["pid"]
        proc.kill()  # SIGKILL: the supervisor has no say in it
        proc.wait()
        wait_for(lambda: not _alive(worker), timeout=30, what="the orphaned worker to end")
    finally:
        if worker is not None and _alive(worker):
            _kill(worker)
        finish(proc)
    # The story is closed, and says why: not "SIGTERM" (the parent-death signal may come while the supervisor's
    # other threads still run, and again for each of them), but what happened.
    assert events(log, "film_ended")[-1]["reason"] == "supervisor gone"
    assert events(log, "kiosk_stopped")[-1]["why"] == events(log, "film_ended")[-1]["reason"]
    again = start_kiosk(prog, log, "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "60", supervisor=True)
    try:
        wait_for(lambda: len(started_films(log)) >= 2, what="a new kiosk's film, on the same folder and port")
        assert _status(port)["state"] == "playing"
    finally:
        again.send_signal(signal.SIGTERM)
        err = finish(again)
    assert again.returncode == 0, err


@pytest.mark.parametrize("supervised", [True, False], ids=["supervised", "no-supervisor"])
def test_a_second_kiosk_on_the_same_log_folder_says_who_runs_there(films, tmp_path, supervised):
    prog = programme(tmp_path / "prog.toml", [films["a"], films["b"]])
    log = tmp_path / "log"
    first = start_kiosk(prog, log, "--no-audio", "--duration", "60", supervisor=True)
    try:
        wait_for(lambda: started_films(log), what="the first kiosk's film")
        second = start_kiosk(prog, log, "--no-audio", "--duration", "15", supervisor=supervised)
        err = finish(second)
    finally:
        first.send_signal(signal.SIGTERM)
        finish(first)
    lines = err.strip().splitlines()
    assert second.returncode == 3 and len(lines) == 1, err
    assert re.fullmatch(rf"vrplayer: another kiosk \(pid {first.pid}, since 20\d\d-\d\d-\d\dT[\d:.]+Z\) already uses "
                        rf"{re.escape(str(log))}; stop it first", lines[0]), lines[0]
    assert len(events(log, "kiosk_started")) == 1  # the second one never played
    assert events(log, "kiosk_failed")[0]["error"] == lines[0].removeprefix("vrplayer: ")


def test_a_fatal_start_error_is_written_to_the_session_log(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["a"]])
    log = tmp_path / "log"
    with socket.socket() as taken:  # the control port is in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = start_kiosk(prog, log, "--no-audio", "--control", f"127.0.0.1:{taken.getsockname()[1]}", "--duration", "15",
                           supervisor=True)
        err = finish(proc)
    lines = err.strip().splitlines()
    assert proc.returncode == 3 and len(lines) == 1 and "cannot listen" in lines[0], err
    assert [e["event"] for e in events(log)] == ["kiosk_failed"]
    assert events(log, "kiosk_failed")[0]["error"] == lines[0].removeprefix("vrplayer: ")


def test_a_log_folder_that_cannot_be_made_is_one_line_and_exit_3(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["a"]])
    blocker = tmp_path / "log"
    blocker.write_text("a file where the log folder should be\n")
    for supervised in (True, False):
        proc = start_kiosk(prog, blocker / "kiosk", "--no-audio", "--duration", "15", supervisor=supervised)
        err = finish(proc)
        lines = err.strip().splitlines()
        assert proc.returncode == 3 and len(lines) == 1, err
        assert lines[0].startswith(f"vrplayer: cannot use the log folder {blocker / 'kiosk'} (") and "--log-dir" in lines[0]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGTERM to the supervisor", "duration", "SIGTERM in a title card"])
def test_every_way_of_stopping_ends_the_film_and_the_kiosk_in_the_log(make_film, tmp_path, how):
    prog = programme(tmp_path / "prog.toml", [_long_film(make_film)])
    if how.endswith("title card"):
        prog.write_text(prog.read_text() + 'title_card = { text = "A long card", seconds = 600 }\n')
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--duration", "8" if how == "duration" else "120",
                       supervisor=how.endswith("supervisor"))
    try:
        wait_for(lambda: events(log, "title_card" if how.endswith("title card") else "film_started"), what="the film")
        if how != "duration":
            proc.send_signal(getattr(signal, how.split()[0]))
    finally:
        err = finish(proc)
    assert proc.returncode == 0, err
    story = [(e["event"], e.get("reason", e.get("why"))) for e in events(log) if e["event"] in ("film_ended", "kiosk_stopped")]
    name = how.split()[0]
    if how == "duration":
        assert story == [("film_ended", "stopped"), ("kiosk_stopped", "duration")]
    elif how.endswith("title card"):
        assert story == [("kiosk_stopped", name)]  # no film was playing
    else:
        assert story == [("film_ended", name), ("kiosk_stopped", name)]
    assert events(log)[-1]["event"] == "kiosk_stopped"


def test_a_film_that_played_but_not_whole_says_why_in_the_session_log(make_film, films, tmp_path):
    whole = make_film("kiosk_cut_whole.mp4", width=320, height=160, seconds=3.0, audio=False)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 4 // 10])  # its index first: it plays up to where the copy stopped
    prog = programme(tmp_path / "prog.toml", [cut, films["b"]], loop=False)
    log = tmp_path / "log"
    proc = start_kiosk(prog, log, "--no-audio", "--duration", "30")
    try:
        wait_for(lambda: len(events(log, "film_ended")) >= 2, what="both films")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    first, second = events(log, "film_ended")[:2]
    assert first["item"] == 1 and re.search(r"cut\.mp4: truncated at \d\.\d\d s of 3\.00 s", first["problem"]), first
    assert second["item"] == 2 and "problem" not in second


def test_the_status_says_when_it_was_last_updated(films, tmp_path):
    prog = programme(tmp_path / "prog.toml", [films["a"], films["b"]])
    port = free_port()
    proc = start_kiosk(prog, tmp_path / "log", "--no-audio", "--control", f"127.0.0.1:{port}", "--duration", "60")
    try:
        first = wait_for(lambda: (s := _status(port)) and "updated_at" in s and s, what="a status")
        later = wait_for(lambda: (s := _status(port)) and s["updated_at"] > first["updated_at"] and s, what="a newer one")
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)
    for status in (first, later):
        assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", status["updated_at"])
        assert isinstance(status["age_s"], float) and 0 <= status["age_s"] < 30  # how old it was when answered


def test_a_programme_of_100000_missing_films_keeps_the_show_the_commands_and_the_duration(films, tmp_path):
    gone = tmp_path / "usb-stick-not-plugged-in"
    prog = tmp_path / "prog.json"
    items = [str(films["b"])] + [str(gone / f"film{n:06d}.mp4") for n in range(100_000)] + [str(films["a"])]
    prog.write_text(json.dumps({"start_trigger": "auto", "items": items}))
    log = tmp_path / "log"
    port = free_port()
    with open(tmp_path / "stderr.txt", "w") as stderr:  # a pipe nobody reads would fill and stop the kiosk
        proc = subprocess.Popen(
            [sys.executable, "-m", "vrplayer", "kiosk", str(prog), "--display", "offscreen", "--size", "320x180",
             "--no-audio", "--no-supervisor", "--log-dir", str(log), "--control", f"127.0.0.1:{port}", "--duration", "25"],
            cwd=ROOT, stderr=stderr)
        try:
            deadline = time.monotonic() + 60
            while not events(log, "film_ended"):  # item 1 ends, and 100 000 are to be skipped: ask for play 1 at once
                assert time.monotonic() < deadline, "timed out waiting for item 1 to end"
                time.sleep(0.02)
            assert http(port, "/api/command", {"command": "play", "item": 1})
            wait_for(lambda: len(started_films(log)) >= 2, timeout=30, what="the staff's play 1 during the skipping")
            assert [e["item"] for e in events(log, "film_started")][:2] == [1, 1]
            wait_for(lambda: 100_002 in [e["item"] for e in events(log, "film_started")], timeout=60,
                     what="the good film after 100 000 missing ones")
            proc.wait(timeout=120)  # --duration is kept
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0
    assert events(log, "kiosk_stopped")[-1]["why"] == "duration"
    loaded = events(log, "programme_loaded")[0]
    assert loaded["items"] == 100_002 and loaded["warnings_total"] == 100_000 and len(loaded["warnings"]) <= 10
    assert max(len(line) for path in log.glob("session*.jsonl") for line in path.read_bytes().splitlines()) <= 64 * 1024
    assert any(e["count"] >= 99_000 for e in events(log, "films_skipped"))  # a whole pass's skips told in one line
    assert len(events(log, "film_skipped")) <= 20 * (len(events(log, "films_skipped")) + 1)
