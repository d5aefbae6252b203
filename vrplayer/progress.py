"""A progress bar for long jobs run from a terminal: one line on stderr, redrawn in place at most 10 times a second."""

from __future__ import annotations

import sys
import time
from typing import Callable


def shows_progress(args) -> bool:
    """Whether a command draws its bar: on a terminal, and not asked to be quiet."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


class ProgressBar:
    WIDTH = 30

    def __init__(self, name: str, verb: str = "checking", amount: Callable[[float, float | None], str] | None = None,
                 stream=None):
        """`amount(done, total)`: what the bar says after its percentage (default: seconds of film)."""
        self.name = name
        self.verb = verb
        self.amount = amount or (lambda done, total: f"{done:.0f}/{total:.0f} s" if total else f"{done:.0f} s read")
        self.stream = stream or sys.stderr
        self.drawn_at = 0.0
        self.shown = False

    def update(self, done: float, total: float | None) -> None:
        now = time.monotonic()
        if now - self.drawn_at < 0.1 and not (total and done >= total):
            return
        self.drawn_at = now
        if total:
            share = max(0.0, min(1.0, done / total))
            filled = round(share * self.WIDTH)
            line = f"{self.verb} {self.name} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {100 * share:3.0f} % {self.amount(done, total)}"
        else:
            line = f"{self.verb} {self.name}: {self.amount(done, total)}"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.shown = True
        if total and done >= total:
            self.close()  # a full bar ends its line: what is said next goes below it

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False
