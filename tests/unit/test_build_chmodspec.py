"""--chmod modes: octal, and the symbolic form checked against coreutils chmod(1) (umask 0)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from podpy.build.chmodspec import mode_function

SPECS = ["u+x", "g-w", "u+x,g-w", "a=rX", "go=", "o+t", "u+s,g+s", "=r", "+x", "u=rwx,g=rx,o=",
         "a-x+X", "ug+rw-x", "u=r,go-rwx"]  # fmt: skip


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("start,is_dir", [(0o644, False), (0o755, False), (0o600, False), (0o755, True),
                                          (0o700, True), (0o4751, False)])  # fmt: skip
def test_symbolic_matches_chmod(tmp_path: Path, spec: str, start: int, is_dir: bool) -> None:
    p = tmp_path / "e"
    if is_dir:
        p.mkdir()
    else:
        p.write_text("")
    os.chmod(p, start)
    subprocess.run(["sh", "-c", 'umask 0 && chmod "$0" "$1"', spec, str(p)], check=True)
    assert oct(mode_function(spec)(start, is_dir)) == oct(stat.S_IMODE(p.stat().st_mode))


def test_octal_and_invalid() -> None:
    assert mode_function("755")(0o600, False) == 0o755
    for bad in ("0999", "u+q", "x", "u+x,,"):
        with pytest.raises(ValueError):
            mode_function(bad)
