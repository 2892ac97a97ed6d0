"""BGR renders -> yuv420p frames for the synthetic clips (sample clip, mocap-driven accuracy clips)."""

from __future__ import annotations

import numpy as np


def yuv420p_frame(img_bgr: np.ndarray):
    """BGR image -> PyAV yuv420p frame (BT.601 limited range, via OpenCV), row padding zeroed.

    The rendered pixels are bit-exact on every run (fixed seed). The libx264 bitstream
    was still seen to differ slightly between identical runs (single-threaded, same
    input), so reruns decode to nearly, not exactly, the same pixels.
    """
    import av
    import cv2

    h, w = img_bgr.shape[:2]
    i420 = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2YUV_I420)
    planes = (i420[:h], i420[h:h + h // 4].reshape(h // 2, w // 2), i420[h + h // 4:].reshape(h // 2, w // 2))
    frame = av.VideoFrame(w, h, "yuv420p")
    for plane, data in zip(frame.planes, planes):
        buf = np.zeros((plane.buffer_size // plane.line_size, plane.line_size), np.uint8)
        buf[: data.shape[0], : data.shape[1]] = data
        plane.update(buf)
    return frame
