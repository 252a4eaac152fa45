"""Podman fidelity of image and system commands (issue 11): rmi -f/-a, image prune filters, system prune's
prompt, system df figures, untag, --format aliases (.ID, Podman's and Docker's info fields, .Label),
and image configs with wrong JSON types."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")]  # fmt: skip


def _ids(p) -> list[str]:  # type: ignore[no-untyped-def]
    return p("images", "-q", "--no-trunc").stdout.split()


def test_rmi_force_two_names_of_one_image(podpy, busybox_image):
    podpy("tag", "busybox", "second:tag")
    res = podpy("rmi", "-f", "busybox", "second:tag", check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["Untagged: busybox:latest", "Untagged: second:tag", f"Deleted: {busybox_image}"]
    assert res.stderr == "" and _ids(podpy) == []


def test_rmi_all_takes_multi_tagged_images(podpy, busybox_image):
    podpy("tag", "busybox", "second:tag", "third:x")
    res = podpy("rmi", "-a", "busybox", check=False)
    assert res.returncode == 125 and "may not pass any images names" in res.stderr
    res = podpy("rmi", "-a", check=False)
    assert res.returncode == 0, res.stderr
    assert f"Deleted: {busybox_image}" in res.stdout and _ids(podpy) == []


def test_rmi_ignore_skips_missing_images(podpy, busybox_image):
    res = podpy("rmi", "nosuch", check=False)
    assert res.returncode != 0 and "nosuch" in res.stderr
    res = podpy("image", "rm", "-i", "--no-prune", "nosuch", "busybox", check=False)
    assert (res.returncode, res.stderr) == (0, "") and f"Deleted: {busybox_image}" in res.stdout
    assert podpy("rmi", "--ignore", "gone").returncode == 0


def test_images_history_lists_every_name_given(podpy, busybox_image):
    podpy("tag", "busybox", "a:1", "b:2")
    podpy("untag", "busybox", "a:1")
    want = "docker.io/library/b:2, docker.io/library/a:1, docker.io/library/busybox:latest"
    assert podpy("images", "--history", "--format", "{{.History}}", "busybox").stdout == want + "\n"
    table = podpy("image", "ls", "--history").stdout.splitlines()
    assert table[0].split()[-1] == "HISTORY" and table[1].endswith(want)


def test_rmi_force_removes_running_containers(ctr):  # noqa: F811
    ctr("run", "-d", "--name", "up", "busybox", "sleep", "100")
    ctr("create", "--name", "idle", "busybox", "true")
    res = ctr("rmi", "busybox", check=False)
    assert res.returncode != 0 and "image is in use by a container" in res.stderr
    res = ctr("rmi", "-f", "busybox", check=False)
    assert res.returncode == 0, res.stderr
    assert "Deleted: sha256:" in res.stdout
    assert ctr("ps", "-a", "-q").stdout == "" and _ids(ctr) == []


def test_untag_without_names_removes_all(podpy, busybox_image):
    podpy("tag", "busybox", "second:tag")
    podpy("untag", "busybox")
    rows = podpy("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.split("\n")
    assert rows[0] == f"<none>:<none> {busybox_image.removeprefix('sha256:')[:12]}"


def test_image_prune_filters_and_all(podpy, busybox_tar):
    labelled = podpy("import", "-c", "LABEL tier=web", str(busybox_tar)).stdout.split()[-1]
    plain = podpy("import", "-c", "LABEL tier=db", str(busybox_tar)).stdout.split()[-1]
    tagged = podpy("import", "-c", "LABEL tier=app", str(busybox_tar), "kept:1").stdout.split()[-1]
    assert podpy("image", "prune", "-f", "--filter", "until=1h").stdout == "Total reclaimed space: 0B\n"
    res = podpy("image", "prune", "-f", "--filter", "label=tier=web")
    assert f"deleted: {labelled}" in res.stdout and plain not in res.stdout
    res = podpy("image", "prune", "-f", "--filter", "dangling=true")
    assert f"deleted: {plain}" in res.stdout and _ids(podpy) == [tagged]
    res = podpy("image", "prune", "-f", "--filter", "bogus=1", check=False)
    assert res.returncode == 125 and "bogus" in res.stderr
    podpy("image", "prune", "-f")
    assert _ids(podpy) == [tagged]  # tagged: only --all takes it
    res = podpy("image", "prune", "--all", "-f")
    assert "untagged: kept:1" in res.stdout and _ids(podpy) == []


def test_image_prune_prompt_reads_stdin(podpy, busybox_tar):
    podpy("import", str(busybox_tar))
    res = podpy("image", "prune", input="n\n")
    assert res.stdout == ("WARNING! This command removes all dangling images.\n"
                          "Are you sure you want to continue? [y/N] ")  # fmt: skip
    assert len(_ids(podpy)) == 1
    res = podpy("image", "prune", input="y\n")
    assert "deleted: sha256:" in res.stdout and _ids(podpy) == []


def test_system_prune_prompts_without_a_terminal(ctr):  # noqa: F811
    ctr("create", "--name", "gone", "busybox", "true")
    for answer in ("", "n\n", "no\n"):  # end of input, or no: nothing goes
        res = ctr("system", "prune", input=answer)
        assert res.stdout.startswith("WARNING! This command removes:\n\t- all stopped containers\n")
        assert "Are you sure you want to continue? [y/N] " in res.stdout and "Total" not in res.stdout
        assert ctr("ps", "-aq").stdout.strip()
    res = ctr("system", "prune", "--volumes", "-a", input="y\n")
    assert "\t- all volumes not used by at least one container\n" in res.stdout
    assert "\t- all images without at least one container associated with them\n" in res.stdout
    assert "Deleted Containers:" in res.stdout and ctr("ps", "-aq").stdout == ""


def test_system_prune_all_removes_unused_tagged_images(ctr):  # noqa: F811
    ctr("tag", "busybox", "other:1", "third:2")
    res = ctr("system", "prune", "-af")
    assert "untagged: other:1" in res.stdout and "untagged: busybox:latest" in res.stdout
    assert _ids(ctr) == []


def test_system_df_counts_containers_and_volumes(ctr):  # noqa: F811
    ctr("volume", "create", "data")
    ctr("run", "--name", "writer", "-v", "data:/data", "busybox", "sh", "-c",
        "dd if=/dev/zero of=/data/v bs=1k count=300 2>/dev/null; dd if=/dev/zero of=/big bs=1k count=200 2>/dev/null")
    ctr("run", "-d", "--name", "up", "busybox", "sleep", "100")
    rows = {r["Type"]: r for r in json.loads(ctr("system", "df", "--format", "json").stdout)}
    c, v = rows["Containers"], rows["Local Volumes"]
    assert (c["TotalCount"], c["Active"]) == (2, 1)
    assert c["RawSize"] >= 200 * 1024 and c["RawReclaimable"] >= 200 * 1024
    assert (v["TotalCount"], v["Active"]) == (1, 1) and v["RawSize"] >= 300 * 1024
    out = ctr("system", "df", "-v").stdout
    assert out.startswith("Images space usage:\n\nREPOSITORY")
    assert "\nContainers space usage:\n\nCONTAINER ID" in out and "\nLocal Volumes space usage:\n\nVOLUME NAME" in out
    vol_line = out.split("VOLUME NAME")[1].splitlines()[1].split()
    assert vol_line[:2] == ["data", "1"]
    assert any(line.split()[-1:] == ["writer"] for line in out.splitlines())


def test_format_aliases(ctr):  # noqa: F811
    image_id = ctr("image", "inspect", "--format", "{{.Id}}", "busybox").stdout.strip()
    assert ctr("image", "inspect", "--format", "{{.ID}}", "busybox").stdout.strip() == image_id
    assert ctr("inspect", "--format", "{{.ID}}", "busybox").stdout.strip() == image_id
    assert "ID" not in json.loads(ctr("image", "inspect", "busybox").stdout)[0]  # JSON keeps Podman's keys
    ctr("create", "--name", "lab", "--label", "app=web", "busybox", "true")
    out = ctr("ps", "-a", "--format", '{{.Label "app"}} {{.Labels.app}} {{.Names}}').stdout
    assert out == "web web lab\n"
    tmpl = "{{.Host.Arch}} {{.Store.GraphRoot}} {{.Version.Version}} {{.ServerVersion}} {{.Driver}} {{.Containers}}"
    got = ctr("info", "--format", tmpl).stdout.split()
    info = json.loads(ctr("info", "--format", "json").stdout)
    assert got == [info["host"]["arch"], str(ctr.root), info["version"]["Version"], info["version"]["Version"],
                   info["store"]["graphDriverName"], "1"]  # fmt: skip
    assert "ServerVersion" not in info


# ---------------------------------------------------------------- image configs with wrong JSON types


def _docker_archive_with(config_section: object, layer: bytes, tag: str) -> bytes:
    from tests.integration.test_archives import docker_archive

    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": config_section,
                      "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()  # fmt: skip
    return docker_archive([(cfg, [layer], [tag])])


BAD_CONFIGS = [
    ({"Cmd": "sh"}, "'config.Cmd' must be an array of strings, not a string"),
    ({"Env": {"A": "b"}}, "'config.Env' must be an array of strings, not an object"),
    ({"Entrypoint": 5}, "'config.Entrypoint' must be an array of strings, not a number"),
    ("sh", "'config' must be an object, not a string"),
]


@pytest.mark.parametrize(("section", "message"), BAD_CONFIGS)
def test_load_refuses_wrong_config_types(podpy, busybox_tar, tmp_path, section, message):
    archive = tmp_path / "bad.tar"
    archive.write_bytes(_docker_archive_with(section, busybox_tar.read_bytes(), "bad:1"))
    res = podpy("load", "-i", str(archive), check=False)
    assert res.returncode == 125 and message in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and _ids(podpy) == []


@pytest.mark.parametrize(("section", "message"), BAD_CONFIGS)
def test_stored_image_with_wrong_config_types(podpy, busybox_tar, monkeypatch, section, message):
    """An image stored before the check existed: run, create and inspect say what is wrong."""
    from podpy.config import Options
    from podpy.engine.core import Engine
    from podpy.image import config_check

    monkeypatch.setattr(config_check, "check", lambda doc, what="": doc)
    layer = busybox_tar.read_bytes()
    eng = Engine(Options(root=podpy.root, runroot=podpy.runroot))
    digest, size = eng.content.ingest(__import__("io").BytesIO(layer), "sha256:" + hashlib.sha256(layer).hexdigest())
    from podpy.engine.images import NewLayer

    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": section,
                      "rootfs": {"type": "layers", "diff_ids": [digest]}}).encode()  # fmt: skip
    eng.images.register(cfg, [NewLayer(digest, "application/vnd.oci.image.layer.v1.tar", size, digest)], ["bad:1"])
    for args in (["run", "--rm", "bad:1", "true"], ["create", "bad:1"], ["inspect", "bad:1"],
                 ["image", "inspect", "bad:1"]):  # fmt: skip
        res = podpy(*args, check=False)
        assert res.returncode == 125, (args, res.stdout, res.stderr)
        assert message in res.stderr and "Traceback" not in res.stderr, (args, res.stderr)
    assert podpy("ps", "-aq").stdout == ""
