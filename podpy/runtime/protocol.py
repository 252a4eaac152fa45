"""What every runtime offers the supervisor (a type: runtimes do not subclass it). Apart from
podpy.runtime.base so that run and exec, which never need it at run time, do not import typing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from podpy.runtime.base import Started, Stdio


class Runtime(Protocol):
    name: str

    def start(self, cid: str, bundle: Path, stdio: Stdio, state_dir: Path) -> Started: ...

    def exec(
        self, cid: str, init_pid: int, process: dict[str, Any], stdio: Stdio, state_dir: Path
    ) -> Started: ...

    def kill(self, cid: str, pid: int, sig: int, state_dir: Path) -> None: ...

    def pause(self, cid: str, state_dir: Path) -> None: ...

    def resume(self, cid: str, state_dir: Path) -> None: ...

    def state(self, cid: str, state_dir: Path) -> dict[str, Any]: ...

    def delete(self, cid: str, state_dir: Path) -> None: ...
