"""Which of the programme's films are missing, looked up on a thread of its own (see FilmsPresent)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Sequence


class FilmsPresent:
    """Which of the programme's films are missing, looked up on a thread of its own.

    The kiosk asks before it tries an item: a film known to be missing is skipped at once, with no call to the file
    system on the player's thread — a programme of 100 000 missing films costs a pass of a second or two instead of
    minutes of opening attempts, and a share that hangs on stat holds up this thread, not the show. A look at every
    film is followed by a rest of `every` seconds, or ten times the look's own length when that is more (a huge list
    costs little CPU); a film plugged in later counts as there after the next look. Until the first look has
    reached an item, it is not known to be missing: the kiosk tries it.
    """

    def __init__(self, files: Sequence[Path | None], every: float = 2.0):
        self.files = list(files)
        self.every = every
        self.looks = 0  # complete looks at every film
        self._missing: set[int] = set()  # written by this thread only, one item at a time
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._look_again_and_again, name="kiosk-films", daemon=True)

    def start(self) -> FilmsPresent:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def missing(self, index: int) -> bool:
        """True when the last look found no file at item `index`'s path."""
        return index in self._missing

    def _look_again_and_again(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            for index, path in enumerate(self.files):
                if self._stop.is_set():
                    return
                if path is None:  # (a film fetched by URL: the cache knows whether it is there)
                    continue
                try:
                    os.stat(path)
                    self._missing.discard(index)
                except (FileNotFoundError, NotADirectoryError):
                    self._missing.add(index)
                except (OSError, ValueError):
                    self._missing.discard(index)  # there but unreadable, or a strange name: the player says what
            self.looks += 1
            self._stop.wait(max(self.every, 10 * (time.monotonic() - started)))
