"""vfs driver: every layer and every container is a full copy. Slow and big, but works anywhere."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from podpy.storage import _mount, initlayer
from podpy.storage.diffwalk import Entry, vfs_entries
from podpy.storage.driver import Driver
from podpy.storage.fsutil import copy_tree, force_rmtree


class VfsDriver(Driver):
    name = "vfs"

    def rootfs(self, cid: str) -> Path:
        return self.rw_dir(cid) / "rootfs"

    def create_rw(self, cid: str, top_chain: str | None) -> None:
        dst = self.rootfs(cid)
        if dst.exists():
            return
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(".rootfs.tmp")
        force_rmtree(tmp)  # a copy a killed process left behind
        if top_chain is None:
            tmp.mkdir(mode=0o755)
        else:
            copy_tree(self.layers.diff_path(top_chain), tmp)
        os.rename(tmp, dst)  # a half-made copy never looks like the container's rootfs

    def mount_options(self, cid: str, top_chain: str | None) -> tuple[str, str]:
        return "bind", str(self.rootfs(cid))

    def prepare_start(self, cid: str, top_chain: str | None) -> None:
        initlayer.sanitize(self.rootfs(cid))  # no init layer under a copy: fix the copy itself

    def _mount(self, cid: str, top_chain: str | None, target: str) -> None:
        _mount.mount(str(self.rootfs(cid)), target, None, _mount.MS_BIND)

    def _entries(self, cid: str, top_chain: str | None) -> Iterable[Entry]:
        lower = None if top_chain is None else self.layers.diff_path(top_chain)
        return vfs_entries(self.rootfs(cid), lower)
