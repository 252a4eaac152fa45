"""mount(2)/umount2(2) through ctypes (no fork of /bin/mount on the hot path)."""

from __future__ import annotations

import errno
import os
from functools import cache

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

MS_RDONLY = 0x1
MS_BIND = 0x1000
MNT_DETACH = 0x2


@cache
def _libc() -> Any:
    import ctypes  # lazy (~1.5 ms): start and rm load this module, only mounts call into it

    return ctypes.CDLL(None, use_errno=True)


def mount(source: str, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    import ctypes

    rc = _libc().mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data is not None else None,
    )
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"mount {fstype or 'bind'} on {target}: {os.strerror(e)}")


def umount(target: str, flags: int = MNT_DETACH) -> bool:
    """Unmount; False when nothing was mounted there (EINVAL) or the path is gone."""
    import ctypes

    rc = _libc().umount2(target.encode(), ctypes.c_int(flags))
    if rc == 0:
        return True
    e = ctypes.get_errno()
    if e in (errno.EINVAL, errno.ENOENT):
        return False
    raise OSError(e, f"umount {target}: {os.strerror(e)}")
