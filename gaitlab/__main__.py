"""``python -m gaitlab``: the same command line as ``gaitlab``."""

from gaitlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
