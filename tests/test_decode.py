"""Decoding with PyAV on a worker thread: native planes, exact seeks, end of stream, a bounded queue."""

import time

import pytest

from vrplayer.media.audio import AudioDecoder
from vrplayer.media.video import DEFAULT_QUEUE_FRAMES, EndOfStream, VideoDecoder


def frames_until_end(decoder, limit=1000):
    items = []
    while len(items) < limit:
        item = decoder.get(timeout=10)
        assert item is not None, "decoder stalled"
        if isinstance(item, EndOfStream):
            return items
        items.append(item)
    return items


def test_whole_film_in_order_in_native_planes(sample_film):
    decoder = VideoDecoder(str(sample_film))
    try:
        decoder.seek(0.0)
        frames = frames_until_end(decoder)
        assert decoder.stream.thread_type.name == "AUTO"  # (closing frees the stream, and its codec with it)
    finally:
        decoder.close()
    assert len(frames) == 300
    assert [round(f.pts * 30) for f in frames] == list(range(300))
    assert all(f.frame.format.name == "yuv420p" and f.layout.kind == "yuv" for f in frames[:5])


@pytest.mark.parametrize("target", [0.0, 2.5, 4.99, 5.0, 7.345, 9.98])
def test_exact_seek_gives_the_frame_on_screen_at_the_target(sample_film, target):
    decoder = VideoDecoder(str(sample_film))
    try:
        decoder.seek(1.0)
        decoder.get(timeout=10)
        decoder.seek(target)  # a second seek: frames of the first are stale and never returned
        frame = decoder.get(timeout=10)
        following = decoder.get(timeout=10)
    finally:
        decoder.close()
    assert frame.pts <= target + 1e-4 < frame.pts + 1 / 30
    assert frame.generation == 2
    if not isinstance(following, EndOfStream):
        assert following.pts == pytest.approx(frame.pts + 1 / 30, abs=1e-3)


def test_a_seeked_frame_is_the_very_picture_sequential_decoding_gives(sample_film):
    """Catching up to a target skips non-reference frames; the answer must still be decoded from intact references."""
    import av
    import numpy as np

    targets = [1.9, 4.2, 6.95]  # late in their key-frame intervals, so most of the catch-up is skipped
    expected = {}
    with av.open(str(sample_film)) as container:
        for frame in container.decode(video=0):
            index = round(frame.time * 30)
            if index in {int(t * 30 + 1e-6) for t in targets}:
                expected[index] = frame.to_ndarray()
    decoder = VideoDecoder(str(sample_film))
    try:
        for target in targets:
            decoder.seek(target)
            item = decoder.get(timeout=10)
            index = round(item.pts * 30)
            assert index == int(target * 30 + 1e-6)
            assert np.array_equal(item.frame.to_ndarray(), expected[index])
    finally:
        decoder.close()


def test_the_queue_stays_bounded_when_nobody_takes_frames(sample_film):
    decoder = VideoDecoder(str(sample_film))
    try:
        decoder.seek(0.0)
        time.sleep(1.5)  # long enough to decode the whole film if it were allowed to
        assert decoder._queue.qsize() == DEFAULT_QUEUE_FRAMES
        frames = frames_until_end(decoder)
        assert len(frames) == 300  # nothing was lost while waiting
    finally:
        decoder.close()


def test_audio_is_resampled_and_starts_exactly_at_the_seek_target(sample_film):
    import numpy as np

    decoder = AudioDecoder(str(sample_film), rate=44100, channels=2)
    try:
        generation = decoder.seek(2.0 - 0.05)
        deadline = time.monotonic() + 10
        while decoder.ring.available() < 44100 // 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert decoder.ready(generation) and decoder.ring.base_pts == pytest.approx(1.95)
        block = np.zeros((44100 // 5, 2), np.float32)
        assert decoder.ring.read_into(block, 1.0) == len(block)
    finally:
        decoder.close()
    onset = np.flatnonzero(np.abs(block[:, 0]) > 0.1)[0]
    # The beep at 2.000 s lands 50 ms into what was read, at the output rate.
    assert abs(onset / 44100 - 0.05) < 0.002
