"""A real OpenXR runtime for the tests: Monado's simulated headset, its compositor drawing into a window on a
private Xvfb, so a test can screenshot what the "headset" shows.

Monado needs Debian 13: the tests run inside the root that `scripts/xr-root.sh` builds (or on a Debian 13 host).
Everything is started here on private sockets and stopped by PID.

    with MonadoRuntime() as runtime:      # sets nothing globally: put runtime.env into os.environ yourself
        os.environ.update(runtime.env)
        ... XrDisplay() ...
        picture = runtime.screenshot()    # (H, W, 3) uint8 RGB of the compositor window
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from conftest import _stop  # SIGTERM, wait, SIGKILL: by PID, only the process we started

SOCKET_NAME = "monado_comp_ipc"
SCREEN = (1920, 1080)


class RuntimeUnavailable(RuntimeError):
    """Monado or Xvfb is missing or did not start."""


def available() -> str | None:
    """None when Monado and Xvfb are installed here, else why not."""
    missing = [name for name in ("monado-service", "Xvfb", "ffmpeg", "xwininfo") if not shutil.which(name)]
    if missing:
        return f"{', '.join(missing)} not installed (the XR tests run inside scripts/xr-root.sh or on Debian 13)"
    return None


class MonadoRuntime:
    def __init__(self, compositor: str = "window", screen: tuple[int, int] = SCREEN):
        """compositor: "window" (Monado's real compositor in an X window on our Xvfb) or "null" (no output,
        paced at ≈ 20 Hz, no X server)."""
        self.compositor = compositor
        self.screen = screen
        self.runtime_dir: Path | None = None
        self.display: str | None = None
        self.xvfb: subprocess.Popen | None = None
        self.service: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self._log = None

    # -- start / stop ---------------------------------------------------------------------------------------------

    def __enter__(self) -> "MonadoRuntime":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def socket(self) -> Path:
        assert self.runtime_dir is not None
        return self.runtime_dir / SOCKET_NAME

    @property
    def env(self) -> dict[str, str]:
        """What an OpenXR client needs to find this runtime (and the X server, for a GLX context)."""
        env = {"XDG_RUNTIME_DIR": str(self.runtime_dir)}
        if self.display:
            env["DISPLAY"] = self.display
        return env

    def start(self, timeout: float = 15.0) -> None:
        why = available()
        if why:
            raise RuntimeUnavailable(why)
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="vrplayer-xr-"))
        self.runtime_dir.chmod(0o700)  # monado-service refuses other modes ("already running")
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime_dir), XRT_NO_STDIN="1")
        try:
            if self.compositor == "window":
                self.display = self._start_xvfb()
                env.update(DISPLAY=self.display, XRT_COMPOSITOR_FORCE_XCB="1")
            elif self.compositor == "null":
                env.pop("DISPLAY", None)
                env["XRT_COMPOSITOR_NULL"] = "1"
            else:
                raise ValueError(f"unknown compositor {self.compositor!r}")
            self.socket.unlink(missing_ok=True)  # a stale socket from a killed service
            self.log_path = self.runtime_dir / "monado.log"
            self._log = open(self.log_path, "wb")
            self.service = subprocess.Popen(
                ["monado-service"], env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + timeout
            while not self.socket.exists():
                if self.service.poll() is not None:
                    raise RuntimeUnavailable(f"monado-service exited with {self.service.returncode}: {self.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeUnavailable(f"monado-service did not open its socket in {timeout:.0f} s: {self.log_tail()}")
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise

    def _start_xvfb(self) -> str:
        read_fd, write_fd = os.pipe()
        width, height = self.screen
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeUnavailable("Xvfb did not start")
        return f":{number}"

    def stop(self) -> None:
        try:
            for proc in (self.service, self.xvfb):  # Monado may take over a second to shut down
                if proc is not None:
                    _stop(proc)
        finally:
            self.service = self.xvfb = self.display = None
            if self._log:
                self._log.close()
                self._log = None
            if self.runtime_dir is not None:
                shutil.rmtree(self.runtime_dir, ignore_errors=True)  # the socket too: no stale one next time
                self.runtime_dir = None

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])

    # -- looking at the "headset" ---------------------------------------------------------------------------------

    def window_geometry(self) -> tuple[int, int, int, int] | None:
        """(x, y, width, height) on the X screen of the compositor's window, None before it exists."""
        out = subprocess.run(["xwininfo", "-root", "-tree"], env=dict(os.environ, DISPLAY=self.display),
                             capture_output=True, text=True).stdout
        best = None
        for line in out.splitlines():
            # e.g.   0x200001 "Monado": ()  1920x1080+0+0  +0+0
            m = re.search(r'"([^"]*)".*?\s(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)', line)
            if m and "monado" in m.group(1).lower():
                w, h, ax, ay = int(m.group(2)), int(m.group(3)), int(m.group(6)), int(m.group(7))
                if w > 1 and h > 1 and (best is None or w * h > best[2] * best[3]):
                    best = (ax, ay, w, h)
        return best

    def screenshot(self) -> np.ndarray:
        """What the compositor window shows now, (H, W, 3) uint8 RGB (the whole screen if it has no window)."""
        if self.display is None:
            raise RuntimeUnavailable("the null compositor has no window to screenshot")
        x, y, w, h = self.window_geometry() or (0, 0, *self.screen)
        x, y = max(x, 0), max(y, 0)
        w, h = min(w, self.screen[0] - x), min(h, self.screen[1] - y)
        grab = subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "x11grab", "-draw_mouse", "0", "-video_size", f"{w}x{h}",
             "-i", f"{self.display}+{x},{y}", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
            capture_output=True, timeout=30,
        )
        if grab.returncode != 0 or len(grab.stdout) != w * h * 3:
            raise RuntimeUnavailable(f"cannot grab the X screen: {grab.stderr.decode(errors='replace').strip()}")
        return np.frombuffer(grab.stdout, np.uint8).reshape(h, w, 3).copy()
