from __future__ import annotations

import pytest

from podpy.cli import humanize
from podpy.errors import InvalidArgument
from podpy.image.changes import apply_change


def test_changes():
    cfg: dict = {}
    for c in ['CMD ["/bin/sh", "-c", "x"]', "ENTRYPOINT top -b", "ENV A=1 B='two words'", "ENV C 3",
              "LABEL x=y", "EXPOSE 80 53/udp", 'VOLUME ["/a", "/b"]', "USER www-data", "WORKDIR /srv",
              "STOPSIGNAL SIGINT"]:  # fmt: skip
        apply_change(cfg, c)
    assert cfg["Cmd"] == ["/bin/sh", "-c", "x"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "top -b"]
    assert cfg["Env"] == ["A=1", "B=two words", "C=3"]
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert cfg["Volumes"] == {"/a": {}, "/b": {}}
    assert (cfg["User"], cfg["WorkingDir"], cfg["StopSignal"], cfg["Labels"]) == ("www-data", "/srv", "SIGINT", {"x": "y"})


@pytest.mark.parametrize("bad", ["FROB x", "CMD", "ENV", "LABEL novalue"])
def test_bad_changes(bad):
    with pytest.raises(InvalidArgument):
        apply_change({}, bad)


@pytest.mark.parametrize(("n", "s"), [(0, "0B"), (999, "999B"), (1000, "1kB"), (4_260_000, "4.26MB"), (1.5e9, "1.5GB")])
def test_size(n, s):
    assert humanize.size(n) == s


@pytest.mark.parametrize(
    ("secs", "s"),
    [(0.2, "Less than a second"), (1, "1 second"), (45, "45 seconds"), (60, "About a minute"),
     (600, "10 minutes"), (3600, "About an hour"), (7200, "2 hours"), (86400 * 3, "3 days"),
     (86400 * 21, "3 weeks"), (86400 * 100, "3 months"), (86400 * 800, "2 years")],
)  # fmt: skip
def test_duration(secs, s):
    assert humanize.duration(secs) == s
