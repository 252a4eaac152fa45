"""Many podpy processes at once must not lose or corrupt anything (locks + atomic writes)."""

from __future__ import annotations

import json
import shlex
import subprocess

from tests.conftest import REPO


def test_concurrent_tag_untag_remove(podpy, busybox_image, busybox_tar):
    # 24 workers: each tags twice, removes one tag; 4 more import an image and delete it again.
    script = []
    for i in range(24):
        script.append(" && ".join([
            shlex.join(podpy.argv("tag", "busybox", f"w{i}:a", f"w{i}:b")),
            shlex.join(podpy.argv("rmi", f"w{i}:a")),
            shlex.join(podpy.argv("untag", "busybox", f"w{i}:b")),
            shlex.join(podpy.argv("tag", "busybox", f"w{i}:c")),
        ]))  # fmt: skip
    for i in range(4):
        script.append(" && ".join([
            shlex.join(podpy.argv("import", "-c", f"ENV N={i}", str(busybox_tar), f"imp{i}:x")),
            shlex.join(podpy.argv("rmi", f"imp{i}:x")),
        ]))  # fmt: skip
    procs = [subprocess.Popen(["sh", "-c", s], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for s in script]  # fmt: skip
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for e in errors if e]
    doc = json.loads((podpy.root / "images" / "images.json").read_text())
    assert list(doc["images"]) == [busybox_image.removeprefix("sha256:")]
    names = set(doc["images"][busybox_image.removeprefix("sha256:")]["names"])
    want = {"docker.io/library/busybox:latest"} | {f"docker.io/library/w{i}:c" for i in range(24)}
    assert names == want
    assert podpy("images", "-q").stdout.split() == [busybox_image.removeprefix("sha256:")[:12]]
    # no temp files left behind by the atomic writes
    assert not list((podpy.root / "images").glob(".*tmp"))
