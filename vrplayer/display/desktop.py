"""Desktop display: a glfw window (EGL context on X11) with mouse and keyboard input turned into InputEvents."""

from __future__ import annotations

import os
import sys

from vrplayer.display.base import InputEvent, read_framebuffer
from vrplayer.errors import DisplayUnavailable

_CHAR_KEYS = {"+": "plus", "=": "plus", "-": "minus", ",": "comma", ".": "period", " ": None}


class DesktopDisplay:
    name = "desktop"

    def __init__(self, size: tuple[int, int] = (1280, 720), title: str = "vrplayer", fullscreen: bool = False, vsync: bool = True):
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise DisplayUnavailable("no display found (DISPLAY is not set); run on a desktop, under Xvfb, or use --display offscreen")
        try:
            import glfw
        except Exception as exc:  # pragma: no cover - glfw missing its library
            raise DisplayUnavailable(f"glfw cannot load ({exc}); reinstall vrplayer's dependencies") from None
        self._glfw = glfw
        self._errors: list[str] = []
        glfw.set_error_callback(lambda code, text: self._errors.append(text.decode(errors="replace") if isinstance(text, bytes) else str(text)))
        if not glfw.init():
            raise DisplayUnavailable(f"cannot open the display ({self._last_error()}); check DISPLAY or use --display offscreen")
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        if sys.platform.startswith("linux"):
            glfw.window_hint(glfw.CONTEXT_CREATION_API, glfw.EGL_CONTEXT_API)  # the same GL platform as offscreen
        self._windowed_size = size
        self._window = glfw.create_window(size[0], size[1], title, None, None)
        if not self._window:
            glfw.terminate()
            raise DisplayUnavailable(f"cannot create a window ({self._last_error()}); check the GL drivers (Mesa)")
        glfw.make_context_current(self._window)
        glfw.swap_interval(1 if vsync else 0)
        self._events: list[InputEvent] = []
        self._dragging = False
        self._cursor: tuple[float, float] | None = None  # the pointer, as of the last event taken from the window
        self._fullscreen = False
        glfw.set_key_callback(self._window, self._on_key)
        glfw.set_char_callback(self._window, self._on_char)
        glfw.set_mouse_button_callback(self._window, self._on_button)
        glfw.set_cursor_pos_callback(self._window, self._on_cursor)
        glfw.set_scroll_callback(self._window, self._on_scroll)
        glfw.set_framebuffer_size_callback(self._window, lambda w, width, height: self._events.append(InputEvent("resize")))
        if fullscreen:
            self.set_fullscreen(True)

    def _last_error(self) -> str:
        return self._errors[-1] if self._errors else "unknown reason"

    # -- input ----------------------------------------------------------------------------------------------------

    def _on_key(self, window, key, scancode, action, mods) -> None:
        glfw = self._glfw
        if action not in (glfw.PRESS, glfw.REPEAT):
            return
        names = {
            glfw.KEY_LEFT: "left", glfw.KEY_RIGHT: "right", glfw.KEY_UP: "up", glfw.KEY_DOWN: "down",
            glfw.KEY_SPACE: "space", glfw.KEY_ESCAPE: "escape", glfw.KEY_KP_ADD: "plus", glfw.KEY_KP_SUBTRACT: "minus",
            glfw.KEY_TAB: "tab", glfw.KEY_HOME: "home", glfw.KEY_END: "end",
        }
        if key in names:
            self._events.append(InputEvent("key", names[key], shift=bool(mods & glfw.MOD_SHIFT)))
        elif key >= 256:  # other non-printable keys (Enter, Tab, F1…): no control, but a key all the same (a kiosk's start)
            self._events.append(InputEvent("key", "other"))

    def _on_char(self, window, codepoint) -> None:
        char = chr(codepoint)
        name = _CHAR_KEYS.get(char, char.lower() if char.isalpha() or char.isdigit() else None)
        if name:
            self._events.append(InputEvent("key", name))

    def _on_button(self, window, button, action, mods) -> None:
        if button == self._glfw.MOUSE_BUTTON_LEFT:
            self._dragging = action == self._glfw.PRESS
            # Where the pointer was when the button went, from the moves before it: asking the window now would give
            # where it is now, after every move still queued (a slow frame takes them all at once).
            if self._cursor is None:
                self._cursor = self._glfw.get_cursor_pos(window)
            x, y = self._pixels(*self._cursor)
            self._events.append(InputEvent("click" if action == self._glfw.PRESS else "release", x=x, y=y))

    def _on_cursor(self, window, x, y) -> None:
        px, py = self._pixels(x, y)
        if self._dragging and self._cursor is not None:
            self._events.append(InputEvent("drag", dx=x - self._cursor[0], dy=y - self._cursor[1], x=px, y=py))
        else:
            self._events.append(InputEvent("move", x=px, y=py))
        self._cursor = (x, y)

    def _pixels(self, x: float, y: float) -> tuple[float, float]:
        """A pointer position in window coordinates → framebuffer pixels (they differ on a high-density screen)."""
        window_w, window_h = self._glfw.get_window_size(self._window)
        frame_w, frame_h = self._glfw.get_framebuffer_size(self._window)
        return x * frame_w / max(1, window_w), y * frame_h / max(1, window_h)

    def _on_scroll(self, window, dx, dy) -> None:
        self._events.append(InputEvent("scroll", dy=dy))

    def poll_events(self, timeout: float = 0.0) -> list[InputEvent]:
        if timeout > 0:
            self._glfw.wait_events_timeout(timeout)
        else:
            self._glfw.poll_events()
        if self._glfw.window_should_close(self._window):
            self._events.append(InputEvent("close"))
        events, self._events = self._events, []
        return events

    # -- output ---------------------------------------------------------------------------------------------------

    def framebuffer_size(self) -> tuple[int, int]:
        return self._glfw.get_framebuffer_size(self._window)

    def make_current(self) -> None:
        self._glfw.make_context_current(self._window)

    def present(self) -> None:
        self._glfw.swap_buffers(self._window)

    def should_close(self) -> bool:
        return bool(self._glfw.window_should_close(self._window))

    @property
    def fullscreen(self) -> bool:
        return self._fullscreen

    def set_fullscreen(self, on: bool) -> None:
        glfw = self._glfw
        if on == self._fullscreen:
            return
        if on:
            monitor = glfw.get_primary_monitor()
            if not monitor:
                return
            self._windowed_size = glfw.get_window_size(self._window)
            mode = glfw.get_video_mode(monitor)
            glfw.set_window_monitor(self._window, monitor, 0, 0, mode.size.width, mode.size.height, mode.refresh_rate)
        else:
            width, height = self._windowed_size
            glfw.set_window_monitor(self._window, None, 40, 40, width, height, 0)
        self._fullscreen = on

    def read_pixels(self):
        return read_framebuffer(*self.framebuffer_size())

    def close(self) -> None:
        if self._window:
            self._glfw.destroy_window(self._window)
            self._window = None
            self._glfw.terminate()
