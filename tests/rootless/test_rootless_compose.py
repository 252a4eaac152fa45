"""`podpy compose` as an ordinary user: host and none network modes; bridge networks in the rootless
network namespace (with /dev/net/tun usable), refused before anything is created when pasta and
slirp4netns cannot run."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from pathlib import Path

from tests.rootless.conftest import Rootless, net_processes


def _project(text: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix="podpy-rl-compose-"))
    os.chmod(d, 0o755)
    (d / "compose.yaml").write_text(textwrap.dedent(text))
    os.chmod(d / "compose.yaml", 0o644)
    return d


def test_rootless_compose_up_exec_run_down(rl: Rootless) -> None:
    d = _project("""
        name: rlc
        services:
          app:
            image: busybox
            command: ["sh", "-c", "echo started; exec sleep 300"]
            stop_signal: SIGKILL
            network_mode: none
            volumes: [data:/data]
          helper:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            network_mode: host
            depends_on: [app]
        volumes: {data: {}}
    """)
    f = str(d / "compose.yaml")
    try:
        res = rl("compose", "-f", f, "up", "-d")
        assert "Container rlc-app-1  Started" in res.stderr and "Container rlc-helper-1  Started" in res.stderr
        assert rl("compose", "-f", f, "ps", "--services").stdout.split() == ["app", "helper"]
        rl("compose", "-f", f, "exec", "-T", "app", "sh", "-c", "echo kept > /data/f")
        assert rl("compose", "-f", f, "run", "--rm", "-T", "--no-deps", "app", "cat", "/data/f").stdout == "kept\n"
        assert "app-1  | started" in rl("compose", "-f", f, "logs", "app").stdout
        rl("compose", "-f", f, "down", "-v")
        assert rl("ps", "-aq").stdout == "" and "rlc_data" not in rl("volume", "ls", "-q").stdout
    finally:
        rl("compose", "-f", f, "down", "-v", "-t", "0", check=False)
        shutil.rmtree(d, ignore_errors=True)


def test_rootless_compose_bridge_services_by_name(rl: Rootless, tun_open: None) -> None:
    d = _project("""
        name: rlweb
        services:
          web:
            image: busybox
            command: ["sh", "-c", "mkdir -p /w && echo hello-web > /w/index.html && exec httpd -f -p 80 -h /w"]
            stop_signal: SIGKILL
            volumes: [data:/data]
          client:
            image: busybox
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            depends_on: [web]
        volumes: {data: {}}
    """)
    f = str(d / "compose.yaml")
    try:
        rl("compose", "-f", f, "up", "-d")
        assert "rlweb_default" in rl("network", "ls").stdout
        script = "for i in $(seq 100); do wget -qO- http://$0/ && exit 0; sleep 0.1; done; exit 1"
        for name in ("web", "rlweb-web-1"):
            assert rl("compose", "-f", f, "exec", "-T", "client", "sh", "-c", script, name).stdout == "hello-web\n"
        rl("compose", "-f", f, "down", "-v")
        assert rl("ps", "-aq").stdout == "" and "rlweb" not in rl("network", "ls").stdout
        assert "rlweb_data" not in rl("volume", "ls", "-q").stdout
        assert net_processes(rl.user.uid) == []
    finally:
        rl("compose", "-f", f, "down", "-v", "-t", "0", check=False)
        shutil.rmtree(d, ignore_errors=True)


def test_rootless_compose_refuses_bridge_networks_up_front(rl: Rootless) -> None:
    d = _project("""
        name: rlnet
        services:
          web: {image: busybox, command: ["sleep", "300"]}
    """)
    try:
        res = rl("compose", "-f", str(d / "compose.yaml"), "up", "-d", check=False)
        assert res.returncode == 125 and 'service "web" needs a bridge network' in res.stderr
        assert rl("ps", "-aq").stdout == "" and "rlnet" not in rl("network", "ls").stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)
