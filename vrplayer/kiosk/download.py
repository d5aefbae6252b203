"""Downloading one film into a partial file that survives cuts: each try asks for the rest with a range request
(`If-Range` with the validator of what was started, so a film that changed meanwhile comes whole instead of
spliced), appends what arrives, and at the end checks the size the server announced and, when given, the SHA-256.

Pure network and file code (urllib), no player imports; `progress(done, total)` is called as bytes arrive, and
`stop()` is asked between blocks so a kiosk that shuts down is not held by a download.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

BLOCK = 256 * 1024
TIMEOUT = 15.0  # seconds a connection may wait for data
TRIES = 6  # connections per download before it is given up (it resumes from the byte reached each time)
_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)


class DownloadError(Exception):
    """The download did not complete or did not verify; the message says why, in a few words."""


@dataclass
class Downloaded:
    size: int
    sha256: str
    etag: str | None
    last_modified: str | None


def download(url: str, part: Path, *, validator: str | None = None, sha256: str | None = None,
             progress: Callable[[int, int | None], None] | None = None, stop: Callable[[], bool] = lambda: False,
             note: Callable[[str], None] | None = None, tries: int = TRIES) -> Downloaded:
    """Fetch `url` into `part`, resuming what `part` already holds when `validator` (the ETag or Last-Modified it
    was started with; "" when the server gave neither: resumed on trust, as `curl -C -` does) is not None.
    `note(validator)` is told the validator of what is being written, before it is written, so that a download
    killed halfway can be resumed. DownloadError when it cannot be completed in `tries` connections, the size
    differs from what the server announced, or the SHA-256 differs from `sha256`."""
    done = part.stat().st_size if part.exists() and validator is not None else 0
    if done == 0 and part.exists():
        part.unlink()
    total: int | None = None
    etag = last_modified = None
    failure = "no answer"
    for attempt in range(tries):
        if stop():
            raise DownloadError("stopped")
        headers = {"Accept-Encoding": "identity"}
        if done > 0:
            headers["Range"] = f"bytes={done}-"
            if validator:
                headers["If-Range"] = validator
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT) as response:
                if response.status == 206 and done > 0:
                    total = _total(response.headers.get("Content-Range"), done, response.headers.get("Content-Length"))
                else:  # the whole film (the server ignores Range, or it changed): start again
                    done = 0
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                etag = response.headers.get("ETag") or etag
                last_modified = response.headers.get("Last-Modified") or last_modified
                validator = etag or last_modified or ""
                if note is not None:
                    note(validator)
                done = _append(response, part, done, total, progress, stop)
            if total is None or done >= total:
                break
            failure = f"the connection ended at {done} of {total} bytes"
        except urllib.error.HTTPError as error:
            if error.code == 416 and done > 0:  # what we hold already is the whole film
                total = done
                break
            if 400 <= error.code < 500 and error.code not in (408, 429):
                raise DownloadError(f"the server answered {error.code} ({error.reason})") from None
            failure = f"the server answered {error.code} ({error.reason})"
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
            failure = str(getattr(error, "reason", None) or error)
            done = part.stat().st_size if part.exists() else 0
        if stop():
            raise DownloadError("stopped")
        time.sleep(_BACKOFF[min(attempt, len(_BACKOFF) - 1)])
    else:
        raise DownloadError(f"gave up after {tries} tries: {failure}")
    if total is not None and done != total:
        raise DownloadError(f"{done} bytes arrived of the {total} the server announced")
    digest = file_sha256(part, stop)
    if sha256 and digest != sha256.lower():
        raise DownloadError(f"its SHA-256 is {digest[:12]}…, not the {sha256[:12]}… the programme gives")
    return Downloaded(done, digest, etag, last_modified)


def _total(content_range: str | None, done: int, length: str | None) -> int | None:
    if content_range and "/" in content_range:
        whole = content_range.rpartition("/")[2]
        if whole.isdigit():
            return int(whole)
    return done + int(length) if length and length.isdigit() else None


def _append(response, part: Path, done: int, total: int | None, progress, stop) -> int:
    with open(part, "ab" if done > 0 else "wb") as out:
        while True:
            if stop():
                raise DownloadError("stopped")
            block = response.read(BLOCK)
            if not block:
                return done
            out.write(block)
            done += len(block)
            if progress is not None:
                progress(done, total)


def file_sha256(path: Path, stop: Callable[[], bool] = lambda: False) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(1024 * 1024):
            if stop():
                raise DownloadError("stopped")
            digest.update(block)
    return digest.hexdigest()
