"""The documented on-disk tree. Every path podpy writes is named here.

<root>/                          persistent store (--root)
  storage.json                   {"driver": "overlay"|"vfs"}: chosen once per store
  store.lock                     store-wide lock: name/ID allocation, image index updates
  blobs/sha256/<hex>             content store: layers (as received), manifests, configs
  ingest/                        partial blob downloads/writes (ingest -> verify -> rename)
  images/images.json             image index: records by ID and the tag -> ID map
  layers/<chainid-hex>/          one extracted layer per chain ID (shared)
      layer.json                 {chainId, diffId, parent, size, ...}
      diff/                      the extracted tree (overlay: this layer only; vfs: full snapshot)
  layers/.tmp-*                  extraction in progress (removed by the next GC)
  containers/<id>/container.json container record
  containers/<id>/userdata/      bundle: config.json, hosts, hostname, resolv.conf; ctr.log (k8s-file)
  containers/<id>/rw/            overlay upper+work (or vfs copy)
  volumes/<name>/volume.json, volumes/<name>/_data
  networks/<name>.json

<runroot>/                       runtime state (--runroot; tmpfs, gone after reboot)
  containers/<id>/               attach socket, merged/ (rootfs mount point), state.json (runtime),
                                 supervisor.log (its tracebacks)
  exits/<id>                     exit code of a --rm container (for a late `wait`; kept 10 minutes)
  locks/                         per-object locks
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
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
