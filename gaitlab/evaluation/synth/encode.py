"""Synthetic clips from BGR renders: frame compositing (contact shadow, figure, sensor noise) and the
phone-like H.264 MP4 writer shared by the sample clip and the mocap-driven accuracy clips."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from gaitlab.io.atomic import atomic_path

CAPTURE_FPS_TAG = "com.android.capture.fps"  # Android's slow-motion capture-rate key


def yuv420p_frame(img_bgr: np.ndarray):
    """BGR image -> PyAV yuv420p frame (BT.601 limited range, via OpenCV), row padding zeroed.

    The rendered pixels are bit-exact on every run (fixed seed). The libx264 bitstream
    still differs now and then between identical runs (single-threaded, same input): the
    encode reads heap memory it never initialised (``MALLOC_PERTURB_=165`` changes the
    sample clip's bytes; with ``MALLOC_MMAP_THRESHOLD_=131072`` every large buffer is fresh
    zeroed pages and reruns are byte-identical), so reruns decode to nearly, not exactly,
    the same pixels, and any change to the allocation pattern can change the bytes.
    """
    import av
    import cv2

    h, w = img_bgr.shape[:2]
    i420 = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2YUV_I420)
    planes = (i420[:h], i420[h : h + h // 4].reshape(h // 2, w // 2), i420[h + h // 4 :].reshape(h // 2, w // 2))
    frame = av.VideoFrame(w, h, "yuv420p")
    for plane, data in zip(frame.planes, planes):
        buf = np.zeros((plane.buffer_size // plane.line_size, plane.line_size), np.uint8)
        buf[: data.shape[0], : data.shape[1]] = data
        plane.update(buf)
    return frame


class SensorNoise:
    """Gaussian sensor noise of ``sd`` grey levels: ``n_fields`` seeded fields drawn once and recycled
    (drawing a fresh 1080p field per frame would dominate the render time)."""

    def __init__(self, width: int, height: int, *, sd: float = 1.6, seed: int = 0, n_fields: int = 8):
        rng = np.random.default_rng(seed)
        self.fields = rng.normal(0.0, sd, (n_fields, height, width, 1)).astype(np.float32)

    def add(self, img_bgr: np.ndarray, frame_index: int) -> np.ndarray:
        field = self.fields[frame_index % len(self.fields)]
        return np.clip(img_bgr.astype(np.float32) + field, 0, 255).astype(np.uint8)


def composite_frame(
    background_bgr: np.ndarray,
    joints_px: dict,
    frame_index: int,
    *,
    hip_x_px: float,
    ground_y_px: float,
    px_per_m: float,
    near_side: str,
    noise: SensorNoise,
) -> np.ndarray:
    """Frame ``frame_index`` of a clip: contact shadow under the hip (drawn into ``background_bgr``), the figure
    at ``joints_px`` (name -> (N, 2) pixel positions over the clip), sensor noise."""
    from gaitlab.evaluation.synth.render import render_figure
    from gaitlab.evaluation.synth.scene import draw_ground_shadow

    draw_ground_shadow(background_bgr, hip_x_px + 0.05 * px_per_m, ground_y_px + 2, px_per_m)
    img = render_figure(
        background_bgr, {name: v[frame_index] for name, v in joints_px.items()}, near_side=near_side, px_per_m=px_per_m
    )
    return noise.add(img, frame_index)


def write_mp4(
    path: Path,
    frames_bgr: Iterable[np.ndarray],
    *,
    size_px: tuple[int, int],
    stored_fps: float,
    capture_fps: float | None = None,
    crf: int = 23,
    preset: str = "medium",
    thread_count: int | None = None,
) -> int:
    """Encode BGR frames as a phone stores them: H.264 (x264 ``tune=film``) yuv420p MP4 at ``stored_fps``,
    frame i at pts i; written atomically. Returns the number of frames.

    ``capture_fps`` (slow motion) is written as Android's ``com.android.capture.fps`` container tag.
    ``thread_count=1`` makes x264 single-threaded (the sample clip); None keeps the codec default.
    """
    import av

    rate = Fraction(stored_fps).limit_denominator(1001)
    # use_metadata_tags: write arbitrary keys (Android's capture-rate tag) into the MP4 'meta' box;
    # video_track_timescale: the stored track's time base is exactly 1/stored_fps.
    mux_opts = {"movflags": "use_metadata_tags"}
    if float(stored_fps).is_integer():
        mux_opts["video_track_timescale"] = str(int(stored_fps))
    n = 0
    with atomic_path(Path(path)) as tmp:
        with av.open(str(tmp), mode="w", format="mp4", options=mux_opts) as container:
            if capture_fps is not None:
                container.metadata[CAPTURE_FPS_TAG] = f"{capture_fps:.6f}"
            stream = container.add_stream("libx264", rate=rate)
            stream.width, stream.height = size_px
            stream.pix_fmt = "yuv420p"
            stream.time_base = Fraction(1, 1) / rate
            if thread_count is not None:
                stream.codec_context.thread_count = thread_count
            stream.options = {"crf": str(crf), "preset": preset, "tune": "film"}
            for img in frames_bgr:
                frame = yuv420p_frame(img)
                frame.pts = n
                for packet in stream.encode(frame):
                    container.mux(packet)
                n += 1
            for packet in stream.encode():
                container.mux(packet)
    return n
