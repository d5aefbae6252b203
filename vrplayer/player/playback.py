"""One film being played: its decoders, its sound (decided, spatialised, mixed), its clock and frame scheduler.

The clock is handed in (`clock_for`): by default the film's own (its sound, or the wall clock when it has none);
a room's seat or a second cut in a comparison hand in a clock kept by someone else. The scheduler only asks it the
time.
"""

from __future__ import annotations

import time

from vrplayer import log
from vrplayer.audio.mixer import Mixer
from vrplayer.audio.soundfield import make_renderer
from vrplayer.errors import MediaError, PlayerError, path_text
from vrplayer.media.audio import AudioDecoder, audio_track
from vrplayer.media.probe import decide_film_layout
from vrplayer.media.soundtrack import decide_sound
from vrplayer.media import photo
from vrplayer.media.manifests import is_manifest
from vrplayer.media.netbuffer import NetworkBuffer
from vrplayer.media.segments import StreamSource
from vrplayer.media.network import is_url
from vrplayer.media.still import open_pictures
from vrplayer.media.video import READ_STALL_TIMEOUT, EndOfStream
from vrplayer.sync import ClockFactory, FrameScheduler, own_clock

_log = log.get("player")

NETWORK_STALL_TIMEOUT = 30.0  # seconds with nothing arriving from a film's server before it is given up
FIRST_FRAME_TIMEOUT = 10.0  # seconds to wait for a film's first picture before calling it broken
AUDIO_READY_TIMEOUT = 2.0


class Playback:
    def __init__(self, path: str, output, volume: float, layout_flags: dict | None = None, sound: dict | None = None,
                 clock_for: ClockFactory = own_clock, still_seconds: float | None = None):
        """output: the audio device (None: play silently). sound: {"audio_format": --audio-format or None, "hrtf": a
        SOFA file or None, "head_path": a scripted head or None}. clock_for(mixer or None) → the film's clock.
        still_seconds: how long a photo stays on screen (None: until the viewer moves on)."""
        self.path = path
        self.output = output
        self._late_blocks_before = output.xruns if output is not None else 0
        # A film on a web server is downloaded ahead, once, for both its readers (media/netbuffer.py).
        self.network = (StreamSource(path) if is_manifest(path) else NetworkBuffer(path)) if is_url(path) else None
        try:
            self.video = open_pictures(path, still_seconds, self.network)
        except PlayerError:
            self._close_network()
            raise
        self.still = self.video.is_still
        if self.network is not None and self.network.size and self.video.duration:
            self.network.byte_rate = self.network.size / self.video.duration
        try:
            self.layout = decide_film_layout(path, *self.video.size, layout_flags, self.network,
                                             self.video.facts)
            # A photo's sound is the file its manifest names (or none); a film's is its own.
            self.sound_path = photo.soundtrack(path) if self.still else path
        except PlayerError:
            self.video.close()
            self._close_network()
            raise
        self.audio = None
        self.mixer = None
        self.sound = None  # the SoundDecision, when the film has sound and there is a device
        self.spatial = None  # its BinauralRenderer, when the sound follows the head
        if output is not None:
            try:
                self._open_sound(output, sound or {})
            except MediaError:
                self.video.close()
                self._close_network()
                raise
        self.volume = volume
        if self.audio is not None:
            self.mixer = Mixer(self.audio.ring, volume, self.spatial, output.blocksize)
            self.mixer.head_path = (sound or {}).get("head_path") if self.spatial is not None else None
        self.clock = clock_for(self.mixer)
        self.scheduler = FrameScheduler(lambda: self.video.get(0), lambda item: isinstance(item, EndOfStream))
        self.current = None  # the VideoFrame on screen
        self.on_screen_from: float | None = None  # the clock's time when the first picture reached the screen
        self.duration = self.video.duration
        self.speed = 1.0  # the shuttle's: media seconds per second from the next goto on (the sound time-stretched)
        self.underruns = 0  # times a film on a web server ran low and paused to buffer (player/buffering.py)
        self.buffering_seconds = 0.0  # how long it waited, in all

    def _open_sound(self, output, sound: dict) -> None:
        track = audio_track(self.sound_path, self.network) if self.sound_path is not None else None
        if track is None:
            _log.info("%s has no sound: playing on the wall clock", path_text(self.path))
            return
        index, channels, layout_name = track
        manifest_format = None if self.still else self.layout.audio  # (a photo's "audio" names its sound file)
        self.sound = decide_sound(self.sound_path, index, channels, layout_name, manifest_format, sound.get("audio_format"),
                                  self.network)
        if self.sound.warning:
            _log.warning("%s: %s", path_text(self.path), self.sound.warning)
        self.spatial = make_renderer(self.sound, output.rate, sound.get("hrtf"))
        _log.info("%s: sound %s", path_text(self.path), self.sound.describe() if self.spatial or not self.sound.rendered else f"{self.sound.format.name}, downmixed")
        self.audio = AudioDecoder(self.sound_path, output.rate, None if self.spatial is not None else output.channels,
                                  source=self.network)

    @property
    def position(self) -> float:
        """The media time on screen: the frame shown, else the clock's."""
        return self.current.pts if self.current is not None else self.clock.now()

    def goto(self, target: float) -> object:
        """Exact seek (or start) to `target`, paused there; returns the first frame to show, having waited for it."""
        self.video.seek(target)
        generation = self.audio.seek(target, self.speed) if self.audio is not None else None
        if self.audio is None:
            self.clock.speed = self.speed
        self.scheduler.reset()
        item = self.video.get(timeout=FIRST_FRAME_TIMEOUT)
        if item is None:
            raise MediaError(f"{path_text(self.path)}: no picture decoded within {FIRST_FRAME_TIMEOUT:.0f} s; the file is damaged or unsupported, or the drive it is on stopped answering")
        first = None
        if isinstance(item, EndOfStream):
            self.scheduler.ended = True
        else:
            first = item
        if self.audio is not None:
            deadline = time.monotonic() + AUDIO_READY_TIMEOUT
            while not self.audio.ready(generation) and time.monotonic() < deadline:
                time.sleep(0.002)
        self.clock.reset(target)
        if self.mixer is not None:
            self.mixer.restart(generation)
        self.clock.pause()  # the player resumes it once the first picture is ready to go
        return first

    def finished(self) -> bool:
        if self.still:  # on screen for its time (its sound, if any, may be shorter or longer), or until moved on
            return (self.duration is not None and self.on_screen_from is not None
                    and self.clock.now() - self.on_screen_from >= self.duration)
        if not self.scheduler.ended:
            return False
        if self.audio is None:
            end = (self.current.pts + self.current.duration) if self.current else 0.0
            return self.clock.now() >= end
        ring = self.audio.ring
        return ring.finished and ring.available() == 0

    def stall(self) -> str | None:
        """A line when the video decoder has been stuck in a read for READ_STALL_TIMEOUT (the film cannot go on); a
        film on a web server, when nothing has arrived for NETWORK_STALL_TIMEOUT (its waits are buffering)."""
        if self.network is not None:
            idle = self.network.idle_for()
            if idle < NETWORK_STALL_TIMEOUT:
                return None
            return (f"{path_text(self.path)}: stopped at {self.position:.2f} s: nothing arrived from the server for "
                    f"{idle:.0f} s ({self.network.error or 'no answer'}); check the network, or fetch the film first")
        stuck = self.video.stalled_for()
        if stuck < READ_STALL_TIMEOUT:
            return None
        return (f"{path_text(self.path)}: stopped at {self.position:.2f} s: no data came from the file for {stuck:.0f} s "
                "(a drive or network share that stopped answering?); check the drive, or copy the film to a local disk")

    def problem(self, outcome) -> str | None:
        """What kept the film from playing whole, in one line, after it ended with `outcome`: it stalled, or it
        stopped well before the end it claims (truncated); None when nothing did."""
        if outcome == "stalled":
            return self.stall() or f"{path_text(self.path)}: stopped at {self.position:.2f} s: no data came from the file"
        return self.video.shortfall() if outcome == "end" else None

    def counts(self) -> dict:
        """Frames shown and dropped, audio underruns (the sound not decoded in time), and the device's late blocks
        (the audio callback itself ran late: the server played silence), so far."""
        return {
            "frames_shown": self.scheduler.shown, "frames_dropped": self.scheduler.dropped,
            "audio_underruns": self.mixer.underruns if self.mixer else 0,
            "audio_late_blocks": self.output.xruns - self._late_blocks_before if self.mixer else 0,
            "buffer_underruns": self.underruns, "buffering_seconds": round(self.buffering_seconds, 3),
        }

    def close(self) -> None:
        # Release the decoded frames before their decoder (whose buffer pools hold them) is freed.
        self.current = None
        self.scheduler.upcoming = None
        self.video.close()
        if self.audio is not None:
            self.audio.close()
        self._close_network()

    def _close_network(self) -> None:
        if self.network is not None:
            self.network.close()
