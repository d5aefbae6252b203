"""One kiosk per log folder: DIRECTORY/kiosk.lock, held with flock while a kiosk runs there.

The folder holds the session log and the state a restarted kiosk resumes from; two kiosks writing them would
interleave their stories and fight over the programme position (and, with the same --control, the port). The lock
is taken by the process that runs the kiosk (the supervisor, or the kiosk itself with --no-supervisor) and handed to
its worker as an open descriptor, so it is held until the last of them has gone — however they end, a kill
included, the kernel lets go of it. The file says who holds it: {"pid": N, "since": "2026-05-09T14:03:04.512Z"}.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path

from vrplayer.errors import PlayerError
from vrplayer.kiosk.sessionlog import timestamp

LOCK_FILE = "kiosk.lock"


class FolderBusy(PlayerError):
    """Another kiosk runs on this log folder; one line saying which, and what to do."""


class LogFolderError(PlayerError):
    """The log folder cannot be made, written or locked; one line saying why, and what to do."""


class FolderLock:
    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self.fd: int | None = None

    def take(self) -> FolderLock:
        """Hold the folder's lock (creating the folder); FolderBusy when another kiosk holds it, LogFolderError when
        the folder cannot be used."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)  # no O_TRUNC: the holder's words stay
        except OSError as exc:
            raise LogFolderError(f"cannot use the log folder {self.directory} ({exc.strerror or exc}); "
                             "give --log-dir a folder the kiosk can write") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderBusy(f"another kiosk ({holder}) already uses {self.directory}; stop it first") from None
        except OSError as exc:  # a file system without locks: go on rather than refuse every kiosk
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP):
                os.close(fd)
                raise LogFolderError(f"cannot lock the log folder {self.directory} ({exc.strerror or exc})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps({"pid": os.getpid(), "since": timestamp()}) + "\n").encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # a worker that still holds its copy keeps the folder locked until it ends


def _holder(fd: int) -> str:
    """"pid N, since T" from the lock file, as far as it says."""
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {int(record['pid'])}, since {record['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown: its lock file says nothing yet"
