"""RUN --mount as BuildKit defines them, turned into the `--mount` values `run` takes:
bind (the context or a stage/image, read-only unless rw: then a throw-away copy), cache (a directory
kept under the store across builds), tmpfs, secret (a 0400 file, or an environment variable).
ssh (the agent socket given with --ssh, bound in with SSH_AUTH_SOCK pointing at it, as BuildKit's
`--ssh default`). Nothing a mount holds ends up in the layer (commit skips it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from podpy.build.errors import BuildError
from podpy.build.mounts import Mount
from podpy.engine import build_support as bs

if TYPE_CHECKING:
    from podpy.build.executor import Executor


@dataclass
class Prepared:
    mounts: list[str] = field(default_factory=list)  # `--mount` values for the step container
    env: list[str] = field(default_factory=list)  # secrets exposed as variables


def parse_secrets(items: list[str]) -> dict[str, tuple[str, str]]:
    """`--secret id=x,src=path|env=VAR[,type=file|env]` → {id: ("file"|"env", path or variable)}."""
    out: dict[str, tuple[str, str]] = {}
    for item in items:
        fields = dict(f.partition("=")[::2] for f in item.split(",") if f)
        sid = fields.get("id", "")
        src = fields.get("src") or fields.get("source") or ""
        env = fields.get("env", "")
        kind = fields.get("type") or ("env" if env and not src else "file")
        value = env or src if kind == "env" else src
        if not sid:
            sid = os.path.basename(value) if kind == "file" else value
        if not sid or not value or kind not in ("file", "env"):
            raise ValueError(f"invalid --secret {item!r}: expected id=ID,src=PATH or id=ID,env=VARIABLE")
        out[sid] = (kind, value)
    return out


def parse_ssh(items: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """`--ssh default` (the agent of $SSH_AUTH_SOCK) or `--ssh id=/path/to/agent.sock` → {id: socket}.
    Key files need an agent of our own: refused with a clear error."""
    out: dict[str, str] = {}
    for item in items:
        sid, eq, paths = item.partition("=")
        if not sid or "," in paths:
            raise ValueError(f"invalid --ssh {item!r}: expected default or ID=SOCKET")
        sock = paths if eq else environ.get("SSH_AUTH_SOCK", "")
        if not sock:
            raise ValueError(f"--ssh {item}: SSH_AUTH_SOCK is not set (start ssh-agent, or give ID=SOCKET)")
        try:
            is_sock = stat.S_ISSOCK(os.stat(sock).st_mode)
        except OSError as e:
            raise ValueError(f"--ssh {item}: {sock}: {e.strerror}") from None
        if not is_sock:
            raise ValueError(f"--ssh {item}: {sock} is not an ssh-agent socket (key files are not supported)")
        out[sid] = os.path.abspath(sock)
    return out


@contextmanager
def prepare(ex: Executor, mounts: list[Mount], line: int, script: tuple[str, str] | None = None,
            ) -> Iterator[Prepared]:  # fmt: skip
    """The step's mounts (and a heredoc script file), removed again when the step is done."""
    out = Prepared()
    with ExitStack() as stack:
        if script is not None:
            path = _tmpdir(stack, "podpy-script-") / "script"
            path.write_text(script[1])
            os.chmod(path, 0o755)
            out.mounts.append(f"type=bind,source={path},target={script[0]},readonly")
        for m in mounts:
            fn = _KINDS.get(m.type)
            if fn is None:
                raise BuildError(f"RUN --mount=type={m.type} is not supported", file=ex.plan.file, line=line,
                                 instruction="RUN")  # fmt: skip
            fn(ex, m, out, stack, line)
        yield out


def _tmpdir(stack: ExitStack, prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    stack.callback(shutil.rmtree, path, True)
    return path


def _bind(ex: Executor, m: Mount, out: Prepared, stack: ExitStack, line: int) -> None:
    named = ex._context_dir(m.from_) if m.from_ else None
    if named is not None:
        root = named
    elif m.from_:
        root = _tmpdir(stack, "podpy-mount-")
        rec = bs.create_step(ex.engine, ex._source_image(m.from_), bs.StepSpec())
        try:
            if m.source.strip("/"):
                bs.export_path(ex.engine, rec, m.source, root)
            else:
                raise BuildError("RUN --mount from= needs a source= path inside it", file=ex.plan.file, line=line,
                                 instruction="RUN")  # fmt: skip
        finally:
            bs.discard(ex.engine, rec)
    else:
        root = ex.opts.context
    src = Path(os.path.realpath(root / m.source.lstrip("/")))
    if src != Path(os.path.realpath(root)) and not str(src).startswith(os.path.realpath(root) + os.sep):
        raise BuildError(f"RUN --mount source {m.source!r} leaves its root", file=ex.plan.file, line=line,
                         instruction="RUN")  # fmt: skip
    if not src.exists():
        raise BuildError(f"RUN --mount source {m.source!r}: no such file or directory", file=ex.plan.file,
                         line=line, instruction="RUN")  # fmt: skip
    if not m.readonly:  # rw: writes go to a copy and are thrown away, as BuildKit does
        copy = _tmpdir(stack, "podpy-mount-rw-") / "src"
        if src.is_dir():
            shutil.copytree(src, copy, symlinks=True)
        else:
            shutil.copy2(src, copy)
        src = copy
    out.mounts.append(f"type=bind,source={src},target={m.target}" + (",readonly" if m.readonly else ""))


def _cache(ex: Executor, m: Mount, out: Prepared, stack: ExitStack, line: int) -> None:

    ident = m.id or m.target
    path = bs.cache_index(ex.engine).parent / "mounts" / hashlib.sha256(ident.encode()).hexdigest()[:32]
    if not path.exists():
        path.mkdir(parents=True, mode=0o755)
        os.chmod(path, m.mode if m.mode is not None else 0o755)
        bs.own_path(path, m.uid or 0, m.gid or 0)
    out.mounts.append(f"type=bind,source={path},target={m.target}" + (",readonly" if m.readonly else ""))


def _tmpfs(ex: Executor, m: Mount, out: Prepared, stack: ExitStack, line: int) -> None:
    out.mounts.append(f"type=tmpfs,target={m.target}" + (f",tmpfs-size={m.size}" if m.size else ""))


def _secret(ex: Executor, m: Mount, out: Prepared, stack: ExitStack, line: int) -> None:
    sid = m.id or os.path.basename(m.target)
    found = ex.opts.secrets.get(sid)
    if found is None:
        if m.required:
            raise BuildError(f"secret {sid} not found: give it with --secret id={sid},src=...", file=ex.plan.file,
                             line=line, instruction="RUN")  # fmt: skip
        return
    kind, where = found
    try:
        value = os.environ[where].encode() if kind == "env" else Path(where).read_bytes()
    except (KeyError, OSError) as e:
        raise BuildError(f"secret {sid}: cannot read {where}: {e}", file=ex.plan.file, line=line,
                         instruction="RUN") from None  # fmt: skip
    if m.env:
        out.env.append(f"{m.env}={value.decode(errors='replace')}")
        if not m.target:
            return
    path = _tmpdir(stack, "podpy-secret-") / sid
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o400)
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    os.chmod(path, m.mode if m.mode is not None else 0o400)
    bs.own_path(path, m.uid or 0, m.gid or 0)
    target = m.target or f"/run/secrets/{sid}"
    out.mounts.append(f"type=bind,source={path},target={target},readonly")


def _ssh(ex: Executor, m: Mount, out: Prepared, stack: ExitStack, line: int) -> None:
    sock = ex.opts.ssh.get(m.id or "default")
    if sock is None:
        if m.required:
            raise BuildError(f"no SSH agent for id {m.id or 'default'}: give --ssh {m.id or 'default'}",
                             file=ex.plan.file, line=line, instruction="RUN")  # fmt: skip
        return
    out.mounts.append(f"type=bind,source={sock},target={m.target}")
    if not any(e.startswith("SSH_AUTH_SOCK=") for e in out.env):
        out.env.append(f"SSH_AUTH_SOCK={m.target}")


_KINDS = {"bind": _bind, "cache": _cache, "tmpfs": _tmpfs, "secret": _secret, "ssh": _ssh}
