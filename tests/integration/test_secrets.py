"""`secret create/ls/inspect/rm` (Podman's file driver) and run/create --secret (engine.secrets)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.integration.containers_fixtures import ctr  # noqa: F401


def test_secret_commands(podpy, tmp_path) -> None:
    sid = podpy("secret", "create", "db", "-", input="s3cret").stdout.strip()
    assert len(sid) == 25
    (tmp_path / "f").write_text("from a file")
    other = podpy("secret", "create", "--label", "team=a", "other", str(tmp_path / "f")).stdout.strip()
    env_id = podpy("secret", "create", "--env", "fromenv", "HOME").stdout.strip()
    lines = podpy("secret", "ls").stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "NAME", "DRIVER"] and len(lines) == 4
    assert podpy("secret", "ls", "--format", "{{.Name}} {{.Driver}}").stdout == "db file\nother file\nfromenv file\n"
    [doc] = json.loads(podpy("secret", "inspect", "other").stdout)
    assert doc["ID"] == other and doc["Spec"]["Name"] == "other" and doc["Spec"]["Labels"] == {"team": "a"}
    assert doc["Spec"]["Driver"]["Name"] == "file"
    assert podpy("secret", "inspect", "--format", "{{.Spec.Name}}", sid).stdout == "db\n"
    data = podpy.root / "secrets" / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700 and (data / sid).read_text() == "s3cret"
    for args, msg in ((["create", "db", "-"], "secret name in use"),
                      (["create", "bad/name", "-"], "invalid secret name"),
                      (["create", "-d", "pass", "x", "-"], "unsupported secret driver"),
                      (["create", "empty", "-"], "secret data must be larger than 0"),
                      (["inspect", "nope"], 'no secret with name or id "nope": no such secret'),
                      (["rm", "nope"], 'no secret with name or id "nope": no such secret')):  # fmt: skip
        res = podpy("secret", *args, input="" if args[1] == "empty" else "x", check=False)
        assert res.returncode == 125 and msg in res.stderr and res.stderr.count("\n") == 1, (args, res.stderr)
    assert podpy("secret", "create", "--replace", "db", "-", input="new").stdout.strip() != sid
    assert podpy("secret", "rm", "other", env_id).stdout.split() == [other, env_id]
    podpy("secret", "rm", "--all")
    assert podpy("secret", "ls", "-q").stdout == ""
    assert [p.name for p in data.iterdir()] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="runs containers as root")
def test_run_with_secrets(ctr) -> None:  # noqa: F811
    ctr("secret", "create", "db", "-", input="s3cret")
    ctr("secret", "create", "token", "-", input="tok")
    out = ctr("run", "--rm", "--secret", "db", "--secret", "token,type=env,target=TOKEN",
              "--secret", "db,target=/etc/db.pw", "busybox", "sh", "-c",
              'cat /run/secrets/db; echo; echo "$TOKEN"; cat /etc/db.pw; echo; stat -c %a /run/secrets/db; '
              "echo x > /run/secrets/db || echo read-only").stdout  # fmt: skip
    assert out.startswith("s3cret\ntok\ns3cret\n444\n") and out.endswith("read-only\n")
    ctr("create", "--name", "user", "--secret", "db", "busybox", "true")
    res = ctr("secret", "rm", "db", check=False)
    assert res.returncode == 125 and "in use" in res.stderr
    ctr("rm", "user")
    ctr("secret", "rm", "db", "token")
    for args, msg in ((["--secret", "nope"], "no such secret"),
                      (["--secret", "x,type=file"], "must be mount or env"),
                      (["--secret", "x,uid=5"], "root-owned 0444 files only")):  # fmt: skip
        res = ctr("create", *args, "busybox", "true", check=False)
        assert res.returncode == 125 and msg in res.stderr, res.stderr


def test_secret_ls_filter_and_inspect_pretty(podpy) -> None:
    sid = podpy("secret", "create", "--label", "a=b", "alpha", "-", input="1").stdout.strip()
    podpy("secret", "create", "beta", "-", input="2")
    assert podpy("secret", "ls", "--noheading", "-f", "name=al", "--format", "{{.Name}}").stdout == "alpha\n"
    assert podpy("secret", "ls", "--filter", f"id={sid[:6]}", "-q").stdout == sid + "\n"
    res = podpy("secret", "ls", "-f", "colour=x", check=False)
    assert res.returncode == 125 and "invalid filter" in res.stderr
    out = podpy("secret", "inspect", "--pretty", "alpha").stdout
    assert out.startswith(f"ID:\t\t{sid}\nName:\t\talpha\nLabels:\n\t- a=b\nDriver:\t\tfile\nCreated at:\t")
