"""The busybox root filesystem of every test tier: podpy.samples makes it (kept here for the tests'
imports)."""

from podpy.samples import BUSYBOX, GROUP, PASSWD, applets, make_rootfs, make_rootfs_tar

__all__ = ["BUSYBOX", "GROUP", "PASSWD", "applets", "make_rootfs", "make_rootfs_tar"]
