"""Files the supervisor makes: the attach socket is born private, whatever the caller's umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from podpy.supervisor.relay import AttachServer


def test_attach_socket_is_private_from_bind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the later chmod is not what protects it: between bind and chmod another user could connect
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    old = os.umask(0)
    try:
        server = AttachServer(tmp_path, None)  # type: ignore[arg-type]
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(os.stat(tmp_path / "attach").st_mode) & 0o077 == 0
        assert os.umask(old) == old  # the process umask was restored
    finally:
        server.sock.close()
