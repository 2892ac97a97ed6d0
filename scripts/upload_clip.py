#!/usr/bin/env python3
"""Upload clips into the team library: the same code as ``gaitlab upload`` (same arguments).

python scripts/upload_clip.py CLIP... --athlete NAME [--session YYYY-MM-DD] [--library DIR]
                              [--capture-fps FPS] [--no-analyze] [--model M] [--config FILE] [--annotate]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gaitlab.cli import main

if __name__ == "__main__":
    sys.exit(main(["upload", *sys.argv[1:]]))
