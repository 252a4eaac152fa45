"""overlay driver: each layer's diff is a lowerdir; the container gets rw/{upper,work}."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from podpy.errors import StorageError
from podpy.storage import _mount, initlayer
from podpy.storage.driver import Driver

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from podpy.storage.diffwalk import Entry

# mount(2) copies at most one page of options
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _esc(path: str) -> str:
    """overlayfs splits lowerdir on ':' and options on ','; a backslash escapes both."""
    return path.replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,")


class OverlayDriver(Driver):
    name = "overlay"

    def _lowers(self, top_chain: str | None) -> list[Path]:
        """The image's layer diffs, top first (none for `FROM scratch`)."""
        if top_chain is None:
            return []
        return [self.layers.diff_path(r.chain_id) for r in self.layers.lineage(top_chain)]

    def _init_layer(self) -> Path:
        """The init layer (see initlayer), one per store: a read-only lowerdir whose content is the
        same for every container, so none is made at create nor removed at rm (a dozen directory
        operations each, several ms on a busy disk)."""
        init = self.layers.layout.init_layer
        initlayer.make(init)
        return init

    def _mount_lowers(self, cid: str, top_chain: str | None) -> list[Path]:
        """The init layer over the image's layers (see initlayer): what the rootfs mount stacks."""
        lowers = [self._init_layer(), *self._lowers(top_chain)]  # overlayfs needs a lowerdir: `FROM scratch` too
        maps = self._idmap(cid) if self.rootless else None
        if maps is None:
            return lowers
        from podpy.storage import idshift  # rootless --uidmap: ID-shifted copies of the lowers

        k = idshift.key(*maps)
        pairs = [(x, x.with_name(f"{x.name}.{k}")) for x in lowers]
        idshift.ensure(pairs, *maps)
        return [d for _, d in pairs]

    def use_idmap(self, cid: str, uids: object, gids: object) -> None:
        """Rootless --uidmap: this container's lowers are copies shifted by the mapping (container id
        -> id of the user's own namespace), see idshift."""
        from podpy.state import atomic_write_json

        atomic_write_json(self.rw_dir(cid) / "idmap.json", {"uids": uids, "gids": gids}, durable=False)

    def _idmap(self, cid: str) -> tuple[list, list] | None:
        try:
            doc = json.loads((self.rw_dir(cid) / "idmap.json").read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise StorageError(f"container {cid[:12]}: unreadable ID mapping: {e}") from None
        return [tuple(t) for t in doc["uids"]], [tuple(t) for t in doc["gids"]]

    def create_rw(self, cid: str, top_chain: str | None) -> None:
        rw = self.rw_dir(cid)
        for d in ("upper", "work"):
            (rw / d).mkdir(parents=True, exist_ok=True)
        if top_chain is not None:  # the merged root takes its owner and mode from the upper dir: give it the image's
            st = os.stat(self.layers.diff_path(top_chain))
            if os.geteuid() == 0:
                os.chown(rw / "upper", st.st_uid, st.st_gid)
            os.chmod(rw / "upper", stat.S_IMODE(st.st_mode))
        self.mount_options(cid, top_chain)  # makes the short links now if the chain needs them

    def prepare_start(self, cid: str, top_chain: str | None) -> None:
        self._init_layer()  # config.json names it as a lowerdir
        legacy = self.rw_dir(cid) / "init"  # a container created when each had its own
        if legacy.is_dir():
            initlayer.make(legacy)
        initlayer.unshadow(self.rw_dir(cid) / "upper")  # a symlink left there would hide the init layer

    def _data(self, lowers: list[str], upper: str, work: str) -> str:
        data = f"lowerdir={':'.join(_esc(x) for x in lowers)},upperdir={_esc(upper)},workdir={_esc(work)}"
        if self.rootless:
            return data + ",userxattr"  # which also turns redirects and metacopy off
        # a renamed directory or a metadata-only copy-up would leave data in the lower layers,
        # and rw_tar (commit) reads the upper dir alone: whatever the kernel's defaults, turn both off
        return data + ",redirect_dir=off,metacopy=off"

    def mount_options(self, cid: str, top_chain: str | None) -> tuple[str, str]:
        rw = self.rw_dir(cid)
        lowers = self._mount_lowers(cid, top_chain)
        data = self._data([str(x) for x in lowers], str(rw / "upper"), str(rw / "work"))
        if len(data) < PAGE:
            return "overlay", data
        self._short_links(rw, lowers)
        return "overlay", self._data([f"l/{i}" for i in range(len(lowers))], "upper", "work")

    @staticmethod
    def _short_links(rw: Path, lowers: list[Path]) -> None:
        """rw/l/<n> -> the n-th lowerdir, so a long chain fits in a page as relative paths."""
        links = rw / "l"
        links.mkdir(exist_ok=True)
        for i, lower in enumerate(lowers):
            link = links / str(i)
            if not link.is_symlink() or os.readlink(link) != str(lower):
                tmp = links / f".{i}.tmp"
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(lower)
                os.replace(tmp, link)

    def _mount(self, cid: str, top_chain: str | None, target: str) -> None:
        _, data = self.mount_options(cid, top_chain)
        if "upperdir=/" in data:
            _mount.mount("overlay", target, "overlay", 0, data)
            return
        old = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:  # relative paths: resolved against our cwd by mount(2)
            os.chdir(self.rw_dir(cid))
            _mount.mount("overlay", target, "overlay", 0, data)
        finally:
            os.fchdir(old)
            os.close(old)

    def _entries(self, cid: str, top_chain: str | None) -> Iterable[Entry]:
        from podpy.storage.diffwalk import LowerView, overlay_entries  # diff/commit only

        lower = LowerView(self._lowers(top_chain))
        return overlay_entries(self.rw_dir(cid) / "upper", lower)
