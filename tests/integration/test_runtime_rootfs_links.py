"""The built-in runtime alone (no init layer in front of it: a bundle on a plain directory) on a rootfs
whose /dev, /proc, /sys, /dev/shm, /dev/pts or /etc/hosts is a symlink to a host directory: every
mount, device node, link, console and sysctl lands inside the rootfs, never on the host."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.escape_images import CASES, PROBE, SECRET, SENTINEL, link_target, make_marker, snapshot
from tests.integration import runtime_fixtures as rf
from tests.integration.runtime_fixtures import Harness, read_pty

harness = rf.harness
rootfs = rf.rootfs
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def _crafted(rootfs: Path, tmp_path: Path, image_path: str, target: str) -> Path:
    root = tmp_path / "crafted"
    shutil.copytree(rootfs, root, symlinks=True)
    victim = root / image_path
    if victim.is_dir() and not victim.is_symlink():
        shutil.rmtree(victim)
    elif victim.exists():
        victim.unlink()
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.symlink_to(target)
    return root


def _extras(cfg: dict[str, Any]) -> None:
    """A listed device and a sysctl on top of the defaults: more writes that must stay inside."""
    cfg["linux"].setdefault("devices", []).append(
        {"path": "/dev/podpy-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0}
    )
    cfg["linux"].setdefault("sysctl", {})["net.ipv4.ping_group_range"] = "0 0"


@pytest.mark.parametrize("terminal", [False, True], ids=["pipes", "tty"])
@pytest.mark.parametrize("relative", [False, True], ids=["abs", "rel"])
@pytest.mark.parametrize("image_path", list(CASES))
def test_builtin_runtime_keeps_writes_inside(harness: Harness, rootfs: Path, tmp_path: Path,
                                             image_path: str, relative: bool, terminal: bool) -> None:  # fmt: skip
    marker = make_marker(tmp_path / "host" / "marker", CASES[image_path])
    before = snapshot(marker)
    root = _crafted(rootfs, tmp_path, image_path, link_target(marker, image_path, relative))
    run = harness.start("sh", "-c", PROBE + "; test -c /dev/podpy-null", rootfs=root, terminal=terminal,
                        edit=_extras)  # fmt: skip
    out = read_pty(run.started.pty_master).decode() if terminal else ""
    res = harness.finish(run)
    assert snapshot(marker) == before, f"the host's {marker} changed"
    out += res.out
    assert SECRET not in out
    assert res.code == 0, res
    assert "probe-done" in out


@pytest.mark.parametrize("relative", [False, True], ids=["abs", "rel"])
def test_mount_destinations_through_links_stay_inside(harness: Harness, rootfs: Path, tmp_path: Path,
                                                      relative: bool) -> None:  # fmt: skip
    """Bind (directory and file) and tmpfs destinations below a symlink: resolved in the rootfs, made
    there when missing, and mounted there by descriptor."""
    marker = make_marker(tmp_path / "host" / "marker", "dir")
    before = snapshot(marker)
    root = _crafted(rootfs, tmp_path, "mnt/target", link_target(marker, "mnt/target", relative))
    src = tmp_path / "src"
    src.mkdir()
    (src / "data").write_text("bound\n")

    def mounts(cfg: dict[str, Any]) -> None:
        cfg["mounts"] += [
            {"destination": "/mnt/target/dir", "type": "bind", "source": str(src), "options": ["rbind", "ro"]},
            {"destination": "/mnt/target/file", "type": "bind", "source": str(src / "data"), "options": ["bind"]},
            {"destination": "/mnt/target/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
        ]

    res = harness.run("sh", "-c", "cat /mnt/target/dir/data /mnt/target/file; touch /mnt/target/tmp/x && echo tmp-ok; "
                      "touch /mnt/target/dir/y 2>/dev/null || echo ro-ok", rootfs=root, edit=mounts)  # fmt: skip
    assert snapshot(marker) == before
    assert res.code == 0, res
    assert res.out == "bound\nbound\ntmp-ok\nro-ok\n"
    assert sorted(p.name for p in src.iterdir()) == ["data"]


def test_swap_after_resolution_cannot_redirect_the_mount(tmp_path: Path) -> None:
    """CVE-2021-30465's pattern: the destination is swapped for a link to the host after it was
    resolved. The mount goes onto the descriptor, so it still lands on what was resolved."""
    from podpy.inroot import Root
    from podpy.runtime import syscalls as sc
    from podpy.runtime.builtin import mounts

    marker = make_marker(tmp_path / "host" / "marker", "dir")
    (tmp_path / "rootfs" / "vol" / "dst").mkdir(parents=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        code = 1
        try:
            sc.unshare(sc.CLONE_NEWNS)
            sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
            with Root(tmp_path / "rootfs") as root:
                fd = root.mkdirs("vol/dst")
                os.rename(tmp_path / "rootfs" / "vol", tmp_path / "rootfs" / "vol.old")
                (tmp_path / "rootfs" / "vol").mkdir()
                (tmp_path / "rootfs" / "vol" / "dst").symlink_to(str(marker))
                mounts._mount_at(fd, "tmpfs", "tmpfs", 0, "size=1m")
            (tmp_path / "rootfs" / "vol.old" / "dst" / "in-tmpfs").write_text("x")
            found = sorted(p.name for p in marker.iterdir())
            os.write(w, ",".join(found).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    seen = os.read(r, 1000).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    assert seen == SENTINEL  # the host directory got no tmpfs and no new file
    assert not (tmp_path / "rootfs" / "vol.old" / "dst" / "in-tmpfs").exists()  # it was on the tmpfs
