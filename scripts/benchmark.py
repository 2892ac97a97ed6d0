#!/usr/bin/env python3
"""Time gaitlab on one clip against a plain MediaPipe loop; print a table (see gaitlab/evaluation/benchmark.py).

python scripts/benchmark.py                                   # the sample clip, all measurements
python scripts/benchmark.py /tmp/long_1080p.mp4 --only cold,cached --json bench.json
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gaitlab.evaluation.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
