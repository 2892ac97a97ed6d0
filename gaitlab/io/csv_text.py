"""Text cells of CSV files that people open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some, a tab or carriage return) as a formula, so a clip named
``=HYPERLINK(...).mp4`` or an error message quoting it could run code on the
coach's machine. Every writer of names, paths or messages into a CSV passes
them through :func:`csv_safe_text`; numbers are written as numbers and never
pass through it.
"""

from __future__ import annotations

# First characters a spreadsheet may read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_text(text: str) -> str:
    """``text`` with a leading ``'`` when it starts like a formula, so spreadsheets show it as text.

    Carriage returns become line feeds: Python's CSV writer with ``\n`` line ends
    quotes a cell holding a line feed but not one holding a lone carriage return,
    which every reader would take for the end of the row.
    """
    text = "'" + text if text.startswith(FORMULA_STARTS) else text
    return text.replace("\r\n", "\n").replace("\r", "\n")
