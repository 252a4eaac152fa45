"""Sample images made on this host, no registry needed: a busybox root filesystem from Debian's
busybox-static (`podpy image import-busybox`, scripts/install.sh and every test tier use it)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
BUSYBOX_CMD = 'CMD ["/bin/sh"]'  # the --change an imported busybox image gets

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
"""
GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
tty:x:5:
www-data:x:33:
users:x:100:www-data
nogroup:x:65534:
"""


def applets() -> list[str]:
    out = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout
    return [a for a in out.split() if a and "/" not in a and a != "busybox"]


def make_rootfs(target: Path) -> Path:
    """A minimal busybox root: /bin/busybox, one symlink per applet, /etc/passwd and /etc/group."""
    for d in ("bin", "etc", "root", "tmp", "home", "var/www", "usr/sbin", "proc", "sys", "dev"):
        (target / d).mkdir(parents=True, exist_ok=True)
    os.chmod(target / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, target / "bin" / "busybox")
    for name in applets():
        link = target / "bin" / name
        if not link.exists():
            link.symlink_to("busybox")
    (target / "etc" / "passwd").write_text(PASSWD)
    (target / "etc" / "group").write_text(GROUP)
    return target


def make_rootfs_tar(path: Path) -> Path:
    """The same tree as an uncompressed tar (what `podpy import` takes), owned by root."""
    staging = path.parent / (path.name + ".d")
    make_rootfs(staging)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:

        def as_root(ti: tarfile.TarInfo) -> tarfile.TarInfo:
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            ti.mtime = 1700000000  # fixed: the same tar every time, so the same image ID
            return ti

        for entry in sorted(staging.rglob("*")):
            tf.add(entry, arcname=str(entry.relative_to(staging)), recursive=False, filter=as_root)
    path.write_bytes(buf.getvalue())
    shutil.rmtree(staging)
    return path


def busybox_problem() -> str | None:
    """Why no busybox image can be made here (None: it can)."""
    if not BUSYBOX.is_file() or not os.access(BUSYBOX, os.X_OK):
        return f"{BUSYBOX} is not installed (Debian: apt-get install busybox-static)"
    return None
