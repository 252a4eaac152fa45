"""Pods as an ordinary user: members share the infra's network namespace (a private one: rootless
bridges need pasta, not driven yet) and reach each other on localhost."""

from __future__ import annotations

from tests.integration.containers_fixtures import wait_until
from tests.rootless.conftest import Rootless


def test_rootless_pod_shares_localhost(rl: Rootless) -> None:
    rl("pod", "create", "--name", "rp")
    rl("run", "-d", "--pod", "rp", "--name", "srv", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc")

    def fetched() -> bool:
        res = rl("run", "--rm", "--pod", "rp", "busybox", "wget", "-qO-", "http://127.0.0.1:8080/hostname",
                 check=False)  # fmt: skip
        return res.returncode == 0 and res.stdout.strip() == "rp"

    assert wait_until(fetched, timeout=10)
    assert rl("pod", "ls", "--format", "{{.Name}} {{.Status}}").stdout == "rp Running\n"
    rl("pod", "rm", "-f", "rp")
    assert rl("ps", "-aq").stdout == "" and rl("pod", "ls", "-q").stdout == ""


def test_rootless_pod_level_options(rl: Rootless) -> None:
    """pod create --userns keep-id: members join the infra's user namespace with the user's own id;
    --add-host and --shm-size reach them."""
    rl("pod", "create", "--name", "ro", "--userns", "keep-id", "--add-host", "db:10.1.2.3", "--shm-size", "16m")
    out = rl("run", "--rm", "--pod", "ro", "busybox", "sh", "-c", "id -u; cat /etc/hosts; df -k /dev/shm").stdout
    assert out.splitlines()[0] == str(rl.user.uid), out
    assert "10.1.2.3\tdb" in out and " 16384 " in out, out
    rl("pod", "rm", "-f", "ro")
    assert rl("ps", "-aq").stdout == "" and rl("pod", "ls", "-q").stdout == ""
