"""Image commands through the real CLI: import, tag, inspect, history, rmi, images, errors."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def test_import_with_change_and_inspect(podpy, busybox_tar):
    res = podpy("import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV FOO=bar", "-c", "LABEL a=b",
                "-c", "WORKDIR /tmp", "-c", "EXPOSE 80", "-c", "VOLUME /data", "-c", "USER 33",
                "-c", "ENTRYPOINT /bin/sh -c", "-m", "hello", str(busybox_tar), "bb:1")  # fmt: skip
    image_id = res.stdout.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    doc = json.loads(podpy("image", "inspect", "bb:1").stdout)[0]
    assert doc["Id"] == image_id
    assert doc["RepoTags"] == ["bb:1"]
    cfg = doc["Config"]
    assert cfg["Cmd"] == ["/bin/sh"]
    assert "FOO=bar" in cfg["Env"]
    assert cfg["Labels"] == {"a": "b"}
    assert cfg["WorkingDir"] == "/tmp" and cfg["User"] == "33"
    assert cfg["ExposedPorts"] == {"80/tcp": {}} and cfg["Volumes"] == {"/data": {}}
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "/bin/sh -c"]
    for key in ("RepoDigests", "Created", "Author", "Size", "Architecture", "Os", "History", "GraphDriver"):
        assert key in doc
    assert doc["RootFS"]["Type"] == "layers" and len(doc["RootFS"]["Layers"]) == 1
    assert doc["Size"] > 1_000_000
    assert doc["History"][0]["comment"] == "hello"
    fmt = podpy("inspect", "--format", "{{.Config.Cmd}} {{index .Config.Labels \"a\"}}", "bb:1").stdout
    assert fmt.strip() == "[/bin/sh] b"


def test_images_listing_and_formats(podpy, busybox_image):
    podpy("tag", "busybox", "example.com/team/tool:2.0", "other:x")
    out = podpy("images").stdout.splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    repos = sorted(line.split()[0] + ":" + line.split()[1] for line in out[1:])
    assert repos == ["busybox:latest", "example.com/team/tool:2.0", "other:x"]
    short = busybox_image.removeprefix("sha256:")[:12]
    assert podpy("images", "-q").stdout.split() == [short]
    assert podpy("images", "-q", "--no-trunc").stdout.split() == [busybox_image]
    got = podpy("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=busybox").stdout.split()
    assert got == ["busybox:latest"]
    rows = json.loads(podpy("images", "--format", "json").stdout)
    assert {r["Repository"] for r in rows} == {"busybox", "example.com/team/tool", "other"}
    table = podpy("images", "--format", "table {{.ID}}\t{{.Tag}}").stdout.splitlines()
    assert table[0].split() == ["IMAGE", "ID", "TAG"] and len(table) == 4
    assert podpy("images", "--digests").stdout.splitlines()[0].split()[2] == "DIGEST"
    assert podpy("images", "--filter", "dangling=true", "-q").stdout.strip() == ""
    assert podpy("images", "--filter", "label=nope", "-q").stdout.strip() == ""


def test_rmi_untags_then_deletes(podpy, busybox_image):
    podpy("tag", "busybox", "second:tag")
    res = podpy("rmi", "second:tag")
    assert res.stdout.strip() == "Untagged: second:tag"
    res = podpy("rmi", "busybox")
    assert res.stdout.splitlines() == ["Untagged: busybox:latest", f"Deleted: {busybox_image}"]
    assert podpy("images", "-q").stdout.strip() == ""
    assert podpy("image", "exists", "busybox", check=False).returncode == 1


def test_image_exists_and_history(podpy, busybox_image):
    res = podpy("image", "exists", "busybox")
    assert res.returncode == 0 and res.stdout == "" and res.stderr == ""
    hist = podpy("history", "busybox").stdout.splitlines()
    assert hist[0].split()[:2] == ["IMAGE", "CREATED"]
    assert hist[1].startswith(busybox_image.removeprefix("sha256:")[:12])


def test_prune_dangling(podpy, busybox_tar):
    podpy("import", str(busybox_tar))
    assert podpy("images", "--filter", "dangling=true", "-q").stdout.strip()
    res = podpy("image", "prune", "-f")
    assert "deleted: sha256:" in res.stdout and "Total reclaimed space:" in res.stdout
    assert podpy("images", "-q").stdout.strip() == ""


def test_system_info_and_df(podpy, busybox_image):
    info = json.loads(podpy("info", "--format", "json").stdout)
    assert info["store"]["imageStore"]["number"] == 1
    assert info["store"]["graphRoot"] == str(podpy.root)
    assert info["host"]["cgroupVersion"] in ("v1", "v2")
    assert info["host"]["security"]["rootless"] is False or info["host"]["security"]["rootless"] is True
    assert "ociRuntime" in info["host"] and info["version"]["Version"]
    df = podpy("system", "df").stdout.splitlines()
    assert df[0].split()[:2] == ["TYPE", "TOTAL"] and df[1].startswith("Images")
    assert json.loads(podpy("version", "--format", "json").stdout)["Client"]["Version"]


@pytest.mark.parametrize(
    ("args", "needle", "code"),
    [
        (["image", "inspect", "nosuch"], "nosuch: image not known", 125),
        (["rmi", "nosuch"], "image not known", 125),
        (["tag", "busybox", "Bad_Name"], "Bad_Name", 125),
        (["tag", "busybox", "a:b:c:d"], "a:b:c:d", 125),
        (["images", "--filter", "bogus=1"], "bogus", 125),
        (["images", "--format", "{{.Nope}}"], "Nope", 125),
        (["images", "--format", "{{nofunc .ID}}"], "nofunc", 125),
        (["import", "/does/not/exist"], "/does/not/exist", 125),
        (["import", "-c", "FROB x", "/etc/hostname"], "FROB", 125),
        (["--storage-driver", "zfs", "images"], "zfs", 125),
        (["--log-level", "loud", "images"], "loud", 125),
        (["images", "--no-such-flag"], "--no-such-flag", 125),
        (["nosuchcommand"], "nosuchcommand", 125),
        (["inspect", "nothing-here"], "nothing-here", 125),
        (["help", "nosuchcommand"], "nosuchcommand", 125),
    ],
)
def test_errors_are_one_line(podpy, busybox_image, args, needle, code):
    res = podpy(*args, check=False)
    assert res.returncode == code, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert needle in lines[0]
    assert "Traceback" not in res.stderr


def test_help_everywhere(podpy):
    for args in (["--help"], ["help"], ["images", "--help"], ["image", "--help"], ["help", "image", "ls"]):
        res = podpy(*args)
        assert "Usage:" in res.stdout, args
        assert "Options" in res.stdout or "Commands" in res.stdout
    assert "Commands:" in podpy("--help").stdout


def test_version_front_door(podpy):
    assert podpy("--version").stdout.startswith("podpy version ")


def test_import_from_stdin_and_url(podpy, busybox_tar, tmp_path):
    import gzip
    import http.server
    import threading

    gz = tmp_path / "rootfs.tar.gz"
    gz.write_bytes(gzip.compress(busybox_tar.read_bytes(), compresslevel=1))
    from_stdin = podpy("import", "-", "fromstdin:1", input=busybox_tar.read_bytes()).stdout.strip()

    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/rootfs.tar.gz"
        from_url = podpy("import", url, "fromurl:1").stdout.strip()
    finally:
        server.shutdown()
        server.server_close()
    a, b = (json.loads(podpy("image", "inspect", n).stdout)[0] for n in ("fromstdin:1", "fromurl:1"))
    assert a["Id"] == from_stdin and b["Id"] == from_url
    assert a["RootFS"]["Layers"] == b["RootFS"]["Layers"]  # same tar once decompressed: same diff ID
    bad = podpy("import", "http://127.0.0.1:9/none.tar", check=False)
    assert bad.returncode == 125 and bad.stderr.startswith("Error: ") and len(bad.stderr.splitlines()) == 1


def test_filters_before_since_label(podpy, busybox_tar):
    import time

    podpy("import", "-c", "LABEL tier=base", str(busybox_tar), "first:1")
    time.sleep(0.05)
    podpy("import", "-c", "LABEL tier=app", "-c", "ENV X=1", str(busybox_tar), "second:1")

    def repos(*filters: str) -> list[str]:
        args = [x for f in filters for x in ("--filter", f)]
        return podpy("images", "--format", "{{.Repository}}", *args).stdout.split()

    assert repos("before=second:1") == ["first"]
    assert repos("since=first:1") == ["second"]
    assert repos("label=tier=app") == ["second"]
    assert sorted(repos("label=tier")) == ["first", "second"]
    assert repos("reference=fir*") == ["first"]
    assert repos("dangling=false", "label=tier=base") == ["first"]
