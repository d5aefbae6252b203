"""A TCP proxy that delays what passes through it, with jitter, in both directions: a slow, uneven network link
between one client and a server, for tests and benchmarks (these kernels have no netem). Order is kept, as TCP
keeps it: a chunk goes on at its arrival plus the delay plus a random jitter, never before the chunk before it."""

from __future__ import annotations

import collections
import random
import socket
import threading
import time


class DelayProxy:
    def __init__(self, target: tuple[str, int], delay: float, jitter: float, listen: str = "127.0.0.1", seed: int = 0):
        self.target, self.delay, self.jitter = target, delay, jitter
        self._random = random.Random(seed)
        self._server = socket.create_server((listen, 0))
        self.address = (listen, self._server.getsockname()[1])
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sockets.append(sock)
            self._pipe(client, upstream)
            self._pipe(upstream, client)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        waiting: collections.deque = collections.deque()
        ready = threading.Condition()

        def receive() -> None:
            last = 0.0
            while True:
                try:
                    data = source.recv(65536)
                except OSError:
                    data = b""
                with ready:
                    last = max(last, time.monotonic() + self.delay + self._random.random() * self.jitter)
                    waiting.append((last, data))
                    ready.notify()
                if not data:
                    return

        def send() -> None:
            while True:
                with ready:
                    while not waiting:
                        ready.wait()
                    due, data = waiting.popleft()
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    if not data:
                        sink.shutdown(socket.SHUT_WR)
                        return
                    sink.sendall(data)
                except OSError:
                    return

        threading.Thread(target=receive, daemon=True).start()
        threading.Thread(target=send, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass
