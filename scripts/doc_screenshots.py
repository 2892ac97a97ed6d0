"""Small PNGs of an analysis for the docs: a few annotated frames and the report as a phone shows it.

Usage: python scripts/doc_screenshots.py OUT_DIR NAME [FRAME ...]
  OUT_DIR  an analysis folder with annotated.mp4 and report.html
  NAME     file stem in docs/, e.g. "sample" -> docs/annotated_sample.png, docs/report_sample.png
  FRAME    frame indices to show (default: 3 spread over the clip); stacked into one image
Needs Debian's chromium and websocket-client (dev dependency).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import av
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

WIDTH_PX = 640


def frames_png(video: Path, indices: list[int] | None) -> Image.Image:
    with av.open(str(video)) as c:
        n = c.streams.video[0].frames
        want = set(indices or [int(n * f) for f in (0.25, 0.5, 0.75)])
        shots = [f.to_image() for i, f in enumerate(c.decode(video=0)) if i in want]
    scaled = [im.resize((WIDTH_PX, round(im.height * WIDTH_PX / im.width))) for im in shots]
    out = Image.new("RGB", (WIDTH_PX, sum(im.height for im in scaled) + 4 * (len(scaled) - 1)), "white")
    y = 0
    for im in scaled:
        out.paste(im, (0, y))
        y += im.height + 4
    return out


def main() -> int:
    from chromium import find_chromium, visit

    out_dir, name = Path(sys.argv[1]), sys.argv[2]
    indices = [int(a) for a in sys.argv[3:]] or None
    docs = REPO / "docs"
    docs.mkdir(exist_ok=True)
    # a 256-colour palette (no dithering) keeps the PNG small enough for the repo (video frames compress badly as PNG)
    frames_png(out_dir / "annotated.mp4", indices).quantize(colors=256, dither=Image.Dither.NONE).save(
        docs / f"annotated_{name}.png", optimize=True
    )
    v = visit(out_dir / "report.html", chromium=find_chromium())
    if v.console_errors:
        print("console errors:", v.console_errors, file=sys.stderr)
    phone = Image.open(io.BytesIO(v.screenshots_png["phone"]))
    phone.save(docs / f"report_{name}.png", optimize=True)
    print(
        f"wrote docs/annotated_{name}.png, docs/report_{name}.png; requests: "
        f"{sorted({u.split(':')[0] for u in v.requests})}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
