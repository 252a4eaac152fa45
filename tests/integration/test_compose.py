"""`podpy compose` with real containers as root: small busybox projects on their own networks
(loopback and container addresses only), each checked to leave nothing behind."""

from __future__ import annotations

import json
import os
import re
import socket
import textwrap
from pathlib import Path

import pytest

from tests.conftest import Podpy
from tests.integration.network_fixtures import ctr, net  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root tests (rootless ones live in tests/rootless)")

# httpd and sleep as pid 1 ignore SIGTERM: stop with SIGKILL so tests do not wait 10 s per container.
WEB = """web:
            image: busybox
            command: ["httpd", "-f", "-p", "80", "-h", "/"]
            stop_signal: SIGKILL"""


class Project:
    def __init__(self, p: Podpy, root: Path, name: str) -> None:
        self.p, self.dir, self.name = p, root / name, name
        self.dir.mkdir(parents=True, exist_ok=True)

    def write(self, text: str, file: str = "compose.yaml") -> Project:
        (self.dir / file).write_text(textwrap.dedent(text))
        return self

    def __call__(self, *args: str, check: bool = True, timeout: float = 120, input: str | None = None) -> object:
        return self.p("compose", "-f", str(self.dir / "compose.yaml"), *args, check=check, timeout=timeout,
                      input=input)

    def ids(self, *args: str) -> list[str]:
        return sorted(self("ps", "-q", *args).stdout.split())  # type: ignore[attr-defined]

    def names(self) -> list[str]:
        return sorted(self("ps", "-a", "--format", "{{.Name}}", check=False).stdout.split())  # type: ignore


@pytest.fixture
def proj(net: Podpy, tmp_path: Path):  # type: ignore[no-untyped-def]  # noqa: F811
    made: list[Project] = []

    def make(name: str, text: str) -> Project:
        made.append(Project(net, tmp_path, name).write(text))
        return made[-1]

    yield make
    for pr in made:
        pr("down", "-v", "-t", "0", check=False)


def _gone(p: Podpy, name: str) -> None:
    assert not [x for x in p("ps", "-a", "--format", "{{.Names}}").stdout.split() if x.startswith(f"{name}-")]
    assert f"{name}_default" not in p("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert not [v for v in p("volume", "ls", "-q").stdout.split() if v.startswith(f"{name}_")]


def test_up_ps_reach_by_name_env_exec_and_down_v(proj, net):  # noqa: F811
    pr = proj("web1", """
        services:
          web:
            image: busybox
            command: ["sh", "-c", "echo $$GREETING > /www/index.html; exec httpd -f -p 80 -h /www"]
            environment: {GREETING: "${GREETING:-unset}"}
            volumes: [www:/www]
            stop_signal: SIGKILL
            networks: {default: {aliases: [www-alias]}}
          client:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            depends_on: [web]
        volumes: {www: {labels: {tier: front}}}
    """)
    (pr.dir / ".env").write_text("GREETING=hello-from-env\n")
    res = pr("up", "-d")
    assert " Container web1-web-1  Started" in res.stderr and " Network web1_default  Created" in res.stderr
    assert res.stderr.index("web1-web-1  Started") < res.stderr.index("web1-client-1  Starting")
    rows = [json.loads(line) for line in pr("ps", "--format", "json").stdout.splitlines()]
    assert sorted((r["Service"], r["State"]) for r in rows) == [("client", "running"), ("web", "running")]
    assert pr("ps", "--services").stdout.split() == ["client", "web"]
    out = pr("exec", "-T", "client", "sh", "-c", "wget -qO- http://web/ && wget -qO- http://www-alias/").stdout
    assert out.split() == ["hello-from-env", "hello-from-env"]
    vol = json.loads(net("volume", "inspect", "web1_www").stdout)[0]
    assert vol["Labels"]["tier"] == "front" and vol["Labels"]["com.docker.compose.project"] == "web1"
    # no file: the project as its labels describe it (run from the repository, which has none)
    assert net("compose", "-p", "web1", "ps", "--services").stdout.split() == ["client", "web"]
    net("compose", "-p", "web1", "down", "-v")
    _gone(net, "web1")


def test_up_twice_recreates_nothing_and_an_edit_recreates_one_service(proj):
    text = """
        services:
          WEB_SERVICE
          other:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
    """
    pr = proj("twice", text.replace("WEB_SERVICE", WEB))
    pr("up", "-d")
    before = {r["Service"]: r["ID"] for r in map(json.loads, pr("ps", "--format", "json").stdout.splitlines())}
    res = pr("up", "-d")
    assert "Container twice-web-1  Running" in res.stderr and "Creat" not in res.stderr
    pr.write(text.replace("WEB_SERVICE", WEB.replace('"/"]', '"/"]\n            environment: {EDITED: "1"}')))
    res = pr("up", "-d")
    after = {r["Service"]: r["ID"] for r in map(json.loads, pr("ps", "--format", "json").stdout.splitlines())}
    assert after["other"] == before["other"] and after["web"] != before["web"]
    assert "Container twice-web-1  Recreate" in res.stderr
    assert pr("exec", "-T", "web", "sh", "-c", "echo $EDITED").stdout.strip() == "1"
    assert pr("up", "-d", "--force-recreate", "other").stderr.count("Recreated") == 1
    pr.write(text.replace("WEB_SERVICE", WEB).replace("other:", "renamed:"))
    assert "Found orphan containers ([twice-other-1])" in pr("up", "-d").stderr
    res = pr("up", "-d", "--remove-orphans")
    assert "Container twice-other-1  Removed" in res.stderr
    assert pr.names() == ["twice-renamed-1", "twice-web-1"]


def test_named_volume_persists_across_down_and_goes_with_down_v(proj, net):  # noqa: F811
    pr = proj("vols", """
        services:
          app:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            volumes: [data:/data, ./host:/host]
        volumes: {data: {}}
    """)
    pr("up", "-d")
    pr("exec", "-T", "app", "sh", "-c", "echo kept > /data/f; echo bound > /host/f")
    assert (pr.dir / "host" / "f").read_text() == "bound\n"
    pr("down")
    assert "vols_data" in net("volume", "ls", "-q").stdout.split()
    pr("up", "-d")
    assert pr("exec", "-T", "app", "cat", "/data/f").stdout == "kept\n"
    pr("down", "-v")
    _gone(net, "vols")


def test_health_gated_dependency_starts_after_healthy(proj, net):  # noqa: F811
    pr = proj("hc", """
        services:
          db:
            image: busybox
            command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 300"]
            stop_signal: SIGKILL
            healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 300ms, retries: 20}
          app:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            depends_on: {db: {condition: service_healthy}}
    """)
    res = pr("up", "-d")
    err = res.stderr
    assert err.index("hc-db-1  Healthy") < err.index("hc-app-1  Starting")
    db, app = (json.loads(net("inspect", f"hc-{s}-1").stdout)[0]["State"] for s in ("db", "app"))
    assert db["Health"]["Status"] == "healthy" and app["Status"] == "running"
    assert app["StartedAt"] > db["StartedAt"]
    pr("down", "-t", "0")
    res = pr("run", "--rm", "-T", "app", "sh", "-c", "echo one-off")  # `run` waits for healthy db too
    assert res.stdout == "one-off\n" and "hc-db-1  Healthy" in res.stderr


def test_dependency_that_never_becomes_healthy_fails_up_naming_it(proj):
    pr = proj("sick", """
        services:
          db:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            healthcheck: {test: ["CMD", "false"], interval: 200ms, retries: 2}
          app:
            image: busybox
            command: ["sleep", "300"]
            depends_on: {db: {condition: service_healthy}}
    """)
    res = pr("up", "-d", check=False)
    assert res.returncode == 1
    assert "dependency failed to start: container sick-db-1 is unhealthy" in res.stderr
    assert 'service "db"' in res.stderr
    states = {r["Service"]: r["State"] for r in map(json.loads, pr("ps", "-a", "--format", "json").stdout.splitlines())}
    assert states == {"db": "running", "app": "created"}


def test_completed_successfully_dependency_runs_first(proj):
    pr = proj("once", """
        services:
          init:
            image: busybox
            command: ["sh", "-c", "sleep 0.5; echo seeded > /shared/flag"]
            volumes: [shared:/shared]
          app:
            image: busybox
            command: ["sh", "-c", "cat /shared/flag; exec sleep 300"]
            stop_signal: SIGKILL
            volumes: [shared:/shared]
            depends_on: {init: {condition: service_completed_successfully}}
          bad:
            image: busybox
            command: ["sh", "-c", "exit 4"]
            profiles: [broken]
          after-bad:
            image: busybox
            command: ["true"]
            profiles: [broken]
            depends_on: {bad: {condition: service_completed_successfully}}
          lenient:
            image: busybox
            command: ["true"]
            profiles: [broken]
            depends_on: {bad: {condition: service_completed_successfully, required: false}}
        volumes: {shared: {}}
    """)
    pr("up", "-d")
    assert "seeded" in pr("logs", "--no-log-prefix", "app").stdout
    res = pr("--profile", "broken", "up", "-d", "after-bad", check=False)
    assert res.returncode == 1 and "service \"bad\" didn't complete successfully: exit 4" in res.stderr
    res = pr("--profile", "broken", "up", "-d", "lenient")  # required: false: a warning, then it starts
    assert "optional dependency not satisfied" in res.stderr and "Container once-lenient-1  Started" in res.stderr


def test_run_and_exec_options_and_exit_codes(proj, net):  # noqa: F811
    pr = proj("runx", """
        services:
          WEB_SERVICE
          tool:
            image: busybox
            command: ["echo", "default"]
            environment: [FROM_FILE=yes]
            working_dir: /tmp
            depends_on: [web]
    """.replace("WEB_SERVICE", WEB))
    res = pr("run", "--rm", "-T", "-e", "EXTRA=1", "-w", "/etc", "-u", "1000", "tool",
             "sh", "-c", "echo $FROM_FILE $EXTRA $(pwd) $(id -u); wget -qO- http://web/ >/dev/null; exit 5",
             check=False)  # fmt: skip
    assert res.returncode == 5, res.stderr
    assert res.stdout.split()[:4] == ["yes", "1", "/etc", "1000"]
    assert "runx-web-1" in net("ps", "--format", "{{.Names}}").stdout  # the dependency was started
    assert pr("run", "--rm", "-T", "--entrypoint", "echo", "tool", "over").stdout.strip() == "over"
    name = pr("run", "-d", "tool").stdout.strip()
    assert name.startswith("runx-tool-run-")
    assert net("wait", name).stdout.strip() == "0" and net("logs", name).stdout.strip() == "default"
    res = pr("exec", "-T", "-e", "X=7", "-w", "/etc", "web", "sh", "-c", "echo $X $(pwd); exit 9", check=False)
    assert res.returncode == 9 and res.stdout.split() == ["7", "/etc"]
    assert pr("exec", "-T", "--index", "2", "web", "true", check=False).returncode != 0
    assert pr("exec", "-T", "web", "cat", input="piped\n").stdout == "piped\n"
    assert pr("run", "--rm", "-T", "--no-deps", "tool", "cat", input="piped\n").stdout == "piped\n"
    assert [r.split()[0] for r in pr("ps", "-a", "tool").stdout.splitlines()[1:]] == [name]  # one-offs listed
    assert pr("logs", "tool").stdout == ""  # but not in the service's logs


def test_lifecycle_commands_logs_ports_top_images_ls(proj, net):  # noqa: F811
    pr = proj("life", """
        services:
          web:
            image: busybox
            command: ["sh", "-c", "echo line1; echo line2; exec httpd -f -p 80 -h /"]
            stop_signal: SIGKILL
            ports: ["127.0.0.1::80"]
    """)
    pr("up", "-d")
    port = pr("port", "web", "80").stdout.strip()
    assert port.startswith("127.0.0.1:")
    with socket.create_connection(("127.0.0.1", int(port.rpartition(":")[2])), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.")  # published on host loopback
    logs = pr("logs", "web").stdout
    assert "web-1  | line1" in logs and "web-1  | line2" in logs
    assert pr("logs", "--no-log-prefix", "--tail", "1", "web").stdout == "line2\n"
    assert "httpd" in pr("top").stdout
    (pr.dir / "in.txt").write_text("copied\n")
    pr("cp", str(pr.dir / "in.txt"), "web:/tmp/in.txt")
    pr("cp", "web:/tmp/in.txt", str(pr.dir / "back.txt"))
    assert (pr.dir / "back.txt").read_text() == "copied\n"
    assert "busybox" in pr("images").stdout
    assert "life" in pr("--dry-run", "ls").stdout and "running(1)" in net("compose", "ls").stdout
    pr("pause")
    assert pr("ps", "--status", "paused", "-q").stdout.strip()
    pr("unpause")
    pr("stop")
    assert pr("ps", "-q").stdout == "" and pr("ps", "-a", "--filter", "status=exited", "-q").stdout.strip()
    pr("start")
    pr("restart", "-t", "0")
    pr("kill")
    assert pr("ps", "-q").stdout == ""
    pr("rm", "-f")
    assert pr("ps", "-a", "-q").stdout == ""


def test_attached_up_prefixes_logs_and_exit_code_from(proj):
    pr = proj("att", """
        services:
          job:
            image: busybox
            command: ["sh", "-c", "echo working; sleep 0.3; exit 3"]
          side:
            image: busybox
            command: ["sh", "-c", "echo earlier; exec sleep 300"]
            stop_signal: SIGKILL
    """)
    pr("up", "-d", "side")
    res = pr("up", "--exit-code-from", "job", check=False)
    assert "earlier" not in res.stdout  # attached to what was running from now on, not its history
    assert res.returncode == 3, res.stderr
    assert re.search(r"^job-1 +\| working$", res.stdout, re.M) and "job-1 exited with code 3" in res.stdout
    assert pr("ps", "-q").stdout == ""  # the whole project was stopped


def test_service_fields_reach_the_container(proj):
    pr = proj("fields", """
        services:
          main:
            image: busybox
            stop_signal: SIGKILL
            hostname: box
            user: "1000:1000"
            working_dir: /tmp
            extra_hosts: ["db.example:10.1.2.3"]
            dns: [10.9.9.9]
            tmpfs: [/scratch]
            cap_drop: [ALL]
            labels: {role: main}
            entrypoint: ["/bin/sh", "-c"]
            command: ["exec sleep 300"]
            ulimits: {nofile: 1024}
            secrets: [token]
            configs: [{source: conf, target: /etc/app.conf}]
          sidecar:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            network_mode: "service:main"
            volumes_from: [main]
        secrets: {token: {file: ./token.txt}}
        configs: {conf: {file: ./app.conf}}
    """)
    (pr.dir / "token.txt").write_text("s3cret\n")
    (pr.dir / "app.conf").write_text("k=v\n")
    res = pr("up", "-d")
    assert "ulimits" in res.stderr  # told once, not silently ignored
    out = pr("exec", "-T", "main", "sh", "-c",
             "hostname; id -u; pwd; grep db.example /etc/hosts; grep nameserver /etc/resolv.conf; "
             "grep /scratch /proc/mounts | cut -d' ' -f3; grep CapEff /proc/self/status").stdout
    assert out.split() == ["box", "1000", "/tmp", "10.1.2.3", "db.example", "nameserver", "10.9.9.9", "tmpfs",
                           "CapEff:", "0000000000000000"]
    addr = "ip -o -4 addr show eth0"
    main_ip = pr("exec", "-T", "main", "sh", "-c", addr).stdout.split()[3]
    assert pr("exec", "-T", "sidecar", "sh", "-c", addr).stdout.split()[3] == main_ip
    assert pr("exec", "-T", "main", "cat", "/run/secrets/token", "/etc/app.conf").stdout == "s3cret\nk=v\n"
    labels = json.loads(pr.p("inspect", "fields-main-1").stdout)[0]["Config"]["Labels"]
    assert labels["role"] == "main" and labels["com.docker.compose.service"] == "main"


def test_scale_dry_run_and_build_errors(proj, net):  # noqa: F811
    pr = proj("scl", """
        services:
          WEB_SERVICE
          built:
            build: .
            profiles: [b]
          far:
            image: 127.0.0.1:1/nowhere/img:v1
            profiles: [b]
    """.replace("WEB_SERVICE", WEB))
    assert pr("config", "--services").stdout == "web\n" and pr("config", "-q").stdout == ""
    assert pr("config", "--hash", "web").stdout.startswith("web ")
    assert "DRY-RUN MODE" in pr("--dry-run", "up", "-d").stderr
    assert pr("ps", "-a", "-q").stdout == "" and "scl_default" not in net("network", "ls").stdout
    pr("up", "-d", "--scale", "web=2")
    assert len(pr.ids()) == 2
    pr("up", "-d", "--scale", "web=1")
    assert pr.names() == ["scl-web-1"]
    res = pr("up", "-d", "built", check=False)
    assert res.returncode == 125 and "Dockerfile" in res.stderr and "not found" in res.stderr
    assert "not found" in pr("--profile", "b", "build", "built", check=False).stderr
    net("tag", "busybox", "scl-built")  # the image a build would make exists: it is used
    assert "Container scl-built-1  Started" in pr("up", "-d", "built").stderr
    res = pr("pull", "far", check=False)  # a closed port on loopback: refused at once
    assert res.returncode == 125 and "127.0.0.1:1" in res.stderr
    assert pr("pull", "--ignore-pull-failures", "far").returncode == 0


def test_attached_up_ctrl_c_stops_the_project_and_wait_flag(proj):
    import signal
    import subprocess
    import time

    from tests.conftest import REPO

    pr = proj("ctrlc", """
        services:
          talker:
            image: busybox
            command: ["sh", "-c", "echo hello; exec sleep 300"]
            stop_signal: SIGKILL
    """)
    argv = pr.p.argv("compose", "-f", str(pr.dir / "compose.yaml"), "up")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "hello" not in pr("logs", check=False).stdout:
            time.sleep(0.1)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert re.search(rb"^talker-1 +\| hello$", out, re.M) and b"Gracefully stopping" in err
    assert b"Container ctrlc-talker-1  Stopped" in err and pr("ps", "-q").stdout == ""
    res = pr("up", "--wait")  # detached once running (no healthcheck): returns at once
    assert "Container ctrlc-talker-1  Started" in res.stderr and len(pr.ids()) == 1


def test_project_options_ipam_and_external_network(proj, net):  # noqa: F811
    net("network", "create", "--subnet", "10.91.3.0/24", "shared-ext")
    pr = proj("opts", """
        services:
          a:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            environment: {WHO: "${WHO}"}
            cap_add: [NET_RAW]
            networks: {inner: {ipv4_address: 10.91.4.7}, outer: {}}
          b:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            profiles: [extra]
            networks: [outer]
        networks:
          inner: {ipam: {config: [{subnet: 10.91.4.0/24}]}}
          outer: {name: shared-ext, external: true}
    """)
    (pr.dir / "alt.env").write_text("WHO=alt\n")
    stdin_file = (pr.dir / "compose.yaml").read_text()
    res = net("compose", "-f", "-", "-p", "renamed", "--project-directory", str(pr.dir), "--env-file",
              str(pr.dir / "alt.env"), "--profile", "extra", "up", "-d", input=stdin_file)  # fmt: skip
    assert "Container renamed-b-1  Started" in res.stderr and "Network renamed_inner  Created" in res.stderr
    out = net("exec", "renamed-a-1", "sh", "-c", "echo $WHO; ip -o -4 addr; ping -c1 -W2 b >/dev/null && echo ok")
    assert "alt" in out.stdout and "10.91.4.7/24" in out.stdout and "10.91.3." in out.stdout
    net("compose", "-f", "-", "-p", "renamed", "--project-directory", str(pr.dir), "--profile", "extra",
        "down", "-t", "0", input=stdin_file)  # fmt: skip
    assert "shared-ext" in net("network", "ls").stdout and "renamed_inner" not in net("network", "ls").stdout


def test_exec_and_run_get_a_tty_on_a_terminal(proj):
    from tests.conftest import REPO
    from tests.integration.containers_fixtures import PtyProc

    pr = proj("tty", """
        services:
          box:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
    """)
    pr("up", "-d")
    base = pr.p.argv("compose", "-f", str(pr.dir / "compose.yaml"))
    for verb in (["exec", "box"], ["run", "--rm", "box"]):
        p = PtyProc([*base, *verb, "sh", "-c", "tty; exit 6"], REPO)
        try:
            p.expect(r"/dev/pts/\d+", timeout=30)
            assert p.wait(30) == 6
        finally:
            p.close()


def test_depends_on_restart_true_restarts_the_dependent_when_its_dependency_changes(proj, net):  # noqa: F811
    text = """
        services:
          db:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            environment: {VERSION: "V"}
          app:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            depends_on: {db: {condition: service_started, restart: true}}
    """
    pr = proj("rst", text.replace("V", "1"))
    pr("up", "-d")
    started = json.loads(net("inspect", "rst-app-1").stdout)[0]["State"]["StartedAt"]
    app_id = json.loads(net("inspect", "rst-app-1").stdout)[0]["Id"]
    pr.write(text.replace("V", "2"))
    res = pr("up", "-d")
    assert "Container rst-db-1  Recreated" in res.stderr and "Container rst-app-1  Restarting" in res.stderr
    after = json.loads(net("inspect", "rst-app-1").stdout)[0]
    assert after["Id"] == app_id and after["State"]["StartedAt"] > started
