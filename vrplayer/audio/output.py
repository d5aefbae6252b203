"""Audio output backends behind one small interface. `open_output()` gives the sounddevice backend, or raises
AudioUnavailable with a line saying why, after which the player runs silently on the wall clock.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol

import numpy as np

from vrplayer import log
from vrplayer.errors import AudioUnavailable

_log = log.get("audio.output")

# A device that has gone (unplugged, its sound server stopped) ends the stream at once. One that stays but stops
# asking for sound is a sound server hung, or starved by a busy machine (seen for 1.5 s on two cores playing 4K):
# the picture waits on the audio clock meanwhile; after LOST_AFTER the film goes on without sound.
LOST_AFTER = 4.0  # seconds without a callback after which a stream still open counts as lost
STARTING = 5.0  # seconds a new stream may stall while it starts (a sound server's ALSA plugin: 1–2 s after its first blocks)
# A sound server that runs dry plays silence without telling its ALSA plugin's client (PulseAudio's, by default):
# the gap shows only as a block heard later than the one before it ends. Jitter between blocks is ~0.02 ms.
GAP = 0.002  # seconds a block may be heard after the one before it ends before it counts as a gap
FillFunction = Callable[[np.ndarray, float, float], None]  # (block, output latency s, monotonic now)


class AudioOutput(Protocol):
    rate: int
    channels: int
    blocksize: int

    def start(self, fill: FillFunction) -> None: ...
    def close(self) -> None: ...
    @property
    def latency(self) -> float: ...
    @property
    def xruns(self) -> int: ...  # blocks handed over too late while sound was playing (heard as a gap)
    @property
    def alive(self) -> bool: ...


class SoundDeviceOutput:
    """A PortAudio stream through sounddevice. The callback only calls `fill`, which never blocks."""

    def __init__(self, device=None, channels: int = 2, blocksize: int = 512, rate: int | None = None):
        sd = _import_sounddevice()
        try:
            info = sd.query_devices(device, kind="output")
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioUnavailable(f"no audio output device ({_first_line(exc)})") from None
        self.channels = min(channels, int(info["max_output_channels"])) or channels
        self.rate = int(rate or _preferred_rate(sd, device, self.channels, info))
        self.blocksize = blocksize
        self.device_name = info["name"]
        self._fill: FillFunction | None = None
        self._xruns = 0
        self._sounding = False  # the last block handed over was not silence
        self.faults = 0  # blocks whose mixing raised (each played as silence)
        self._last_callback = 0.0
        self._started_at = 0.0
        self._running = False  # start() has returned: blocks asked for now are played as they come
        self._next_heard = 0.0  # the DAC time at which the block after the last one should start
        try:
            self._stream = sd.OutputStream(
                device=device,
                samplerate=self.rate,
                channels=self.channels,
                dtype="float32",
                blocksize=blocksize,
                latency="low",
                callback=self._callback,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioUnavailable(f"cannot open audio device '{self.device_name}' ({_first_line(exc)})") from None

    def _callback(self, outdata, frames, time_info, status) -> None:
        # How long until this block is heard: PortAudio's DAC time when it gives one, else the stream's latency.
        heard = time_info.outputBufferDacTime
        ahead = heard - time_info.currentTime
        timed = 0.0 < ahead < 1.0
        if not timed:
            ahead = self._stream.latency
        # The device ran dry before this block — said by PortAudio, or seen as the block heard after a silence the
        # server put in — a gap, if it cut into sound (dry while silent is not heard).
        if self._sounding and (
            status.output_underflow
            or timed and self._next_heard and heard - self._next_heard > GAP
        ):
            self._xruns += 1
        self._next_heard = heard + frames / self.rate if timed else 0.0
        now = time.monotonic()
        self._last_callback = now
        if not self._running:
            # PortAudio primes the buffer before the stream runs, and through PulseAudio's ALSA plugin the stream
            # then stalls for 0.5–2 s: sound handed over now would be cut off by that stall, and the clock anchored
            # on it wrong. Silence until start() has returned; the film's sound starts with the running stream.
            outdata.fill(0.0)
            self._sounding = False
            return
        try:
            self._fill(outdata, ahead, now)
            self._sounding = bool(outdata.any())
        except Exception as exc:  # a fault in mixing must not stop the stream (and the clock) for good
            outdata.fill(0.0)
            self._sounding = False
            self.faults += 1
            if self.faults == 1:
                _log.error("audio block failed (%s: %s); playing silence for it", type(exc).__name__, exc)

    def start(self, fill: FillFunction) -> None:
        self._fill = fill
        self._last_callback = self._started_at = time.monotonic()
        self._stream.start()
        self._running = True
        _log.info("audio out: %s, %d Hz, %d ch, block %d, latency %.0f ms", self.device_name, self.rate, self.channels, self.blocksize, self.latency * 1000)

    @property
    def latency(self) -> float:
        return float(self._stream.latency)

    @property
    def xruns(self) -> int:
        return self._xruns

    @property
    def alive(self) -> bool:
        """False once the device has gone (unplugged, its sound server stopped: the stream has ended), or has not
        asked for sound for LOST_AFTER seconds (a block is ~10 ms; a new stream gets STARTING)."""
        now = time.monotonic()
        limit = STARTING if now - self._started_at < STARTING else LOST_AFTER
        return bool(self._stream.active) and now - self._last_callback < limit

    def close(self) -> None:
        # Abort, not stop: stopping waits for the server's buffer to drain (about 2 s through PulseAudio's ALSA
        # plugin, or for ever from a device that has gone); what is still queued is not wanted.
        try:
            self._stream.abort()
        except Exception as exc:  # a device that is already gone may fail to stop: closing is what matters
            _log.debug("stopping the audio stream: %s", _first_line(exc))
        finally:
            try:
                self._stream.close()
            except Exception as exc:
                _log.debug("closing the audio stream: %s", _first_line(exc))


PREFERRED_RATE = 48000  # films' own rate: no resampling on the way, when the device takes it


def _preferred_rate(sd, device, channels: int, info) -> float:
    """48 kHz when the device accepts it (a sound server's default device often says 44.1 kHz, which would
    resample films twice), else the device's default rate."""
    try:
        sd.check_output_settings(device=device, samplerate=PREFERRED_RATE, channels=channels, dtype="float32")
        return PREFERRED_RATE
    except (sd.PortAudioError, ValueError):
        return info["default_samplerate"]


def open_output(device=None) -> SoundDeviceOutput:
    return SoundDeviceOutput(device=device)


def _import_sounddevice():
    try:
        import sounddevice
    except OSError:
        raise AudioUnavailable("the PortAudio library is missing (install libportaudio2)") from None
    return sounddevice


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
