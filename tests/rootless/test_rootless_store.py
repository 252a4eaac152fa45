"""A rootless store is private too (issue 8, item 3): 0700 at the top, so no other host user reaches
the records or the container's files, while the container (subordinate ids included) still runs."""

from __future__ import annotations

import os
import stat
import subprocess

from tests.rootless.conftest import Rootless


def _as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", "nobody", "--", *argv], capture_output=True, text=True, timeout=30)


def test_store_private_and_containers_still_work(rl: Rootless) -> None:
    os.chmod(rl.user.home, 0o755)  # so only the store's own mode can stop another user
    # a non-root user inside the container (a subordinate id on the host) reads and runs image files
    user = ["-u", "1000"] if rl.user.kind == "subuid" else []  # a single-id map has no uid 1000
    res = rl("run", "--rm", *user, "-e", "SECRET=hunter2", "busybox", "sh", "-c",
             "cat /etc/hostname >/dev/null && ls /bin | head -1 && echo ok")  # fmt: skip
    assert res.stdout.strip().endswith("ok")
    cid = rl("run", "-d", "-e", "SECRET=hunter2", "busybox", "sleep", "60").stdout.strip()
    store, runroot = rl.store(), rl.user.runtime_dir / "podpy"
    for top in (store, runroot):
        assert stat.S_IMODE(os.stat(top).st_mode) == 0o700 and os.stat(top).st_uid == rl.user.uid
    record = store / "containers" / cid / "container.json"
    assert stat.S_IMODE(os.stat(record).st_mode) == 0o600
    for argv in (["ls", str(store)], ["cat", str(record)],
                 ["cat", str(store / "containers" / cid / "userdata" / "config.json")]):  # fmt: skip
        out = _as_nobody(*argv)
        assert out.returncode != 0 and "hunter2" not in out.stdout, argv
    assert rl("exec", cid, "echo", "inside").stdout == "inside\n"
    rl("rm", "-f", cid)


def test_vfs_store_private_and_usable(rl: Rootless) -> None:
    """vfs: the rootfs is a plain directory of the store; a subordinate uid still runs from it."""
    tar, root = rl.user.home / "img.tar", rl.user.home / "vfs-store"
    rl("save", "-o", str(tar), "busybox")
    vfs = ("--root", str(root), "--runroot", str(rl.user.runtime_dir / "vfs-run"), "--storage-driver", "vfs")
    rl(*vfs, "load", "-i", str(tar))
    user = ["-u", "1000"] if rl.user.kind == "subuid" else []
    assert rl(*vfs, "run", "--rm", *user, "busybox", "sh", "-c", "ls /bin >/dev/null && echo ok").stdout == "ok\n"
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    assert _as_nobody("ls", str(root)).returncode != 0
    rl(*vfs, "rmi", "-af", check=False)
