from __future__ import annotations

import pytest

from podpy.errors import InvalidReference
from podpy.image import reference


@pytest.mark.parametrize(
    ("ref", "full"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("user/repo", "docker.io/user/repo:latest"),
        ("localhost/foo", "localhost/foo:latest"),
        ("localhost:5000/a/b:c", "localhost:5000/a/b:c"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest"),
        ("quay.io/org/img@sha256:" + "a" * 64, "quay.io/org/img@sha256:" + "a" * 64),
        ("reg.example.com/a:t@sha256:" + "b" * 64, "reg.example.com/a:t@sha256:" + "b" * 64),
    ],
)
def test_normalise(ref, full):
    assert str(reference.parse(ref)) == full


@pytest.mark.parametrize("bad", ["", "UPPER", "a:b:c", "x@sha256:zz", "-lead", "a//b", "name:-tag", " sp"])
def test_invalid(bad):
    with pytest.raises(InvalidReference) as e:
        reference.parse(bad)
    assert repr(bad) in str(e.value)


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/user/repo:1", "user/repo:1"),
        ("localhost:5000/a:b", "localhost:5000/a:b"),
    ],
)
def test_familiar(full, short):
    assert reference.familiar(full) == short
