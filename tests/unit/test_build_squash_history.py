"""--squash history as Podman records it (buildah without layers)."""

from __future__ import annotations

from podpy.build.squash import squashed_history


def test_build_steps_become_empty_but_the_last() -> None:
    base = [{"created_by": "ADD rootfs"}, {"created_by": "CMD sh", "empty_layer": True}]
    built = [{"created_by": "ENV A=1", "empty_layer": True}, {"created_by": "RUN a"}, {"created_by": "COPY f /f"},
             {"created_by": "CMD x", "empty_layer": True}]  # fmt: skip
    out = squashed_history(base + built, keep=1)
    assert out[:2] == base
    assert [h.get("empty_layer", False) for h in out[2:]] == [True, True, True, False]
    assert [h["created_by"] for h in out] == [h["created_by"] for h in base + built]
