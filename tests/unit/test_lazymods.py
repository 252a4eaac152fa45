"""The deferred `inspect` (podpy.cli.lazymods): it behaves like the real module once used, and the
hot paths' modules (run, exec, ps, rm, inspect, images) do not make it load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_placeholder_loads_the_real_module_on_first_use() -> None:
    out = _python(
        "import sys\n"
        "from podpy.cli.lazymods import defer_inspect\n"
        "defer_inspect()\n"
        "import inspect as early\n"
        "assert 'signature' not in early.__dict__\n"
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class NoDoc:\n"
        "    a: int\n"
        "    b: str = ''\n"
        "import inspect\n"
        "assert NoDoc.__doc__ == 'NoDoc(a: int, b: str = \\'\\')', NoDoc.__doc__\n"
        "assert early.signature is inspect.signature and early.isfunction(len) is False\n"
        "assert sys.modules['inspect'] is inspect and inspect.__file__.endswith('inspect.py')\n"
        "print('ok')\n"
    )
    assert out == "ok"


def test_already_imported_inspect_is_left_alone() -> None:
    assert (
        _python(
            "import inspect, sys\n"
            "from podpy.cli.lazymods import defer_inspect\n"
            "defer_inspect()\n"
            "print(sys.modules['inspect'] is inspect)\n"
        )
        == "True"
    )


HOT = [
    "podpy.cli.run_core", "podpy.cli.run_flags", "podpy.cli.exec_core", "podpy.cli.ps_rows", "podpy.cli.tty",
    "podpy.engine.containers", "podpy.engine.container_config", "podpy.engine.container_lifecycle",
    "podpy.engine.container_exec", "podpy.engine.specgen", "podpy.engine.images", "podpy.engine.volumes",
    "podpy.engine.networks", "podpy.engine.networks.service", "podpy.image.manifest",
    "podpy.supervisor.spawn", "podpy.supervisor.monitor", "podpy.runtime.builtin.runtime",
    "podpy.runtime.builtin.launch", "podpy.runtime.builtin.cgroup_stats", "podpy.engine.container_cgroups",
    "podpy.engine.container_restart", "podpy.supervisor.relay", "podpy.supervisor.logfile", "podpy.network.ipam",
    "podpy.network.netlink", "podpy.network.bridge", "podpy.network.nft", "podpy.network.netns",
    "podpy.engine.networks.attach",
]  # fmt: skip


def test_hot_path_modules_do_not_load_inspect() -> None:
    """Every dataclass they define has a docstring (dataclasses asks inspect for one otherwise)."""
    imports = "\n".join(f"import {m}" for m in HOT)
    out = _python(
        "import sys\n"
        "from podpy.cli.lazymods import defer_inspect\n"
        "defer_inspect()\n"
        f"{imports}\n"
        "print('signature' in sys.modules['inspect'].__dict__)\n"
    )
    assert out == "False", "a dataclass without a docstring on a hot path loads inspect"
