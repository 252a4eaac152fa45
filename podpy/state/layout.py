"""The documented on-disk tree. Every path podpy writes is named here.

Both top directories are 0700 (as Podman keeps its storage): no other host user can traverse into
the store, read records (`-e SECRET=...`) or run a setuid file of a container's writable layer.
Inner directories keep the modes images need. A top directory with group/other bits is an older
store: `ensure_private` fixes it once (its mode is the marker; one stat per command otherwise).

<root>/                          persistent store (--root)
  storage.json                   {"driver": "overlay"|"vfs"}: chosen once per store
  store.lock                     store-wide lock: name/ID allocation, image index updates
  blobs/sha256/<hex>             content store: layers (as received), manifests, configs
  blobs/tar-split/<hex>          an uncompressed layer kept as its tree + tar headers (`load`):
                                 stands for blobs/sha256/<hex> while the layer it names exists
  ingest/                        partial blob downloads/writes (ingest -> verify -> rename)
  images/images.json             image index: records by ID and the tag -> ID map
  layers/<chainid-hex>/          one extracted layer per chain ID (shared)
      layer.json                 {chainId, diffId, parent, size, ...}
      diff/                      the extracted tree (overlay: this layer only; vfs: full snapshot)
  layers/.tmp-*                  extraction in progress (removed by the next GC)
  init-layer/                    overlay: the read-only init layer every container's rootfs stacks
                                 over its image (storage/initlayer.py; made once, shared)
  containers/<id>/container.json container record
  containers/<id>/userdata/      bundle: config.json, hosts, hostname, resolv.conf; ctr.log (k8s-file)
                                 and its rotated ctr.log.1, .2, ... (--log-opt max-size/max-file)
  containers/<id>/rw/            overlay upper+work (or vfs copy)
  volumes/<name>/volume.json, volumes/<name>/_data
  networks/<name>.json

<runroot>/                       runtime state (--runroot; tmpfs, gone after reboot)
  containers/<id>/               attach socket, merged/ (rootfs mount point), state.json (runtime),
                                 supervisor.log (its tracebacks)
  exits/<id>                     exit code of a --rm container (for a late `wait`; kept 10 minutes)
  locks/                         per-object locks
  events/events.log              the event log: one JSON line per event (podpy/events), rotated to
                                 events.log.1 at 1 MB under events/events.log.lock
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from podpy.record import record

PRIVATE_FILES = ("container.json", "userdata/config.json")  # per container: env, args, labels


@record(frozen=True)
class Layout:
    """The store's paths under --root and --runroot."""

    root: Path
    runroot: Path

    @property
    def storage_json(self) -> Path:
        return self.root / "storage.json"

    @property
    def store_lock(self) -> Path:
        return self.root / "store.lock"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def ingest(self) -> Path:
        return self.root / "ingest"

    @property
    def images_json(self) -> Path:
        return self.root / "images" / "images.json"

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    @property
    def init_layer(self) -> Path:
        return self.root / "init-layer"

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    def container_dir(self, cid: str) -> Path:
        return self.root / "containers" / cid

    def container_run_dir(self, cid: str) -> Path:
        return self.runroot / "containers" / cid

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def networks(self) -> Path:
        return self.root / "networks"

    @property
    def locks(self) -> Path:
        return self.runroot / "locks"


def ensure_private(layout: Layout) -> None:
    """Make (or migrate) --root and --runroot to 0700. Errors are left to the command that uses the
    store (a read-only or foreign store is not ours to fix)."""
    migrate = False
    for top in (layout.root, layout.runroot):
        try:
            mode = os.stat(top).st_mode
        except FileNotFoundError:
            _make_private_dir(top)
            continue
        except OSError:
            continue
        if stat.S_IMODE(mode) & 0o077:
            migrate |= _chmod(top, 0o700)
    if migrate:
        _tighten_records(layout)


def _make_private_dir(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(path, 0o700)  # the umask can only remove bits from 0700
    except FileExistsError:
        pass
    except OSError:
        return


def _chmod(path: Path, mode: int) -> bool:
    try:
        os.chmod(path, mode)
        return True
    except OSError:
        return False


def _tighten_records(layout: Layout) -> None:
    """Older stores wrote records 0644: make them 0600 too (defence in depth below the 0700 top)."""
    try:
        ids = os.listdir(layout.containers)
    except OSError:
        return
    for cid in ids:
        for name in PRIVATE_FILES:
            path = layout.container_dir(cid) / name
            if path.is_file() and not path.is_symlink():
                _chmod(path, 0o600)


def holds_nothing(path: Path) -> bool:
    """True for a missing or empty store directory (no containers, no volumes): a listing then needs
    none of the records' modules. Any other error is False: the full path reports it."""
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except FileNotFoundError:
        return True
    except OSError:
        return False
