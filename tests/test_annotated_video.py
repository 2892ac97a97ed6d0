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


# ---------------------------------------------------------------- legible on a phone: text scales, counters run


def _bright_rows(band: np.ndarray) -> np.ndarray:
    """Rows of a decoded band holding white text (every channel bright: not the backdrop, not the scene)."""
    return np.flatnonzero((band.min(axis=-1) > 180).sum(axis=1) >= 2)


def _annotated(tmp_path, width, height, n=8):
    clip = make_clip(tmp_path / f"in_{height}.mp4", width=width, height=height, n=n)
    frames, contacts, steps, summary = tables(n=n, fps=FPS, contacts=[("left", 0.05, 0.15, 0.1)])
    summary.update(frame_size_px=[width, height], capture_fps=float(FPS))
    ov = overlay_from_tables(frames, contacts, steps, summary)
    info = probe(clip)
    res = write_annotated_video(info, ov, tmp_path / f"a_{height}.mp4", show_progress=False)
    ann = FrameAnnotator(ov, out_size_px=res.size_px, clock_slowmo=info.slowmo_factor)  # as the writer makes it
    return ann, decode_all(res.path)[3]


def test_counter_text_scales_with_frame_height_and_changes_every_frame(tmp_path):
    heights = {}
    for width, height in ((960, 540), (1920, 1080)):
        ann, frames = _annotated(tmp_path, width, height)
        b = ann.counter_box
        band = frames[5][b.y0 : b.y1, b.x0 : b.x1]
        rows = _bright_rows(band)
        assert rows.size, f"no text in the counter band at {height}p"
        heights[height] = rows[-1] - rows[0] + 1  # capitals and digits: no descender in "0.167 s   frame 5"
        # legible on a phone held upright: capitals at least 3.5 % of the frame height
        assert heights[height] >= 0.035 * height, (height, heights[height])
        # the band is a readable backdrop: dark around the text (the clip behind it is grey 90)
        assert np.median(band) < 60
        # the counters change from frame to frame: the band's pixels differ
        a = frames[5][b.y0 : b.y1, b.x0 : b.x1].astype(int)
        c = frames[6][b.y0 : b.y1, b.x0 : b.x1].astype(int)
        assert (np.abs(a - c).max(axis=-1) > 100).sum() > 0.005 * a.shape[0] * a.shape[1]
    assert heights[1080] / heights[540] == pytest.approx(2.0, rel=0.15)


def _counter_band_like(clip, index, ov, capture_fps):
    """The counter band of frame ``index`` of ``clip`` as the annotator draws it for ``capture_fps``."""
    ann = FrameAnnotator(ov, out_size_px=(W, H), capture_fps=capture_fps, clock_slowmo=1.0)
    img = decode_all(clip)[3][index].copy()
    ann.draw_counters(img, index, float(ov.time_s[index]))
    return ann, img.astype(int)


def test_cli_annotate_capture_fps_changes_the_time_shown(tmp_path):
    import json
    import subprocess
    import sys

    from conftest import REPO

    clip = make_clip(tmp_path / "clip.mp4")
    out = tmp_path / "clip.gaitlab"
    out.mkdir()
    frames, contacts, steps, summary = tables(n=N_FRAMES, fps=FPS, contacts=[("left", 0.2, 0.8, 0.6)])
    summary.update(capture_fps=float(FPS), slowmo_factor=1.0)  # analysed as real time: 30 fps
    (out / "summary.json").write_text(json.dumps(summary))
    for name, table in (("frames", frames), ("contacts", contacts), ("steps", steps)):
        table.to_csv(out / f"{name}.csv", index=False)
    ov = overlay_from_tables(frames, contacts, steps, summary)
    k = 24  # 0.800 s at 30 fps, 0.100 s at 240 fps
    shown = {}
    for fps in (None, 240.0):
        extra = [] if fps is None else ["--capture-fps", str(fps)]
        r = subprocess.run(
            [sys.executable, "-m", "gaitlab.cli", "annotate", str(clip), "--out", str(out), "-q", *extra],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        assert ("differs from the 30 fps the analysis used" in r.stderr) == (fps is not None), r.stderr
        shown[fps] = decode_all(out / "annotated.mp4")[3][k]
    for fps, other in ((None, 240.0), (240.0, None)):
        ann, want = _counter_band_like(clip, k, ov, fps)
        _, wrong = _counter_band_like(clip, k, ov, other)
        band = np.s_[: ann.counter_box.y1 + 1, : W // 2]  # both counters' bands
        got = shown[fps].astype(int)
        # the video shows this time base's counter, not the other's
        assert np.abs(got - want)[band].mean() < 0.5 * np.abs(got - wrong)[band].mean(), fps
    assert ann.counter_text(k, float(ov.time_s[k])) == "0.100 s   frame 24   8x slow-mo"
    assert _counter_band_like(clip, k, ov, None)[0].counter_text(k, float(ov.time_s[k])) == "0.800 s   frame 24"
