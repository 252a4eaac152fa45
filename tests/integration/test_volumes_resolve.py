"""resolve_mounts against a real store: volumes created or reused, records, rollback, --volumes-from."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from podpy.config import Options
from podpy.engine import Engine
from podpy.engine.mount_resolution import inherited_mounts, resolve_mounts
from podpy.errors import InvalidArgument, NoSuchContainer, NoSuchVolume, PodpyError
from podpy.state import FileLock, atomic_write_json
from podpy.volumes.store import ANONYMOUS_LABEL


@pytest.fixture
def eng(tmp_path: Path) -> Engine:
    return Engine(Options(root=tmp_path / "store", runroot=tmp_path / "run", storage_driver="vfs"))


def test_oci_mounts_and_record_fields(eng: Engine, tmp_path: Path) -> None:
    host = tmp_path / "host"
    res = resolve_mounts(
        eng,
        ["named:/data:ro", f"{host}:/h:rshared", "/anon"],
        mount_flags=["type=tmpfs,dst=/t,tmpfs-size=1k"],
        image_volumes=["/img", "/data"],
    )
    assert host.is_dir()  # -v makes a missing host directory, like Docker
    anon, img = res.anonymous
    assert res.volumes == ["named", anon, img]
    data = str(eng.volumes.mountpoint("named"))
    assert [m.to_oci() for m in res.mounts] == [
        {"destination": "/data", "type": "bind", "source": data, "options": ["rbind", "rprivate", "ro"]},
        {"destination": "/h", "type": "bind", "source": str(host), "options": ["rbind", "rshared"]},
        {"destination": "/anon", "type": "bind", "source": str(eng.volumes.mountpoint(anon)),
         "options": ["rbind", "rprivate"]},
        {"destination": "/t", "type": "tmpfs", "source": "tmpfs",
         "options": ["rw", "noexec", "nosuid", "nodev", "size=1024"]},
        {"destination": "/img", "type": "bind", "source": str(eng.volumes.mountpoint(img)),
         "options": ["rbind", "rprivate"]},
    ]  # fmt: skip
    fields = res.record_fields()
    assert fields["volumes"] == res.volumes and fields["anonymousVolumes"] == [anon, img]
    assert fields["mounts"][0] == {"Type": "volume", "Name": "named", "Source": data, "Destination": "/data",
                                   "Driver": "local", "Mode": "ro", "RW": False, "Propagation": ""}  # fmt: skip
    assert fields["mounts"][1] == {"Type": "bind", "Source": str(host), "Destination": "/h", "Mode": "rshared",
                                   "RW": True, "Propagation": "rshared"}  # fmt: skip
    assert eng.volumes.get(anon).anonymous and eng.volumes.get(anon).labels == {ANONYMOUS_LABEL: ""}
    assert not eng.volumes.get("named").anonymous


def test_mount_flag_bind_source_must_exist(eng: Engine, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="bind source path does not exist: .*/missing"):
        resolve_mounts(eng, ["/anon"], mount_flags=[f"type=bind,src={tmp_path}/missing,dst=/m"])
    assert eng.volumes.list() == []  # checked before any volume was made


def test_mount_flag_volume_options_apply_to_a_new_volume(eng: Engine) -> None:
    resolve_mounts(eng, mount_flags=["type=volume,src=fast,dst=/f,volume-opt=type=tmpfs,volume-label=x=y"])
    rec = eng.volumes.get("fast")
    assert rec.options == {"type": "tmpfs", "device": "tmpfs"} and rec.labels == {"x": "y"}
    res = resolve_mounts(
        eng, mount_flags=["type=volume,src=fast,dst=/f,volume-opt=type=tmpfs,volume-opt=o=size=5m"]
    )
    assert res.mounts[0].to_oci() == {"destination": "/f", "type": "tmpfs", "source": "tmpfs", "options": []}
    with pytest.raises(InvalidArgument, match="invalid option key 'bogus'"):
        resolve_mounts(eng, ["/a"], mount_flags=["type=volume,src=v2,dst=/v,volume-opt=bogus=1"])
    assert [v.name for v in eng.volumes.list()] == ["fast"]


def test_failure_rolls_back_anonymous_volumes_under_the_store_lock(eng: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def boom(name: str) -> None:
        raise PodpyError("disk on fire")

    monkeypatch.setattr(eng.volumes, "ensure", boom)
    outcome: list[object] = []

    def create() -> None:  # what ContainerService.create does: resolve while holding the store lock
        with FileLock(eng.layout.store_lock):
            try:
                resolve_mounts(eng, ["/anon1", "/anon2", "named:/n"])
            except PodpyError as e:
                outcome.append(e)

    t = threading.Thread(target=create, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "resolve_mounts deadlocked on the store lock"
    assert [str(e) for e in outcome] == ["disk on fire"]
    assert eng.volumes.list() == []


def _record(eng: Engine, name: str, mounts: list[dict]) -> str:
    cid = "cd" * 32
    atomic_write_json(eng.layout.container_dir(cid) / "container.json",
                      {"id": cid, "name": name, "created": "", "image": "", "image_name": "", "topLayer": None,
                       "mounts": mounts, "volumes": [m["Name"] for m in mounts if m.get("Name")]})  # fmt: skip
    return cid


def test_volumes_from_reads_the_other_record(eng: Engine, tmp_path: Path) -> None:
    first = resolve_mounts(eng, ["shared:/s", f"{tmp_path}:/h:ro", "/anon"], tmpfs_flags=["/t"])
    _record(eng, "src", first.points)
    reqs = inherited_mounts(eng, "src")
    assert [(r.target, r.readonly) for r in reqs] == [("/s", False), ("/h", True), ("/anon", False)]
    res = resolve_mounts(eng, ["mine:/s"], volumes_from=["src:ro"])  # explicit /s wins
    assert res.volumes == ["mine", first.anonymous[0]] and res.anonymous == []
    assert [m.destination for m in res.mounts] == ["/s", "/h", "/anon"]
    assert all("ro" in m.options for m in res.mounts[1:])
    assert res.copy_up == [("mine", "/s")]  # never copy into another container's volume
    with pytest.raises(NoSuchContainer):
        resolve_mounts(eng, volumes_from=["nope"])


def test_volumes_from_a_volume_removed_meanwhile(eng: Engine) -> None:
    _record(eng, "src", [{"Type": "volume", "Name": "gone", "Source": "/x", "Destination": "/g", "RW": True}])
    with pytest.raises(NoSuchVolume):
        resolve_mounts(eng, volumes_from=["src"])  # never re-created empty behind the user's back
