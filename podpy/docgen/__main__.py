"""`python -m podpy.docgen [--check] [--out DIR]`: regenerate completions/ and man/ (or check them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The source checkout: podpy/docgen/__main__.py → the repository root.
REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    from podpy.docgen import differences, generated, write

    ap = argparse.ArgumentParser(prog="python -m podpy.docgen", description=__doc__)
    ap.add_argument("--check", action="store_true", help="only report files that are out of date (exit 1 if any)")
    ap.add_argument("--out", type=Path, default=REPO, help="directory holding completions/ and man/ (default: %(default)s)")
    opts = ap.parse_args(argv)
    files = generated()
    if opts.check:
        diff = differences(opts.out, files)
        for rel in diff:
            print(f"out of date: {rel}")
        if diff:
            print("regenerate with: python -m podpy.docgen", file=sys.stderr)
        return 1 if diff else 0
    for rel in write(opts.out, files):
        print(f"wrote {rel}" if (opts.out / rel).exists() else f"removed {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
