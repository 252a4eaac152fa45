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
