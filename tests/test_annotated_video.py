"""annotated.mp4 as a player sees it: H.264, yuv420p, every input frame, written atomically."""

from fractions import Fraction

import av
import numpy as np
import pytest

from gaitlab.core.errors import BadInputError
from gaitlab.io.video import probe
from gaitlab.outputs.annotate import FrameAnnotator
from gaitlab.outputs.annotate_video import write_annotated_video
from gaitlab.outputs.draw import NEAR_RGB, timeline_x
from gaitlab.outputs.overlay import overlay_from_tables
from test_annotate import H, W, tables

pytestmark = pytest.mark.integration

N_FRAMES, FPS = 48, 30


def make_clip(path, *, width=W, height=H, n=N_FRAMES, fps=FPS):
    """A small real MP4 (MPEG-4 part 2, as old phones and OpenCV write) with a moving bright square."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i in range(n):
            img = np.full((height, width, 3), 90, np.uint8)
            img[40:80, 10 + 4 * i : 50 + 4 * i] = 230
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def decode_all(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        return s.codec_context.name, s.codec_context.pix_fmt, s.average_rate, frames


@pytest.fixture
def clip_and_overlay(tmp_path):
    clip = make_clip(tmp_path / "in.mp4")
    contacts = [("left", 0.2, 0.8, 0.6)]
    ov = overlay_from_tables(*tables(n=N_FRAMES, fps=FPS, contacts=contacts))
    return clip, ov


def test_h264_yuv420p_every_frame(clip_and_overlay, tmp_path):
    clip, ov = clip_and_overlay
    out = tmp_path / "annotated.mp4"
    res = write_annotated_video(probe(clip), ov, out, show_progress=False)
    codec, pix_fmt, rate, frames = decode_all(out)
    assert (codec, pix_fmt) == ("h264", "yuv420p")
    assert len(frames) == N_FRAMES == res.frames_written
    assert frames[0].shape == (H, W, 3)
    assert float(rate) == pytest.approx(FPS, rel=1e-3)
    # the contact bar on the timeline survives encoding in the near leg's colour (wide area: chroma-safe)
    ann = FrameAnnotator(ov, out_size_px=(W, H))
    x = timeline_x(0.5, 0.0, (N_FRAMES - 1) / FPS, ann.label_w, W)
    y = H - ann.strip_h + ann.strip_h // 4
    assert np.abs(frames[20][y, x].astype(int) - NEAR_RGB).max() < 40
    assert not list(tmp_path.glob(".*.tmp"))


def test_slowmo_keeps_frames_and_lowers_rate(clip_and_overlay, tmp_path):
    clip, ov = clip_and_overlay
    out = tmp_path / "slow.mp4"
    write_annotated_video(probe(clip), ov, out, slowmo_factor=4, show_progress=False)
    _, _, rate, frames = decode_all(out)
    assert len(frames) == N_FRAMES
    assert float(rate) == pytest.approx(FPS / 4, rel=1e-3)


def test_crop_follows_athlete(clip_and_overlay, tmp_path):
    clip, ov = clip_and_overlay
    out = tmp_path / "crop.mp4"
    write_annotated_video(probe(clip), ov, out, crop=True, show_progress=False)
    _, _, _, frames = decode_all(out)
    assert len(frames) == N_FRAMES and frames[0].shape == (H, W, 3)


def test_odd_size_is_padded_to_even(tmp_path):
    # mpeg4 itself needs even sizes, so make the odd clip with libx264 in yuv444p
    path = tmp_path / "odd.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = 321, 181, "yuv444p"
        for _ in range(6):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((181, 321, 3), 100, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    frames, contacts, steps, summary = tables(n=6, fps=FPS)
    summary["frame_size_px"] = [321, 181]
    res = write_annotated_video(
        probe(path), overlay_from_tables(frames, contacts, steps, summary), tmp_path / "a.mp4", show_progress=False
    )
    codec, pix_fmt, _, decoded = decode_all(res.path)
    assert (codec, pix_fmt, len(decoded), decoded[0].shape) == ("h264", "yuv420p", 6, (182, 322, 3))


def test_other_clip_size_is_refused(clip_and_overlay, tmp_path):
    clip, _ = clip_and_overlay
    frames, contacts, steps, summary = tables(n=N_FRAMES)
    summary["frame_size_px"] = [1920, 1080]
    with pytest.raises(BadInputError, match="not the same clip"):
        write_annotated_video(
            probe(clip), overlay_from_tables(frames, contacts, steps, summary), tmp_path / "x.mp4", show_progress=False
        )
    assert not (tmp_path / "x.mp4").exists()


def test_failure_midway_leaves_no_file(clip_and_overlay, tmp_path, monkeypatch):
    clip, ov = clip_and_overlay
    out = tmp_path / "annotated.mp4"
    out.write_bytes(b"previous good video")
    calls = {"n": 0}
    original = FrameAnnotator.annotate

    def failing(self, img, index, **kw):
        calls["n"] += 1
        if calls["n"] == 10:
            raise RuntimeError("boom")
        return original(self, img, index, **kw)

    monkeypatch.setattr(FrameAnnotator, "annotate", failing)
    with pytest.raises(RuntimeError):
        write_annotated_video(probe(clip), ov, out, show_progress=False)
    assert out.read_bytes() == b"previous good video"
    assert not list(tmp_path.glob(".*.tmp"))


def test_rate_fraction_is_exact_for_ntsc():
    from gaitlab.io.video_writer import rate_fraction

    assert rate_fraction(30000 / 1001) == Fraction(30000, 1001)
