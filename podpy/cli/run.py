"""run, create, start, attach, exec: the commands that start processes and connect the terminal."""

from __future__ import annotations

import inspect
from typing import Any

import typer

from podpy.cli import common
from podpy.cli.common import engine

SIG_PROXY_HELP = "Proxy received signals to the container process (non-TTY mode only)"


def _signature(for_run: bool) -> inspect.Signature:
    """IMAGE [COMMAND]... plus the flags of run_flags.FLAGS (one table for typer and the fast path)."""
    from podpy.cli.run_flags import BOOL, FLAGS

    kinds = inspect.Parameter
    params = [
        kinds("image", kinds.POSITIONAL_OR_KEYWORD, annotation=str,
              default=typer.Argument(..., metavar="IMAGE", help="Image (or a directory with --rootfs)")),
        kinds("command", kinds.POSITIONAL_OR_KEYWORD, annotation=list[str] | None,
              default=typer.Argument(None, metavar="[COMMAND [ARG...]]", help="Command and arguments")),
    ]  # fmt: skip
    for f in FLAGS:
        if f.run_only and not for_run:
            continue
        decls = f.decls
        if f.kind == BOOL and f.default is True:
            decls = (f"{decls[0]}/--no-{decls[0][2:]}", *decls[1:])
        opt = typer.Option(f.default, *decls, help=f.help)
        params.append(kinds(f.field, kinds.KEYWORD_ONLY, default=opt, annotation=f.annotation))
    return inspect.Signature(params, return_annotation=None)


def run(image: str, command: list[str] | None = None, **kw: Any) -> None:
    """Run a command in a new container."""
    from podpy.cli.run_core import run_container

    raise typer.Exit(run_container(image, command, kw))


def create(image: str, command: list[str] | None = None, **kw: Any) -> None:
    """Create a new container (without starting it); prints its ID."""
    from podpy.cli.run_core import create as create_container

    common.out(create_container(image, command, kw).id)


run.__signature__ = _signature(for_run=True)  # type: ignore[attr-defined]
create.__signature__ = _signature(for_run=False)  # type: ignore[attr-defined]


def start(
    containers: list[str] | None = typer.Argument(None, metavar="CONTAINER...", help="Containers to start"),
    all_: bool = typer.Option(False, "--all", help="Start all containers regardless of their state or configuration"),
    attach: bool = typer.Option(False, "--attach", "-a", help="Attach STDOUT/STDERR and forward signals"),
    detach_keys: str | None = typer.Option(None, "--detach-keys", help="Key sequence for detaching a container"),
    filter_: list[str] | None = typer.Option(None, "--filter", "-f", help="Filter based on conditions given"),
    ignore: bool = typer.Option(False, "--ignore", help="Ignore errors when a specified container is missing"),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Attach the container's STDIN"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
    sig_proxy: bool = typer.Option(True, "--sig-proxy", help=SIG_PROXY_HELP),
) -> None:
    """Start one or more stopped containers."""
    from podpy.cli import ctr_select as sel
    from podpy.cli.run_core import run_attached
    from podpy.errors import InvalidArgument

    svc = engine().containers
    refs = sel.select(containers, all_=all_, filters=filter_, latest=latest,
                      keep=lambda r: r.state.status not in ("running", "restarting"))  # fmt: skip
    if (attach or interactive) and len(refs) > 1:
        raise InvalidArgument("you cannot start and attach multiple containers at once")
    if attach or interactive:
        rec = svc.get(refs[0])
        rec.open_stdin = rec.open_stdin and interactive
        raise typer.Exit(run_attached(rec, sig_proxy))

    def one(ref: str) -> str:
        _rec, launch = svc.start(ref, None)
        if launch is not None:
            launch.close()
        return ref

    sel.each(refs, one, ignore_missing=ignore)


def attach(
    container: str | None = typer.Argument(None, metavar="CONTAINER", help="Container"),
    no_stdin: bool = typer.Option(False, "--no-stdin", help="Do not attach STDIN"),
    sig_proxy: bool = typer.Option(True, "--sig-proxy", help=SIG_PROXY_HELP),
    detach_keys: str | None = typer.Option(None, "--detach-keys", help="Key sequence for detaching"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
) -> None:
    """Attach to a running container's input and output (detach with ctrl-p ctrl-q)."""
    from podpy.cli import tty as term
    from podpy.cli.ctr_select import select
    from podpy.cli.run_core import quiet
    from podpy.engine import container_record as cr
    from podpy.engine import events as ev
    from podpy.errors import ContainerState
    from podpy.supervisor.protocol import parse_detach_keys

    svc = engine().containers
    refs = select([container] if container else [], latest=latest)
    if len(refs) != 1:
        raise ContainerState("you can only attach to running containers")  # --latest of no container
    rec = svc.get(refs[0])
    if rec.state.status != cr.RUNNING:
        raise ContainerState("you can only attach to running containers")
    is_tty = bool(rec.spec.get("terminal"))
    sock = term.attach_socket(svc.run_dir(rec.id))
    ev.container(svc, rec, "attach")

    def forward(sig: int) -> None:
        if sig_proxy and not is_tty:
            quiet(lambda: svc.kill(rec.id, sig))

    with term.proxy_signals(forward):
        keys = None if detach_keys is None else parse_detach_keys(detach_keys)
        code = term.relay_attach(sock, rec.open_stdin and not no_stdin, is_tty, keys)
    sock.close()
    raise typer.Exit(0 if code is None else code)


def exec_(
    container: str = typer.Argument(..., help="Container (with -l: the command's first word)"),
    command: list[str] | None = typer.Argument(None, help="Command and arguments"),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Keep STDIN open"),
    tty: bool = typer.Option(False, "--tty", "-t", help="Allocate a pseudo-TTY"),
    detach: bool = typer.Option(False, "--detach", "-d", help="Run the command in the background"),
    env: list[str] | None = typer.Option(None, "--env", "-e", help="Set environment variables"),
    env_file: list[str] | None = typer.Option(None, "--env-file", help="Read in a file of environment variables"),
    user: str | None = typer.Option(None, "--user", "-u", help="Username or UID[:GID]"),
    workdir: str | None = typer.Option(None, "--workdir", "-w", help="Working directory"),
    privileged: bool = typer.Option(False, "--privileged", help="Give extended privileges to the command"),
    latest: bool = typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of"),
    preserve_fds: int | None = typer.Option(
        None, "--preserve-fds", help="Pass N additional file descriptors (3 to 3+N-1) to the process"
    ),
    detach_keys: str | None = typer.Option(
        None, "--detach-keys", help='Key sequence for detaching from -it (default ctrl-p,ctrl-q; "" disables)'
    ),
) -> None:
    """Run a process in a running container."""
    from podpy.cli.exec_core import run_exec

    raise typer.Exit(run_exec([container, *(command or [])], interactive=interactive, tty=tty, detach=detach,
                              env=env, env_file=env_file, user=user, workdir=workdir, privileged=privileged,
                              latest=latest, preserve_fds=preserve_fds, detach_keys=detach_keys))  # fmt: skip
