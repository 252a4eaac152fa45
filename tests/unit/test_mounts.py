"""Mount flag parsers (-v, --mount, --tmpfs, --volumes-from), precedence, and volume option values."""

from __future__ import annotations

import pytest

from podpy.engine.mount_resolution import depth, merge_requests, requests_from_points
from podpy.engine.mounts import (
    BIND,
    TMPFS,
    VOLUME,
    MountRequest,
    apply_mode,
    parse_mount,
    parse_tmpfs,
    parse_volume,
    parse_volumes_from,
    tmpfs_options,
)
from podpy.errors import InvalidArgument
from podpy.volumes.options import (
    device_mount,
    parse_key_values,
    parse_mode,
    parse_size,
    validate_local_options,
)

# ---- -v ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ("/data", MountRequest(VOLUME, "/data")),
        ("/data/", MountRequest(VOLUME, "/data")),
        ("/data:ro", MountRequest(VOLUME, "/data", readonly=True, mode="ro")),
        ("vol:/data", MountRequest(VOLUME, "/data", "vol")),
        ("vol:/data:ro", MountRequest(VOLUME, "/data", "vol", True, mode="ro")),
        ("vol:/data:rw,z", MountRequest(VOLUME, "/data", "vol", False, mode="rw,z")),
        ("vol:/data:nocopy", MountRequest(VOLUME, "/data", "vol", nocopy=True, mode="nocopy")),
        ("my_vol.1-x:/a//b/../c", MountRequest(VOLUME, "/a/c", "my_vol.1-x")),
        ("/host:/ctr", MountRequest(BIND, "/ctr", "/host", create_source=True)),
        ("/host/:/ctr:ro", MountRequest(BIND, "/ctr", "/host", True, create_source=True, mode="ro")),
        ("/h:/c:ro,Z,rshared", MountRequest(BIND, "/c", "/h", True, ("rshared",), create_source=True,
                                            mode="ro,Z,rshared")),
        ("/h:/c:noexec,nosuid,nodev", MountRequest(BIND, "/c", "/h", False, ("noexec", "nosuid", "nodev"),
                                                   create_source=True, mode="noexec,nosuid,nodev")),
        ("/h:/c:bind", MountRequest(BIND, "/c", "/h", False, ("bind",), create_source=True, mode="bind")),
    ],
)  # fmt: skip
def test_volume_flag_good(spec: str, want: MountRequest) -> None:
    assert parse_volume(spec) == want


def test_volume_flag_relative_host_path() -> None:
    req = parse_volume("./data:/d", cwd="/srv/app")
    assert (req.type, req.source) == (BIND, "/srv/app/data")
    assert parse_volume("../x:/d", cwd="/srv/app").source == "/srv/x"
    assert parse_volume(".:/d", cwd="/srv/app").source == "/srv/app"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("data", 'invalid container path "data", must be an absolute path'),
        ("vol:data", 'invalid container path "data"'),
        ("/", "destination can't be '/'"),
        ("vol:/", "destination can't be '/'"),
        (":/data", "empty source"),
        ("a:/b:ro:x", "invalid volume specification"),
        ("vol:/d:bogus", 'invalid option "bogus"'),
        ("vol:/d:ro,rw", '"ro" and "rw" cannot both be given'),
        ("/h:/d:shared,slave", "only one propagation mode"),
        ("bad name:/d", "includes invalid characters for a local volume name"),
        ("-x:/d", "includes invalid characters"),
        ("/h:/d:nocopy", "nocopy applies to volumes"),
        ("vol:/d:rbind", "bind/rbind apply to host directories"),
        ("vol:/d:O", "option 'O' is not supported"),
        ("vol:", "missing the path"),
    ],
)
def test_volume_flag_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_volume(spec)
    assert message in str(exc.value)
    assert spec in str(exc.value)  # the error names the flag value


# ---- --mount -------------------------------------------------------------------------------------


def test_mount_bind_keys_in_any_order() -> None:
    a = parse_mount("type=bind,source=/h,target=/c,readonly")
    b = parse_mount("readonly,dst=/c,src=/h,type=bind")
    c = parse_mount("destination=/c,type=bind,ro=true,source=/h")
    assert a == b == c == MountRequest(BIND, "/c", "/h", True, origin="--mount")
    assert not a.create_source  # --mount never creates the host path


def test_mount_bind_options() -> None:
    req = parse_mount("type=bind,src=/h,dst=/c,bind-propagation=rslave,bind-nonrecursive,readonly=false")
    assert req.options == ("rslave", "bind") and not req.readonly
    assert req.propagation == "rslave"
    assert parse_mount("type=bind,src=/h,dst=/c,bind-recursive=disabled").options == ("bind",)
    assert parse_mount("type=bind,src=/h,dst=/c,nosuid,noexec").options == ("nosuid", "noexec")
    assert parse_mount("type=bind,src=/h,dst=/c,readonly=0").readonly is False


def test_mount_volume() -> None:
    req = parse_mount("type=volume,src=v1,dst=/data,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs,"
                      "volume-opt=device=tmpfs,volume-driver=local")  # fmt: skip
    assert (req.type, req.source, req.target, req.nocopy) == (VOLUME, "v1", "/data", True)
    assert dict(req.volume_labels) == {"a": "b"}
    assert dict(req.volume_opts) == {"type": "tmpfs", "device": "tmpfs"}


def test_mount_default_type_is_volume_and_anonymous() -> None:
    assert parse_mount("target=/data") == MountRequest(VOLUME, "/data", origin="--mount")


def test_mount_quoted_field_with_commas() -> None:
    req = parse_mount('type=volume,dst=/d,"volume-opt=o=size=10m,uid=1000",volume-opt=type=tmpfs')
    assert dict(req.volume_opts)["o"] == "size=10m,uid=1000"


def test_mount_tmpfs() -> None:
    req = parse_mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770")
    assert req.type == TMPFS and req.source == ""
    assert req.options == ("rw", "noexec", "nosuid", "nodev", "size=67108864", "mode=1770")
    ro = parse_mount("type=tmpfs,target=/t,readonly,exec")
    assert ro.readonly and "ro" in ro.options and "rw" not in ro.options
    assert "exec" in ro.options and "noexec" not in ro.options


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("type=bind,src=/h", "target is required"),
        ("type=nfs,dst=/x", 'invalid type "nfs"'),
        ("type=bind,dst=/x", "source is required"),
        ("type=bind,src=rel,dst=/x", "bind source 'rel' must be an absolute path"),
        ("type=tmpfs,src=x,dst=/x", "source is not allowed"),
        ("type=bind,src=/h,dst=/x,colour=red", "unexpected key 'colour' in 'colour=red'"),
        ("type=bind,src=/h,dst=/x,bogus", "invalid field 'bogus' must be a key=value pair"),
        ("type=bind,src=/h,dst=/x,bind-foo=1", "unexpected key 'bind-foo' in 'bind-foo=1'"),
        ("type=volume,dst=/x,volume-subpath=a", "unexpected key 'volume-subpath'"),
        ("type=bind,src=/h,dst=/x,bind-recursive=maybe", 'invalid bind-recursive "maybe"'),
        ("type=volume,dst=/x,volume-label==v", "invalid volume-label '=v'"),
        ("type=bind,src=/h,dst=/x,readonly=maybe", "invalid value for readonly: 'maybe'"),
        ("type=bind,src=/h,dst=/x,bind-propagation=sideways", 'invalid bind-propagation "sideways"'),
        (
            "type=bind,src=/h,dst=/x,bind-propagation=shared,bind-propagation=slave",
            "only one bind-propagation",
        ),
        ("type=bind,src=/h,dst=/x,volume-nocopy", "cannot mix 'volume-nocopy' with mount type 'bind'"),
        ("type=volume,dst=/x,tmpfs-size=1m", "cannot mix 'tmpfs-size' with mount type 'volume'"),
        (
            "type=tmpfs,dst=/x,bind-propagation=shared",
            "cannot mix 'bind-propagation' with mount type 'tmpfs'",
        ),
        ("type=tmpfs,dst=/x,tmpfs-size=lots", "tmpfs-size 'lots'"),
        ("type=tmpfs,dst=/x,tmpfs-mode=999", "tmpfs-mode '999'"),
        ("type=volume,src=v,dst=/x,volume-opt=novalue", "invalid volume-opt 'novalue'"),
        ("type=volume,src=v,dst=/x,volume-driver=nfs", "volume driver 'nfs' is not supported"),
        ("type=volume,src=no/slash,dst=/x", "includes invalid characters"),
        ("type=bind,src=/h,dst=relative", 'invalid container path "relative"'),
        ("type=bind,src=/h,dst=/", "destination can't be '/'"),
    ],
)
def test_mount_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_mount(spec)
    assert message in str(exc.value)


# ---- --tmpfs -------------------------------------------------------------------------------------


def test_tmpfs_flag() -> None:
    req = parse_tmpfs("/run")
    assert req == MountRequest(
        TMPFS, "/run", "", False, ("rw", "noexec", "nosuid", "nodev"), origin="--tmpfs"
    )
    req = parse_tmpfs("/run:size=64m,mode=1777,exec,uid=1000")
    assert req.options == ("rw", "nosuid", "nodev", "size=64m", "mode=1777", "exec", "uid=1000")
    assert req.mode == "size=64m,mode=1777,exec,uid=1000"
    ro = parse_tmpfs("/r:ro")
    assert ro.readonly and ro.options == ("noexec", "nosuid", "nodev", "ro")
    assert parse_tmpfs("/r:size=50%,notmpcopyup").options[-1] == "size=50%"


@pytest.mark.parametrize(
    ("spec", "message"),
    [("run", "must be an absolute path"), ("/r:mode=88", "mode '88'"), ("/r:size=big", "invalid size 'big'"),
     ("/r:colour=red", "invalid option 'colour=red'"), ("/", "destination can't be '/'")],
)  # fmt: skip
def test_tmpfs_flag_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_tmpfs(spec)
    assert message in str(exc.value)


def test_tmpfs_options_user_wins() -> None:
    assert tmpfs_options(["exec", "suid"]) == ("rw", "nodev", "exec", "suid")
    assert tmpfs_options([], readonly=True) == ("noexec", "nosuid", "nodev", "ro")


# ---- --volumes-from ------------------------------------------------------------------------------


def test_volumes_from() -> None:
    assert parse_volumes_from("web") == ("web", "")
    assert parse_volumes_from("web:ro") == ("web", "ro")
    assert parse_volumes_from("web:rw,z") == ("web", "rw")
    for bad, msg in (("web:rx", 'invalid option "rx"'), (":ro", "missing the container"),
                     ("web:ro,rw", "cannot both be given")):  # fmt: skip
        with pytest.raises(InvalidArgument, match=msg):
            parse_volumes_from(bad)


POINTS = [
    {"Type": "volume", "Name": "v1", "Source": "/s/volumes/v1/_data", "Destination": "/data", "Driver": "local",
     "Mode": "", "RW": True, "Propagation": ""},
    {"Type": "bind", "Source": "/host", "Destination": "/h", "Mode": "ro", "RW": False, "Propagation": "rslave"},
    {"Type": "tmpfs", "Source": "", "Destination": "/t", "Mode": "", "RW": True, "Propagation": ""},
]  # fmt: skip


def test_requests_from_points_keep_modes_and_skip_tmpfs() -> None:
    reqs = requests_from_points(POINTS, "")
    assert [(r.type, r.target, r.source, r.readonly) for r in reqs] == [
        (VOLUME, "/data", "v1", False), (BIND, "/h", "/host", True)]  # fmt: skip
    assert reqs[0].nocopy and reqs[1].options == ("rslave",)
    assert all(r.readonly for r in requests_from_points(POINTS, "ro"))
    assert not any(r.readonly for r in requests_from_points(POINTS, "rw"))
    assert apply_mode(MountRequest(VOLUME, "/x", "v"), "ro").readonly


# ---- precedence and order ------------------------------------------------------------------------


def test_merge_explicit_over_inherited_over_image() -> None:
    explicit = [parse_volume("a:/data"), parse_tmpfs("/tmp")]
    inherited = requests_from_points(POINTS, "")  # /data (loses), /h (kept)
    merged = merge_requests(explicit, inherited, ["/data", "/var/lib/x/", "/h"])
    assert [(r.target, r.source, r.origin) for r in merged] == [
        ("/data", "a", "-v"), ("/tmp", "", "--tmpfs"), ("/h", "/host", "--volumes-from"),
        ("/var/lib/x", "", "image")]  # fmt: skip


def test_merge_duplicate_explicit_destination() -> None:
    with pytest.raises(InvalidArgument, match='duplicate mount destination "/data"'):
        merge_requests([parse_volume("a:/data"), parse_mount("type=tmpfs,dst=/data/")], [], [])


def test_depth_orders_parents_first() -> None:
    paths = ["/a/b/c", "/a", "/x/y", "/a/b"]
    assert sorted(paths, key=depth) == ["/a", "/x/y", "/a/b", "/a/b/c"]


# ---- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1024", 1024), ("64m", 64 << 20), ("64M", 64 << 20), ("1.5g", 3 << 29), ("2GiB", 2 << 30), ("512kb", 512 << 10),
     ("10 m", 10 << 20)],
)  # fmt: skip
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


def test_parse_size_and_mode_errors() -> None:
    for bad in ("", "m", "-1", "1x", "1.2.3"):
        with pytest.raises(InvalidArgument):
            parse_size(bad)
    assert parse_mode("1777") == 0o1777 and parse_mode("0o755") == 0o755
    for bad in ("", "8", "17777", "rwx"):
        with pytest.raises(InvalidArgument):
            parse_mode(bad)


def test_local_driver_options() -> None:
    assert validate_local_options({}) == {}
    assert validate_local_options({"type": "tmpfs"}) == {"type": "tmpfs", "device": "tmpfs"}
    assert device_mount({"type": "tmpfs", "device": "tmpfs", "o": "size=1m,uid=5"}) == (
        "tmpfs", "tmpfs", ["size=1m", "uid=5"])  # fmt: skip
    assert device_mount({"type": "none", "device": "/srv", "o": "bind"}) == ("bind", "/srv", ["bind"])
    assert device_mount({"uid": "5"}) is None
    for bad, msg in (({"size": "1g"}, "invalid option key 'size'"), ({"type": "ext4"}, 'missing required option: "device"'),
                     ({"device": "/dev/sda"}, 'missing required option: "type"'), ({"uid": "x"}, "must be a number"),
                     ({"type": "none", "o": "bind", "device": "rel"}, "needs an absolute path")):  # fmt: skip
        with pytest.raises(InvalidArgument, match=msg):
            validate_local_options(bad)


def test_key_values() -> None:
    assert parse_key_values(["a=b", "c", "o=size=1m,uid=0"], "label") == {
        "a": "b",
        "c": "",
        "o": "size=1m,uid=0",
    }
    with pytest.raises(InvalidArgument, match="invalid label '=x'"):
        parse_key_values(["=x"], "label")
