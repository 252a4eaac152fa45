"""`podpy __names KIND [--root DIR]`: live names for shell completion.

Runs on every TAB, so it imports only os/json (no CLI framework, no dataclasses) and never fails loudly.
"""

from __future__ import annotations

import json
import os
import sys


def _load(path: str) -> dict:
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _familiar(name: str) -> str:
    """docker.io/library/busybox:latest -> busybox:latest (the store keeps normalised names)."""
    return name[10:].removeprefix("library/") if name.startswith("docker.io/") else name


def image_names(root: str) -> list[str]:
    images = _load(f"{root}/images/images.json").get("images", {})
    return [_familiar(n) for img in images.values() for n in img.get("names", [])]


def _containers(root: str, want: str = "") -> list[str]:
    """Names and short IDs; `want` keeps those running, paused or stopped (the recorded state, a
    running one checked by its init's /proc entry: no reconciliation, this runs on every TAB)."""
    base = f"{root}/containers"
    out = []
    for cid in os.listdir(base) if os.path.isdir(base) else []:
        doc = _load(f"{base}/{cid}/container.json")
        name = doc.get("name")
        if not name:
            continue
        if want:
            st = doc.get("state") or {}
            pid = st.get("pid") or 0
            running = st.get("status") in ("running", "restarting") and pid > 0 and os.path.exists(f"/proc/{pid}")
            paused = running and bool(st.get("paused"))
            state = "paused" if paused else "running" if running else "stopped"
            if state != want:
                continue
        out.extend([name, cid[:12]])
    return out


def container_names(root: str) -> list[str]:
    return _containers(root)


def volume_names(root: str) -> list[str]:
    base = f"{root}/volumes"
    return [v for v in (os.listdir(base) if os.path.isdir(base) else []) if not v.startswith(".")]


def network_names(root: str) -> list[str]:
    base = f"{root}/networks"
    names = [f[:-5] for f in (os.listdir(base) if os.path.isdir(base) else []) if f.endswith(".json")]
    return names or ["bridge", "host", "none"]


KINDS = {
    "images": image_names,
    "containers": container_names,
    "containers-running": lambda root: _containers(root, "running"),
    "containers-stopped": lambda root: _containers(root, "stopped"),
    "containers-paused": lambda root: _containers(root, "paused"),
    "container-refs": lambda root: ["container:" + n for n in _containers(root)],  # --network container:NAME
    "container-paths": lambda root: [n + ":" for n in _containers(root)],  # cp CTR:PATH
    "volumes": volume_names,
    "networks": network_names,
}


def _root(args: list[str]) -> str:
    for i, a in enumerate(args):
        if a == "--root" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--root="):
            return a.split("=", 1)[1]
    from podpy.paths import default_root

    return str(default_root())


def main(args: list[str]) -> int:
    """Prints one name per line for KIND (images, containers, volumes, networks)."""
    fn = KINDS.get(args[0] if args else "images")
    try:
        names = fn(_root(args[1:])) if fn else []
    except OSError:
        names = []
    sys.stdout.write("".join(n + "\n" for n in sorted(set(names))))
    return 0
