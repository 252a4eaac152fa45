"""`podpy __names KIND`: live names for shell completion, without importing the CLI framework."""

from __future__ import annotations

import json
import sys


def image_names(root: str) -> list[str]:
    from podpy.image.reference import familiar

    try:
        with open(f"{root}/images/images.json") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return []
    out = []
    for img in doc.get("images", {}).values():
        out.extend(familiar(n) for n in img.get("names", []))
    return out


def main(args: list[str]) -> int:
    """args: KIND [--root DIR]. Prints one name per line; never fails loudly (completion must not)."""
    from podpy.config import Options

    root = None
    if "--root" in args:
        i = args.index("--root")
        root = args[i + 1] if i + 1 < len(args) else None
    opts = Options.from_env(root=root)
    kind = args[0] if args else "images"
    names = image_names(str(opts.root)) if kind == "images" else []
    sys.stdout.write("".join(n + "\n" for n in sorted(set(names))))
    return 0
