"""A screening room for real: a private Mosquitto, `vrplayer conductor` and `vrplayer seat` processes (offscreen,
silent), commands through the conductor's JSON API. What is checked is what the seats showed: every presented
frame of every seat's timing log against the room's schedule (the cues its retained state carried), and the
statuses and lines they gave. The tolerance here is generous (a shared, loaded machine); bench/room_bench.py
measures the figures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from broker import Broker, RoomListener  # noqa: E402
from conftest import ROOT, VRPLAYER  # noqa: E402
from room_schedule import frame_errors, pictures  # noqa: E402

IN_STEP = 0.1  # seconds: a frame further than this from the room's schedule is out of step (3 frames at 30 fps)
ROOM = "hall"


@pytest.fixture(scope="module")
def library(make_film, tmp_path_factory):
    folder = tmp_path_factory.mktemp("library")
    for name, seconds in (("first.mp4", 6.0), ("second.mp4", 3.0), ("long.mp4", 30.0)):
        film = make_film(f"room-{name}", width=192, height=96, seconds=seconds, fps=30, audio=False)
        os.link(film, folder / name)
    # With the sample's sound: a 1 kHz beep on every whole second.
    os.link(make_film("room-beeps.mp4", width=192, height=96, seconds=8.0, fps=30), folder / "beeps.mp4")
    return folder


@pytest.fixture
def broker(tmp_path):
    server = Broker(tmp_path / "broker").start()
    yield server
    server.stop()


class Room:
    """The processes of one test's room, stopped at its end whatever happened."""

    def __init__(self, tmp_path: Path, broker: Broker, library: Path, name: str = ROOM):
        self.tmp, self.broker, self.library, self.name = tmp_path, broker, library, name
        self.procs: list[subprocess.Popen] = []
        self.seats: dict[str, tuple[subprocess.Popen, Path, Path]] = {}
        self.control = None

    def seat(self, name: str, *extra, env=None, url=None, timing: Path | None = None, sound: bool = False) -> subprocess.Popen:
        timing = timing or self.tmp / f"{name}.jsonl"
        log = self.tmp / f"{name}.log"
        proc = subprocess.Popen([*VRPLAYER, "seat", "--room", url or self.broker.url(self.name), "--name", name,
                                 "--library", str(self.library), "--display", "offscreen", "--size", "160x90",
                                 *([] if sound else ["--no-audio"]), "--timing-log", str(timing), *map(str, extra)],
                                cwd=ROOT, env=dict(os.environ, **(env or {})), stdout=subprocess.DEVNULL,
                                stderr=open(log, "a"))
        self.procs.append(proc)
        self.seats[name] = (proc, timing, log)
        return proc

    def conductor(self, *films, extra=()) -> subprocess.Popen:
        from broker import free_port

        self.control = free_port()
        proc = subprocess.Popen([*VRPLAYER, "conductor", "--room", self.broker.url(self.name), "--control",
                                 f"127.0.0.1:{self.control}", *map(str, extra), *[self.library / f for f in films]],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.tmp / "conductor.log", "a"))
        self.procs.append(proc)
        return proc

    def api(self, command: str, **args) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.control}/api/command", method="POST",
                                         data=json.dumps({"command": command, **args}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.load(answer)

    def status(self) -> dict:
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.control}/api/status", timeout=5) as answer:
                    return json.load(answer)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def wait_status(self, check, timeout: float = 20.0, what: str = ""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if check(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"waited {timeout:.0f} s for {what}: {self.status()}")

    def seats_in(self, state: str, *names):
        return lambda s: all(any(row["seat"] == n and row["state"] == state for row in s["seats"]) for n in names)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def room(tmp_path, broker, library):
    the_room = Room(tmp_path, broker, library)
    yield the_room
    the_room.close()


@pytest.fixture
def listener(broker):
    ears = RoomListener(broker, ROOM)
    yield ears
    ears.close()


def errors(listener, timing: Path) -> list:
    return frame_errors(listener.cues, pictures(timing))


def out_of_step(listener, timing: Path, after: float = 0.0) -> list:
    return [e for e in errors(listener, timing) if e[0] >= after and e[2] is not None and abs(e[2]) > IN_STEP]


def test_seats_start_pause_seek_and_change_films_together(room, listener):
    room.seat("s1")
    room.seat("s2")
    room.conductor("first.mp4", "second.mp4")
    room.wait_status(room.seats_in("playing", "s1", "s2"), what="both seats playing")
    time.sleep(1.0)
    paused = room.api("pause")
    assert paused["accepted"] == {"command": "pause"}
    room.wait_status(room.seats_in("paused", "s1", "s2"), what="both seats paused")
    time.sleep(0.5)
    room.api("play")
    room.wait_status(room.seats_in("playing", "s1", "s2"), what="both seats playing again")
    room.api("seek", position=0.5)
    listener.wait_for(lambda ears: ears.cues and ears.cues[-1]["position"] == 0.5, message="the seek's cue")
    room.wait_status(lambda s: s["state"] == "playing" and s["position"] > 1.6 and all(r.get("position", 0) > 1.5 for r in s["seats"]),
                     what="the seats past the seek")
    room.api("next")
    for proc in room.procs[2:]:  # the conductor leaves after the last film
        assert proc.wait(timeout=30) == 0
    time.sleep(0.5)
    cues = listener.cues
    films = [c["film"] for c in cues]
    assert films[0] == "first.mp4" and "second.mp4" in films and films[-1] == ""
    for c in cues:  # every command takes effect at an instant ahead of its issue, never on arrival
        assert c["instant"] - c["issued"] >= 0.99 or c["film"] == ""
    pause_cue = next(c for c in cues if not c["playing"] and c["film"])
    resume_cue = next(c for c in cues if c["number"] > pause_cue["number"] and c["playing"])
    seek_cue = next(c for c in cues if c["position"] == 0.5)
    second_cue = next(c for c in cues if c["film"] == "second.mp4")
    for name in ("s1", "s2"):
        _, timing, _ = room.seats[name]
        found = errors(listener, timing)
        assert found, f"{name} showed nothing"
        assert not out_of_step(listener, timing), f"{name}: frames out of step: {out_of_step(listener, timing)[:5]}"
        during_pause = [e for e in found if pause_cue["instant"] + 0.05 < e[0] < resume_cue["instant"] - 0.05]
        assert not during_pause, f"{name} showed frames while the room was paused"
        after_seek = [e for e in found if e[0] >= seek_cue["instant"] - 0.05]
        assert 0.45 <= after_seek[0][1] <= 0.55, f"{name}'s first frame after the seek is at {after_seek[0][1]} s"
        second = [e for e in found if e[3] == second_cue["number"]]
        assert second and second[0][1] < 0.05 and second[-1][1] > 2.9, f"{name} did not play the second film whole"
    first = {name: [e for e in errors(listener, room.seats[name][1]) if e[3] == second_cue["number"]][0][0] for name in ("s1", "s2")}
    assert abs(first["s1"] - first["s2"]) < IN_STEP  # the second film started at the same moment on both


def test_a_late_joiner_a_killed_seat_and_a_conductor_started_again(room, listener):
    room.seat("s1")
    room.conductor("long.mp4")
    room.wait_status(room.seats_in("playing", "s1"), what="s1 playing")
    time.sleep(1.5)
    joined = time.monotonic()
    late = room.seat("late")
    room.wait_status(room.seats_in("playing", "late"), what="the late joiner playing")
    found = errors(listener, room.seats["late"][1])
    assert found[0][1] > 1.0, "the late joiner started from the beginning instead of where the room was"
    assert found[0][0] - joined < 10.0
    # A killed seat shows as lost, and comes back in step.
    late.send_signal(signal.SIGKILL)
    late.wait()
    room.wait_status(room.seats_in("lost", "late"), timeout=15, what="the killed seat shown as lost")
    again = time.monotonic()
    room.seat("late")
    room.wait_status(lambda s: room.seats_in("playing", "late")(s) and next(r for r in s["seats"] if r["seat"] == "late")["last_seen_s"] < 1,
                     what="the seat back")
    # The conductor is killed: the seats play on by their own clocks; a new one takes the room back.
    conductor = room.procs[1]
    conductor.send_signal(signal.SIGKILL)
    conductor.wait()
    killed = time.monotonic()
    time.sleep(1.5)
    before = len(listener.cues)
    room.conductor("long.mp4")
    status = room.wait_status(lambda s: s["state"] in ("playing", "paused", "starting"), what="the new conductor up")
    assert "took the room back" in (room.tmp / "conductor.log").read_text()
    time.sleep(1.0)
    room.api("pause")
    room.wait_status(room.seats_in("paused", "s1", "late"), what="a command of the new conductor carried out")
    assert listener.cues[-1]["number"] > listener.cues[before - 1]["number"]  # its cues follow the room's last
    for name in ("s1", "late"):
        timing = room.seats[name][1]
        assert not out_of_step(listener, timing, after=again + 3.0), f"{name}: {out_of_step(listener, timing, again + 3.0)[:5]}"
        shown = [e[0] for e in errors(listener, timing)]
        during = [t for t in shown if killed < t < killed + 1.5]
        assert len(during) > 20, f"{name} stopped while the conductor was gone"
    assert status["item"]["number"] == 1


def test_a_broker_restart_loses_no_seat_and_bad_messages_are_ignored(room, listener, broker, tmp_path, library):
    room.seat("s1")
    room.conductor("first.mp4", "second.mp4")
    room.wait_status(room.seats_in("playing", "s1"), what="s1 playing")
    # Whatever a broken or hostile client sends on the room's topics is logged and ignored.
    number = listener.cues[-1]["number"]
    bad = [b"not json", b"[" * 5000, b"{" + b" " * 70000 + b"}",
           json.dumps({"v": 1, "cue": {**listener.cues[-1], "number": number + 1, "instant": 0.0}}).encode(),
           json.dumps({"v": 1, "cue": {**listener.cues[-1], "number": number + 1, "film": "../second.mp4"}}).encode(),
           json.dumps({"v": 1, "cue": {**listener.cues[-1], "number": number + 1,
                                       "instant": listener.cues[-1]["issued"] + 3600}}).encode()]
    for payload in bad:
        listener.publish("state", payload)
    listener.publish("command", json.dumps({"v": 1, "command": "format-disk", "instant": 1.0, "issued": 1.0}).encode())
    listener.publish("seats/s1/command", json.dumps({"v": 1, "command": "recenter", "instant": 5.0, "issued": 1.0}).encode())
    time.sleep(1.0)
    log = room.log("s1")
    assert log.count("ignored a message") >= 7, log
    for why in ("not JSON", "nested too deeply", "bytes", "in the past", "file name alone", "ahead", "unknown command", "ago"):
        assert why in log, f"no line saying {why!r}"
    assert "Traceback" not in log
    # The broker goes away and comes back: the seat plays on, and is in the room again.
    broker.stop()
    stopped = time.monotonic()
    time.sleep(2.0)
    broker.start()
    room.wait_status(lambda s: s["broker"] == "connected" and room.seats_in("playing", "s1")(s)
                     and s["seats"][0]["last_seen_s"] < 1.0, what="the seat back after the broker's restart")
    timing = room.seats["s1"][1]
    shown = [t for _, t in pictures(timing)]
    assert len([t for t in shown if stopped < t < stopped + 2.0]) > 40, "the seat stopped with the broker"
    assert not out_of_step(listener, timing)
    room.api("pause")
    room.wait_status(room.seats_in("paused", "s1"), what="a command after the restart")


def test_a_seat_refuses_a_film_outside_its_library(room, listener, tmp_path, library, make_film):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = elsewhere / "outside.mp4"
    os.link(library / "second.mp4", outside)
    room.seat("s1")
    conductor = subprocess.Popen([*VRPLAYER, "conductor", "--room", room.broker.url(ROOM), str(outside)], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    room.procs.append(conductor)
    listener.wait_for(lambda ears: any(s.get("problem") for s in ears.statuses.values()), message="the seat's problem")
    problem = listener.statuses["s1"]["problem"]
    assert "outside.mp4" in problem and "not in this seat's library" in problem
    assert not pictures(room.seats["s1"][1])
    assert "not in this seat's library" in room.log("s1")


def test_a_room_with_credentials_refuses_a_client_without_them(tmp_path, library):
    server = Broker(tmp_path / "locked", users={"usher": "correct horse battery"}).start()
    room = Room(tmp_path, server, library)
    try:
        started = time.monotonic()
        refused = room.seat("stranger")
        assert refused.wait(timeout=30) != 0
        assert time.monotonic() - started < 30
        lines = [line for line in room.log("stranger").splitlines() if line.strip()]
        assert len(lines) == 1 and "refused" in lines[0] and "VRPLAYER_MQTT_PASSWORD" in lines[0], lines
        room.seat("usher-seat", env={"VRPLAYER_MQTT_USERNAME": "usher", "VRPLAYER_MQTT_PASSWORD": "correct horse battery"})
        ears = RoomListener(server, ROOM, "usher", "correct horse battery")
        try:
            ears.wait_for(lambda e: "usher-seat" in e.statuses, message="the seat with credentials in the room")
        finally:
            ears.close()
    finally:
        room.close()
        server.stop()


def make_certificates(folder: Path) -> tuple[str, str, str]:
    """A private authority and a broker certificate for 127.0.0.1 it signed."""
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=room test authority",
        "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "broker.key", "-out", "broker.csr")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.cnf", "-out", "broker.pem")
    return str(folder / "ca.pem"), str(folder / "broker.pem"), str(folder / "broker.key")


def test_a_room_over_tls(tmp_path, library):
    certificates = tmp_path / "certificates"
    certificates.mkdir()
    ca, cert, key = make_certificates(certificates)
    server = Broker(tmp_path / "tls", tls=(ca, cert, key)).start()
    room = Room(tmp_path, server, library)
    try:
        untrusting = room.seat("untrusting", url=server.url(ROOM, "mqtts"))
        assert untrusting.wait(timeout=30) != 0  # the broker's certificate is signed by nobody it knows
        assert "cannot join the broker" in room.log("untrusting")
        room.seat("trusting", "--ca", ca, url=server.url(ROOM, "mqtts"))
        room.conductor_tls = subprocess.Popen([*VRPLAYER, "conductor", "--room", server.url(ROOM, "mqtts"), "--ca", ca,
                                               str(library / "second.mp4")], cwd=ROOT, stdout=subprocess.DEVNULL,
                                              stderr=open(tmp_path / "conductor.log", "a"))
        room.procs.append(room.conductor_tls)
        assert room.conductor_tls.wait(timeout=40) == 0
        frames = pictures(room.seats["trusting"][1])
        assert len(frames) > 60 and frames[-1][0] > 2.9  # it played the film, over TLS
    finally:
        room.close()
        server.stop()


def test_seat_and_conductor_errors_are_one_line(tmp_path, library):
    from conftest import run_cli

    for args, why in [(("seat", "--room", "http://x/y"), "not a room address"),
                      (("seat", "--room", "mqtt://127.0.0.1:1/r", "--library", str(tmp_path / "none")), "does not exist"),
                      (("seat", "--room", "mqtt://127.0.0.1:1/r", "--library", str(library), "--display", "offscreen"), "cannot join the broker"),
                      (("conductor", "--room", "mqtt://127.0.0.1:1/r", str(tmp_path / "missing.mp4")), "missing.mp4")]:
        result = run_cli(*args, timeout=60)
        assert result.returncode != 0, args
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert any(why in line for line in lines), result.stderr
        assert "Traceback" not in result.stderr


def test_the_operators_page_in_a_real_browser(room, listener):
    """Debian's chromium, headless, through its chromedriver: the page lists the seats, and its Pause button pauses
    the room."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    room.seat("s1")
    room.seat("s2")
    room.conductor("first.mp4", extra=("--loop",))
    room.wait_status(room.seats_in("playing", "s1", "s2"), what="both seats playing")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=480,900"):
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        browser.get(f"http://127.0.0.1:{room.control}/")
        rows = lambda driver: {row.get_attribute("data-seat"): row.text
                               for row in driver.find_elements(By.CSS_SELECTOR, "#seatrows tr")}
        WebDriverWait(browser, 30).until(lambda d: {"s1", "s2"} <= set(rows(d)) and "playing" in rows(d)["s1"])
        assert browser.find_element(By.ID, "state").text == "playing"
        assert browser.find_element(By.ID, "count").text == "2 seats"
        browser.save_screenshot(str(room.tmp / "operator-page.png"))
        # One seat paused from the page: the seat chooser, then the button.
        Select(browser.find_element(By.ID, "target")).select_by_value("s2")
        browser.find_element(By.CSS_SELECTOR, "button[data-command=pause]").click()
        WebDriverWait(browser, 30).until(lambda d: "sent: pause to s2" in d.find_element(By.ID, "msg").text)
        room.wait_status(lambda s: room.seats_in("paused", "s2")(s) and room.seats_in("playing", "s1")(s), what="s2 alone paused")
        # The whole room.
        Select(browser.find_element(By.ID, "target")).select_by_value("")
        browser.find_element(By.CSS_SELECTOR, "button[data-command=pause]").click()
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "state").text == "paused")
        room.wait_status(room.seats_in("paused", "s1", "s2"), what="the room paused from the page")
    finally:
        browser.quit()


def test_a_seats_sound_follows_the_room(broker, library, tmp_path, pulse):
    """A seat with sound on a real audio server (PulseAudio's null sink, recorded back from its monitor): each
    beep (on every whole second of the film) is heard when the room's schedule has it, across a pause and a seek,
    and whole: beeps a second apart within a cue, at the film's level, no gap or click."""
    from conftest import LATE_ATTEMPTS, sound_was_late
    from test_audio import RATE, MonitorRecorder, beep_onsets

    env = dict(os.environ, **pulse.env)
    for attempt in range(LATE_ATTEMPTS):  # (played again while the seat reports its sound late: see sound_was_late)
        folder = tmp_path / f"attempt-{attempt}"
        folder.mkdir()
        room = Room(folder, broker, library, name=f"sound-{attempt}")
        listener = RoomListener(broker, room.name)
        recorder = MonitorRecorder(env)
        try:
            time.sleep(0.4)
            room.seat("listening", env=pulse.env, sound=True)
            room.conductor("beeps.mp4", extra=("--start-delay", "3"))
            room.wait_status(lambda s: s["state"] == "playing" and (s["position"] or 0) > 3.3, timeout=30, what="the film at 3.3 s")
            room.api("pause")
            room.wait_status(room.seats_in("paused", "listening"), what="the seat paused")
            time.sleep(1.0)
            room.api("play")
            room.wait_status(lambda s: s["state"] == "playing" and (s["position"] or 0) > 5.4, timeout=30, what="the film at 5.4 s")
            room.api("seek", position=1.5)  # back: the sound must follow the picture there
            assert room.procs[1].wait(timeout=40) == 0
            time.sleep(0.5)
        finally:
            samples, sample0 = recorder.stop()
            room.close()
            listener.close()
        log = room.log("listening")
        if not sound_was_late(log):
            break
    assert "sound" in log and "WARNING" not in log, log
    heard = [sample0 + onset / RATE for onset in beep_onsets(samples[:, 0])]
    playing = [c for c in listener.cues if c["playing"] and c["film"]]
    assert len(playing) == 3  # the start, the resume after the pause, the seek
    late = []
    for cue in playing:
        ends = min([c["instant"] for c in listener.cues if c["number"] > cue["number"]] or [float("inf")])
        due = [cue["instant"] + k - cue["position"] for k in range(1, 8) if k > cue["position"] + 0.05]
        due = [t for t in due if t < ends - 0.2 and t < heard[-1] + 0.5]
        assert due, cue
        for t in due:
            nearest = min(heard, key=lambda h: abs(h - t))
            late.append(round(1000 * (nearest - t), 1))
    print(f"beep heard − due (ms): {late}; heard {[round(h - playing[0]['instant'], 3) for h in heard]}; cues {listener.cues}")
    assert all(abs(ms) < 40 for ms in late), late  # (the recording's own clock is known to within a few ms)
    onsets = beep_onsets(samples[:, 0])[1:]  # (the first ~10–50 ms of a new stream do not reach the monitor)
    # Beeps one after the other within one cue are a second of the film apart, heard at most 0.5 % fast or slow.
    cue_of = lambda onset: max((c["instant"] for c in listener.cues if c["instant"] <= sample0 + onset / RATE), default=0)
    within = [(b - a) / RATE for a, b in zip(onsets, onsets[1:]) if cue_of(a) == cue_of(b)]
    assert len(within) >= 6 and all(abs(gap - 1.0) < 0.008 for gap in within), [round(g, 4) for g in within]
    for onset in onsets[1:]:
        beep = samples[onset + 480 : onset + 4320, 0]
        assert 0.45 < np.abs(beep).max() < 0.55
        # A clean tone: what is not the sine is small (a click or a gap would be broadband). The sine is 1 kHz
        # within the ±0.5 % the sound may run fast or slow.
        t = np.arange(len(beep)) / RATE
        residuals = []
        for frequency in np.linspace(994.0, 1006.0, 25):
            basis = np.stack([np.sin(2 * np.pi * frequency * t), np.cos(2 * np.pi * frequency * t)], 1)
            fit = np.linalg.lstsq(basis, beep, rcond=None)[0]
            residuals.append(np.abs(beep - basis @ fit).max())
        assert min(residuals) < 0.05, min(residuals)


def test_a_kiosk_is_a_seat(room, listener, tmp_path, library):
    """`vrplayer kiosk PROGRAMME --room URL` (under its supervisor): the kiosk plays the room's films that are in
    its own programme, when the room says, logs them in its session log, refuses a film the programme lacks, and
    answers its staff's commands that the room steers it."""
    from broker import free_port
    from vrplayer.kiosk.sessionlog import read_events

    programme = tmp_path / "programme.m3u"
    programme.write_text(f"{library / 'first.mp4'}\n")
    log_dir = tmp_path / "kiosk-log"
    control = free_port()
    kiosk = subprocess.Popen([*VRPLAYER, "kiosk", str(programme), "--room", room.broker.url(ROOM), "--seat-name", "kiosk1",
                              "--display", "offscreen", "--size", "160x90", "--no-audio", "--log-dir", str(log_dir),
                              "--control", f"127.0.0.1:{control}"], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=open(tmp_path / "kiosk.log", "w"))
    room.procs.append(kiosk)
    listener.wait_for(lambda ears: "kiosk1" in ears.statuses, timeout=60, message="the kiosk in the room")
    room.conductor("first.mp4", "second.mp4")
    playing = listener.wait_for(lambda ears: ears.statuses["kiosk1"].get("state") == "playing" and ears.statuses["kiosk1"],
                                timeout=30, message="the kiosk playing the room's film")
    assert playing["film"] == "first.mp4"
    request = urllib.request.Request(f"http://127.0.0.1:{control}/api/next", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("the kiosk took a staff command while the room steers it")
    except urllib.error.HTTPError as refused:
        assert refused.code == 400 and "conductor" in json.load(refused)["error"]
    listener.wait_for(lambda ears: "not in this seat's programme" in ears.statuses["kiosk1"].get("problem", ""),
                      timeout=30, message="the film outside the programme refused")
    assert room.procs[-1].wait(timeout=30) == 0  # the conductor, after its two films
    status = listener.statuses["kiosk1"]
    kiosk.send_signal(signal.SIGTERM)
    assert kiosk.wait(timeout=20) == 0
    found = read_events(log_dir)
    names = [e["event"] for e in found]
    assert "room_joined" in names and names[-1] == "kiosk_stopped", names
    started = [e for e in found if e["event"] == "film_started"]
    ended = [e for e in found if e["event"] == "film_ended"]
    assert [e["item"] for e in started] == [1] and ended and ended[0]["reason"] == "end", found
    assert abs(status.get("error_ms", 0.0)) < IN_STEP * 1000


def test_a_seat_whose_copy_is_broken_waits_for_the_next_film(room, listener, tmp_path, library):
    """The conductor's copy plays, the seat's own copy is damaged: the seat says why in its status and its log,
    shows nothing of it, and plays the next film with the room."""
    own = tmp_path / "own-library"
    own.mkdir()
    (own / "first.mp4").write_bytes((library / "first.mp4").read_bytes()[:2000])  # cut short: no picture in it
    os.link(library / "second.mp4", own / "second.mp4")
    seat_room = Room(tmp_path, room.broker, own)
    room.procs.append(seat_room.seat("s1"))
    room.seats.update(seat_room.seats)
    room.conductor("first.mp4", "second.mp4")
    listener.wait_for(lambda ears: "cannot play" in ears.statuses.get("s1", {}).get("problem", "")
                      or "first.mp4" in ears.statuses.get("s1", {}).get("problem", ""), timeout=30,
                      message="the seat saying its copy cannot play")
    assert room.procs[-1].wait(timeout=30) == 0
    found = errors(listener, room.seats["s1"][1])
    second = next(c for c in listener.cues if c["film"] == "second.mp4")
    assert found and all(e[3] == second["number"] for e in found)  # only the second film, and in step
    assert not out_of_step(listener, room.seats["s1"][1])
    assert "Traceback" not in room.log("s1")


def test_the_conductors_token_comes_from_a_file_and_stays_out_of_ps(room, tmp_path):
    """Beyond loopback the operator's API wants a token. Read from --token-file, or given as --token (which the
    conductor moves at once from its command line to its environment), it never shows in the process's command
    line; a request without it is refused, one with it answered; an empty token file is one line."""
    from broker import free_port
    from conftest import run_cli

    token_file = tmp_path / "token"
    token_file.write_text("s3cret-for-the-room\n")
    token_file.chmod(0o600)
    for how in (["--token-file", str(token_file)], ["--token", "s3cret-for-the-room"]):
        port = free_port()
        proc = subprocess.Popen([*VRPLAYER, "conductor", "--room", room.broker.url(room.name), "--control",
                                 f"0.0.0.0:{port}", *how, "--loop", str(room.library / "first.mp4")],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "conductor.log", "a"))
        room.procs.append(proc)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5)
                raise AssertionError("the status was answered without the token")
            except urllib.error.HTTPError as refused:
                assert refused.code == 401
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "conductor.log").read_text()
                time.sleep(0.2)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status",
                                         headers={"Authorization": "Bearer s3cret-for-the-room"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert "seats" in json.load(answer)
        assert b"s3cret" not in Path(f"/proc/{proc.pid}/cmdline").read_bytes(), how
        proc.terminate()
        proc.wait(timeout=30)

    token_file.write_text("")
    result = run_cli("conductor", "--room", room.broker.url(room.name), "--control", "0.0.0.0:1",
                     "--token-file", str(token_file), str(room.library / "first.mp4"), timeout=60)
    assert result.returncode != 0
    assert [line for line in result.stderr.splitlines() if line.strip()] == \
        [f"vrplayer: the token file {str(token_file)!r} is empty; put the token in it"]
