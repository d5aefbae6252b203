"""`vrplayer fetch PROGRAMME`: bring every film the programme names by URL into the kiosk's cache ahead of a
festival day, with a progress bar, as the kiosk itself would (resumed after a cut, verified, the last good copy
kept). Exit status 0 when every film is there, complete and verified; 1 otherwise (each failure one line)."""

from __future__ import annotations

import argparse
import sys

from vrplayer import log

_log = log.get("fetch")


def cache_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a programme's films named by URL are fetched to (the kiosk and `vrplayer fetch` share them)."""
    parser.add_argument("--cache", metavar="DIR", help="the folder films named by URL are fetched into (default: vrplayer-cache beside the programme)")
    parser.add_argument("--cache-limit", type=_gigabytes, default=50.0, metavar="GB", help="the most the cache may hold; beyond it the least recently played films the programme no longer names go first (default 50)")


def _gigabytes(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a number of gigabytes above 0")
    return value


def add_parser(sub) -> None:
    fetch = sub.add_parser(
        "fetch", help="download a kiosk programme's films named by URL into its cache, ahead of time",
        description="Download every film the programme names by URL (http:// or https://) into the cache the kiosk "
                    "plays them from: resumed after a cut, checked against the size the server announces and the "
                    "programme's sha256, the last good copy kept when a source fails. Exit status 1 when a film "
                    "is not there, complete and verified, at the end.")
    fetch.add_argument("programme", metavar="PROGRAMME")
    cache_arguments(fetch)


def run(args) -> int:
    from vrplayer.kiosk.cache import FilmCache, default_cache
    from vrplayer.kiosk.fetcher import Fetcher, wanted_of
    from vrplayer.kiosk.programme import load_programme
    from vrplayer.progress import ProgressBar, shows_progress

    programme = load_programme(args.programme)
    cache = FilmCache(args.cache or default_cache(programme.path), int(args.cache_limit * 1e9))
    try:
        cache.open()
    except OSError as exc:
        print(f"vrplayer: cannot make the cache folder {cache.folder} ({exc.strerror}); give --cache a folder you may "
              "write", file=sys.stderr)
        return 1
    wanted = wanted_of(programme.urls())
    if not wanted:
        _log.info("%s names no films by URL: nothing to fetch", programme.path)
        return 0
    fetcher = Fetcher(cache, recheck=0.0)
    fetcher.want(wanted)
    failed = 0
    for number, item in enumerate(wanted, 1):
        name = f"{number}/{len(wanted)} {item.title}"
        bar = ProgressBar(name, verb="fetching", amount=lambda done, total: _amount(fetcher, item)) if shows_progress(args) else None
        try:
            state = fetcher.bring(item, progress=(lambda s: bar.update(s.done, s.total)) if bar else None)
        finally:
            if bar is not None:
                bar.close()
        if state.state != "ready":
            failed += 1
            print(f"vrplayer: {item.url}: {state.error}", file=sys.stderr)
        elif state.error:
            _log.warning("%s: %s", item.url, state.error)
        else:
            _log.info("%s: ready in the cache (%d bytes)", item.url, state.done)
    removed = cache.evict({item.url for item in wanted})
    if removed:
        _log.info("%d films the programme no longer names were evicted from the cache", len(removed))
    _log.info("%d of %d films ready in %s", len(wanted) - failed, len(wanted), cache.folder)
    return 1 if failed else 0


def _amount(fetcher, item) -> str:
    from vrplayer.kiosk.fetcher import progress_text

    return progress_text(fetcher.states[item.url], percent=False)
