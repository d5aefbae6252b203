"""The room's link to its MQTT broker (paho-mqtt; Mosquitto is the broker we document and test with).

`mqtt://[USER@]HOST[:PORT]/ROOM` (1883) or `mqtts://…` (TLS, 8883; `--ca FILE` for a private authority). The
password comes from VRPLAYER_MQTT_PASSWORD (the user name from the address or VRPLAYER_MQTT_USERNAME), so it never
shows in `ps`. Topics, all under `vrplayer/ROOM/` (see README, "A screening room"):

| topic                     | from      | what                                                        |
|---------------------------|-----------|-------------------------------------------------------------|
| state                     | conductor | the room's cue and programme (retained)                     |
| time/ask                  | seat      | a clock question (t1)                                       |
| time/answer/SEAT          | conductor | its answer (t1, t2, t3)                                     |
| seats/SEAT                | seat      | the seat's status (retained; its last will says "lost")      |
| command                   | conductor | a command to every seat, at an instant                      |
| seats/SEAT/command        | conductor | a command to one seat, at an instant                        |

paho runs its own network thread and reconnects by itself; what arrives is handed to `on_message(topic, payload,
retained)` on that thread (the caller keeps it quick), and a lost or refused connection is logged once per change.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Callable

from vrplayer import log
from vrplayer.errors import PlayerError
from vrplayer.room.messages import MessageError, check_name

_log = log.get("room")

USER_ENV = "VRPLAYER_MQTT_USERNAME"
PASSWORD_ENV = "VRPLAYER_MQTT_PASSWORD"
CONNECT_TIMEOUT = 10.0


class RoomError(PlayerError):
    """The room cannot be joined or conducted: a bad address, no broker, refused credentials."""


@dataclass(frozen=True)
class RoomAddress:
    host: str
    port: int
    room: str
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca: str | None = None

    def topic(self, *parts: str) -> str:
        return "/".join(("vrplayer", self.room, *parts))

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}/{self.room}"


def parse_room(text: str, ca: str | None = None, environ=os.environ) -> RoomAddress:
    url = urllib.parse.urlsplit(text)
    if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
        raise RoomError(f"'{text}' is not a room address; write mqtt://HOST[:PORT]/ROOM (or mqtts:// for TLS)")
    room = url.path.strip("/")
    try:
        check_name(room, "the room")
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
    except (MessageError, ValueError) as exc:
        raise RoomError(f"'{text}': {exc}") from None
    if url.password is not None:
        raise RoomError(f"'{text}' carries a password, which anyone could read in the process list; "
                        f"put it in the environment as {PASSWORD_ENV}")
    if ca is not None and not os.path.isfile(ca):
        raise RoomError(f"the certificate authority file {ca} does not exist")
    username = urllib.parse.unquote(url.username) if url.username else environ.get(USER_ENV) or None
    return RoomAddress(url.hostname, port, room, url.scheme == "mqtts", username, environ.get(PASSWORD_ENV) or None, ca)


Handler = Callable[[str, bytes, bool], None]


def _no_delay(client, userdata, sock) -> None:
    """Small messages go out at once: with Nagle's algorithm a clock answer could wait for the ACK of the message
    before it (up to 40 ms), which the clock would take for a slow way back. (The broker's side: `set_tcp_nodelay
    true` in mosquitto.conf, see README.)"""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


class RoomLink:
    """One client of the broker: subscribed to `topics` (under the room's), publishing with a last will."""

    def __init__(self, address: RoomAddress, client_id: str, topics: list[str], on_message: Handler,
                 will: tuple[str, bytes] | None = None, on_connect: Callable[[], None] | None = None):
        import paho.mqtt.client as mqtt

        self.address = address
        self._topics = [address.topic(t) for t in topics]
        self._prefix = address.topic("")
        self._handler = on_message
        self._on_connect = on_connect
        self._connected = threading.Event()
        self._refused: str | None = None
        self._was_connected = False
        self._leaving = False
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self._client.reconnect_delay_set(0.2, 2.0)
        if address.username is not None:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            self._client.tls_set(ca_certs=address.ca)
        if will is not None:
            self._client.will_set(address.topic(will[0]), will[1], qos=1, retain=True)
        self._client.on_socket_open = _no_delay
        self._client.on_connect = self._connected_now
        self._client.on_disconnect = self._disconnected
        self._client.on_message = self._message

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Connect (waiting up to `timeout` for the first connection); RoomError when it cannot be made."""
        try:
            self._client.connect_async(self.address.host, self.address.port, keepalive=5)
        except (OSError, ValueError) as exc:
            raise RoomError(f"cannot reach the broker of {self.address} ({exc})") from None
        self._client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.05):
            if self._refused is not None or time.monotonic() > deadline:
                self.stop()
                if self._refused:
                    raise RoomError(f"cannot join the broker of {self.address}: {self._refused}; check the user name and "
                                    f"password ({USER_ENV}, {PASSWORD_ENV})")
                raise RoomError(f"cannot join the broker of {self.address}: no answer within {timeout:.0f} s; check that "
                                "it runs there (and, with mqtts://, that --ca names the authority that signed its certificate)")

    def publish(self, topic: str, payload: bytes, retain: bool = False, qos: int = 0) -> None:
        self._client.publish(self.address.topic(topic), payload, qos=qos, retain=retain)

    def stop(self, farewell: tuple[str, bytes] | None = None) -> None:
        """Leave (saying `farewell` first, retained, when connected) and stop the network thread."""
        if farewell is not None and self.connected:
            info = self._client.publish(self.address.topic(farewell[0]), farewell[1], qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=1.0)
            except (RuntimeError, ValueError):
                pass
        self._leaving = True
        self._client.disconnect()
        self._client.loop_stop()

    # paho's thread

    def _connected_now(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            self._refused = f"the broker refused the connection ({reason_code})"
            if self._was_connected:  # (before the first connection, start() says so)
                _log.error("%s", self._refused)
            return
        self._refused = None
        for topic in self._topics:
            client.subscribe(topic, qos=1)
        self._connected.set()
        _log.info("%s the broker of %s", "back on" if self._was_connected else "joined", self.address)
        self._was_connected = True
        if self._on_connect is not None:
            self._on_connect()

    def _disconnected(self, client, userdata, flags, reason_code, properties=None) -> None:
        if self._connected.is_set():
            self._connected.clear()
            if not self._leaving:
                _log.warning("lost the broker of %s (%s); going on by our own clock, reconnecting", self.address, reason_code)

    def _message(self, client, userdata, message) -> None:
        topic = message.topic.removeprefix(self._prefix)
        try:  # (every reader in messages.py refuses an oversized payload first)
            self._handler(topic, message.payload, bool(message.retain))
        except MessageError as exc:
            _log.warning("ignored a message on %s: %s", topic, exc)
        except Exception as exc:  # a bug in a handler must not stop the network thread
            _log.error("a message on %s could not be handled (%s: %s)", topic, type(exc).__name__, exc)
