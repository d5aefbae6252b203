"""A private Mosquitto broker for tests and benchmarks, on a free port of its own, started and stopped by PID; and
a listener that records what the room's topics carry (its cues, the seats' statuses), as a seat would hear them."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from conftest import _stop  # SIGTERM, wait, SIGKILL: by PID, only the process we started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    """`mosquitto -c FILE` with one listener; `users` {name: password} makes it refuse anonymous clients."""

    def __init__(self, folder: Path, port: int | None = None, address: str = "127.0.0.1", users: dict | None = None,
                 tls: tuple[str, str, str] | None = None):
        if shutil.which("mosquitto") is None:
            raise RuntimeError("mosquitto is not installed: run scripts/setup.sh --test")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.address = address
        self.proc: subprocess.Popen | None = None
        # (Started as root, mosquitto would become the user "mosquitto", who cannot read the test's private folders.)
        lines = [f"listener {self.port} {address}", f"allow_anonymous {'false' if users else 'true'}",
                 f"user {pwd.getpwuid(os.geteuid()).pw_name}", "set_tcp_nodelay true"]
        if users:
            passwords = self.folder / "passwords"
            passwords.write_text("")
            for name, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), name, password], check=True, capture_output=True)
            lines.append(f"password_file {passwords}")
        if tls:
            ca, cert, key = tls
            lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        self.config = self.folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def url(self, room: str, scheme: str = "mqtt", host: str | None = None) -> str:
        return f"{scheme}://{host or self.address}:{self.port}/{room}"

    def start(self) -> Broker:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.folder / "mosquitto.log", "ab"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.address, self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {(self.folder / 'mosquitto.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
        self.proc = None


class RoomListener:
    """Subscribes to a room's topics and keeps what came: the cues of its state in order, each seat's last status.
    Also publishes, for tests that send the room what a hostile or broken client would."""

    def __init__(self, broker: Broker, room: str, username: str | None = None, password: str | None = None):
        import paho.mqtt.client as mqtt

        self.room = room
        self.cues: list[dict] = []
        self.statuses: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"listener-{os.getpid()}-{id(self)}")
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p=None: (c.subscribe(f"vrplayer/{room}/#"), self._ready.set())
        self.client.on_message = self._message
        self.client.connect(broker.address, broker.port)
        self.client.loop_start()
        if not self._ready.wait(5):
            raise RuntimeError("the room's listener could not connect")

    def _message(self, client, userdata, message) -> None:
        topic = message.topic.split("/", 2)[2]
        try:
            data = json.loads(message.payload)
        except (ValueError, RecursionError):  # (the tests send the room such messages)
            return
        with self._lock:
            if topic == "state" and isinstance(data, dict) and isinstance(data.get("cue"), dict):
                if not self.cues or self.cues[-1] != data["cue"]:
                    self.cues.append(data["cue"])
            elif topic.startswith("seats/") and topic.count("/") == 1 and isinstance(data, dict):
                self.statuses[topic.split("/")[1]] = data

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(f"vrplayer/{self.room}/{topic}", payload, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(self, what, timeout: float = 20.0, message: str = "") -> object:
        """Poll what() (under the lock) until it returns something true; AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = what(self)
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"waited {timeout:.0f} s for {message or what}; cues {self.cues[-3:]}, statuses {self.statuses}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
