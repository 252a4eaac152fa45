"""Layer storage as an ordinary user (uid 65534 via setpriv): what rootless podpy sees outside a
user namespace. Ownership collapses to the user, devices are skipped, whiteouts are still made
(the kernel lets anyone create a 0/0 char device), opaque dirs use user.overlay.opaque, and
read-only directories from lower layers can be filled and removed."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to switch to an ordinary user"
)


def _layer(*members: tuple[str, str, dict]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, kw in members:
            ti = tarfile.TarInfo(name)
            ti.type = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "c": tarfile.CHRTYPE}[kind]
            for k, v in kw.items():
                if k != "data":
                    setattr(ti, k, v)
            data = kw.get("data", b"")
            ti.size = len(data) if kind == "f" else 0
            tf.addfile(ti, io.BytesIO(data) if kind == "f" else None)
    return buf.getvalue()


BASE = _layer(
    ("ro", "d", {"mode": 0o555}),
    ("ro/old", "f", {"data": b"old", "uid": 0}),
    ("ro/gone", "f", {"data": b"x"}),
    ("su", "f", {"data": b"su", "mode": 0o4755, "uid": 0}),
    ("owned", "f", {"data": b"o", "uid": 1234, "gid": 4321}),
    ("dev/null", "c", {"devmajor": 1, "devminor": 3, "mode": 0o666}),
    ("opq", "d", {"mode": 0o755}),
    ("opq/lower", "f", {"data": b"l"}),
)
TOP = _layer(
    ("ro/new", "f", {"data": b"new"}),
    ("ro/.wh.gone", "f", {}),
    ("opq/.wh..wh..opq", "f", {}),
    ("opq/upper", "f", {"data": b"u"}),
)

SCRIPT = """
import io, json, os, stat, sys
from pathlib import Path
from podpy.state.layout import Layout
from podpy.storage.layers import LayerStore
root, driver = Path(sys.argv[1]), sys.argv[2]
base, top = open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()
s = LayerStore(Layout(root / "root", root / "run"), driver, rootless=True)
r1 = s.put(None, io.BytesIO(base))
r2 = s.put(r1.chain_id, io.BytesIO(top))
d = s.diff_path(r2.chain_id)
def info(p):
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return None
    xa = {a: os.getxattr(p, a, follow_symlinks=False).decode() for a in os.listxattr(p, follow_symlinks=False)}
    return [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_rdev, xa]
names = ["ro", "ro/old", "ro/new", "ro/gone", "su", "owned", "dev/null", "opq", "opq/lower", "opq/upper"]
out = {n: info(d / n) for n in names}
s.remove(r2.chain_id)
s.remove(r1.chain_id)
out["left"] = sorted(os.listdir(s.layout.layers))
print(json.dumps(out))
"""


@pytest.fixture
def userdir() -> Iterator[Path]:
    """A directory the user owns, outside pytest's tmp tree (that one is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="podpy-rootless-"))
    try:
        os.chown(d, NOBODY, NOBODY)
        for name, data in (("base.tar", BASE), ("top.tar", TOP)):
            (d / name).write_bytes(data)
            os.chmod(d / name, 0o644)
        yield d
    finally:
        shutil.rmtree(d)


def run_as_nobody(userdir: Path, driver: str) -> dict:
    argv = [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        sys.executable,
        "-c",
        SCRIPT,
    ]
    argv += [str(userdir), driver, str(userdir / "base.tar"), str(userdir / "top.tar")]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_vfs_as_ordinary_user(userdir: Path) -> None:
    out = run_as_nobody(userdir, "vfs")
    assert out["ro"][1] == 0o555 and out["ro/new"] is not None and out["ro/gone"] is None
    assert out["ro/old"][2] == NOBODY and out["owned"][2] == NOBODY  # ownership collapses
    assert out["su"][1] == 0o4755
    assert out["dev/null"] is None
    assert out["opq/lower"] is None and out["opq/upper"] is not None
    assert out["left"] == []


def test_overlay_as_ordinary_user(userdir: Path) -> None:
    out = run_as_nobody(userdir, "overlay")
    assert out["ro/gone"][0] == 0o020000 and out["ro/gone"][3] == 0  # whiteout: char 0/0
    assert out["opq"][4] == {"user.overlay.opaque": "y"}
    assert out["opq/lower"] is None and out["opq/upper"] is not None
    assert out["dev/null"] is None  # only in the lower layer, and skipped there anyway
    assert out["left"] == []


USERNS_SCRIPT = """
import io, json, os, shutil, sys
from pathlib import Path
from podpy.state.layout import Layout
from podpy.storage import LayerStore, make_driver
root = Path(sys.argv[1])
s = LayerStore(Layout(root / "root", root / "run"), "overlay", rootless=True)
top = s.put(s.put(None, open(sys.argv[2], "rb")).chain_id, open(sys.argv[3], "rb")).chain_id
d = make_driver(s)
d.create_rw("c1", top)
m = root / "merged"
d.mount("c1", top, m)
view = {"ro": sorted(os.listdir(m / "ro")), "opq": sorted(os.listdir(m / "opq"))}
(m / "ro" / "old").unlink()
shutil.rmtree(m / "opq")
(m / "opq").mkdir()
(m / "opq" / "again").write_text("a")
view["changes"] = d.changes("c1", top)
buf = io.BytesIO()
d.rw_tar("c1", top, buf)
committed = s.put(top, io.BytesIO(buf.getvalue())).chain_id
d.create_rw("c2", committed)
m2 = root / "merged2"
d.mount("c2", committed, m2)
view["committed"] = {p: sorted(os.listdir(m2 / p)) for p in ("ro", "opq")}
d.unmount(m2)
d.unmount(m)
print(json.dumps(view))
"""


def test_overlay_mount_in_user_namespace(userdir: Path) -> None:
    """Layers extracted rootless mount with `userxattr` inside a user namespace (single id map)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare(1) missing")
    argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "unshare", "-rm"]
    argv += [
        sys.executable,
        "-c",
        USERNS_SCRIPT,
        str(userdir),
        str(userdir / "base.tar"),
        str(userdir / "top.tar"),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=60)
    if proc.returncode != 0 and "unshare failed" in proc.stderr:
        pytest.skip(f"user namespaces unavailable: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    view = json.loads(proc.stdout)
    assert view["ro"] == ["new", "old"] and view["opq"] == ["upper"]
    assert view["changes"] == [
        ["C", "/opq"],
        ["A", "/opq/again"],
        ["D", "/opq/upper"],
        ["C", "/ro"],
        ["D", "/ro/old"],
    ]
    assert view["committed"] == {"ro": ["new"], "opq": ["again"]}
