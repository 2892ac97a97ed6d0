"""Regenerate gaitlab/data/known_error.json from the results table of docs/accuracy.md.

    python scripts/known_error_from_doc.py [docs/accuracy.md] [--out gaitlab/data/known_error.json]

For when the accuracy rows are not at hand as JSON: ``scripts/evaluate_accuracy.py`` itself can
call ``gaitlab.known_error.write_known_error_json(rows)`` with its rows. The table's headers are
mapped to row keys with the script's ``COLUMNS``; "-" cells are missing values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from evaluate_accuracy import COLUMNS  # noqa: E402

from gaitlab.known_error import DATA_PATH, write_known_error_json  # noqa: E402


def _cell(text: str):
    text = text.strip()
    if text in ("", "-"):
        return None
    try:
        return float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
    except ValueError:
        return text


def rows_from_markdown(text: str, columns=COLUMNS) -> list[dict]:
    """The rows of the first markdown table whose header row holds "trial" and "source"."""
    key_of = {header: key for key, header, _ in columns}
    lines = [ln.strip() for ln in text.splitlines()]
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| trial | source"))
    headers = [h.strip() for h in lines[start].strip("|").split("|")]
    unknown = [h for h in headers if h not in key_of]
    if unknown:
        raise SystemExit(f"headers not in evaluate_accuracy COLUMNS: {unknown}")
    rows = []
    for ln in lines[start + 2 :]:
        if not ln.startswith("|"):
            break
        cells = [_cell(c) for c in ln.strip("|").split("|")]
        rows.append({key_of[h]: v for h, v in zip(headers, cells)})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("doc", nargs="?", type=Path, default=REPO / "docs" / "accuracy.md")
    p.add_argument("--out", type=Path, default=DATA_PATH)
    args = p.parse_args(argv)
    rows = rows_from_markdown(args.doc.read_text(encoding="utf-8"))
    table = write_known_error_json(rows, args.out)
    print(f"{len(rows)} rows -> {args.out} ({', '.join(sorted(table['errors']))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
