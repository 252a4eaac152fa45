"""The frequent commands without typer: their flags as tables, their bodies as in the typer modules.

fastpath.dispatch looks a command up here and parses its arguments with its table; a flag, form or
argument count the table does not know returns None, and the typer CLI takes the whole command
line (help, errors, and flags added there later stay right). The bodies mirror the typer handlers
(containers.ps/rm/logs/container_inspect, images.images/rmi/image_inspect/inspect_any/save/load,
volumes.ls, run.exec_) and share their helpers; a change of behaviour goes into both. No typer import here.
"""

from __future__ import annotations

from podpy.cli import common

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

B, S, L, I = "bool", "str", "list", "int"  # noqa: E741

IMAGES_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_TABLE_DIGESTS = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
HISTORY_COLUMN = "\t{{if .History}}{{.History}}{{else}}<none>{{end}}"  # images --history, as Podman
VOLUMES_TABLE = "table {{.Driver}}\t{{.Name}}"


class Cmd:
    """A command: flags (declaration -> (keyword, kind, default)), how many positionals, its body."""

    def __init__(self, handler: Callable[[dict[str, Any], list[str]], int], flags: dict[str, tuple[str, str, Any]],
                 nargs: tuple[int, int | None], interspersed: bool = True) -> None:  # fmt: skip
        self.handler, self.flags, self.nargs, self.interspersed = handler, flags, nargs, interspersed


def _flags(*specs: tuple[str, str, Any, tuple[str, ...]]) -> dict[str, tuple[str, str, Any]]:
    return {d: (field, kind, default) for field, kind, default, decls in specs for d in decls}


def parse(cmd: Cmd, args: list[str]) -> tuple[dict[str, Any], list[str]] | None:
    """(keywords, positionals), or None when typer must parse `args` (click's rules otherwise)."""
    kw = {field: ([] if kind == L else default) for field, kind, default in cmd.flags.values()}
    pos: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            pos.extend(args[i + 1 :])
            break
        if arg == "-" or not arg.startswith("-") or (pos and not cmd.interspersed):
            if not cmd.interspersed:
                pos.extend(args[i:])
                break
            pos.append(arg)
            i += 1
            continue
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            flag = cmd.flags.get(name)
            if flag is None or (eq and flag[1] == B):
                return None
            taken = _value(flag, value if eq else None, args, i, kw)
        elif (flag := cmd.flags.get(arg[:2])) is not None and flag[1] != B:
            attached = arg[3:] if arg[2:3] == "=" else arg[2:]  # pflag: -f=x and -fx are both x
            taken = _value(flag, attached or None, args, i, kw)
        else:  # -aq
            for ch in arg[1:]:
                f = cmd.flags.get("-" + ch)
                if f is None or f[1] != B:
                    return None
                kw[f[0]] = True
            taken = 1
        if taken is None:
            return None
        i += taken
    lo, hi = cmd.nargs
    if len(pos) < lo or (hi is not None and len(pos) > hi):
        return None
    return kw, pos


def _value(
    flag: tuple[str, str, Any], value: str | None, args: list[str], i: int, kw: dict[str, Any]
) -> int | None:
    field, kind, _ = flag
    if kind == B:
        kw[field] = True
        return 1
    taken = 1
    if value is None:
        if i + 1 >= len(args):
            return None
        value, taken = args[i + 1], 2
    if kind == L:
        kw[field].append(value)
    elif kind == I:
        if not value.lstrip("-").isdigit():
            return None
        kw[field] = int(value)
    else:
        kw[field] = value
    return taken


# ---- bodies (mirroring the typer handlers)


def ps(kw: dict[str, Any], pos: list[str]) -> int:
    from podpy.cli.ps_rows import ps_listing

    common.out(ps_listing(kw["all_"], kw["filter_"], kw["format_"], kw["last"], kw["latest"], kw["no_trunc"],
                          kw["noheading"], kw["ns"], kw["pod"], kw["quiet"], kw["size"], kw["sort"]))  # fmt: skip
    return 0


IMAGES_SORT = ("created", "id", "repository", "size", "tag")


def list_images(repository: str | None = None, all_: bool = False, digests: bool = False,
                filter_: list[str] | None = None, format_: str | None = None, no_trunc: bool = False,
                noheading: bool = False, quiet: bool = False, sort: str = "created",
                history: bool = False) -> None:  # fmt: skip
    """`images` (the typer command and the fast path)."""
    if sort not in IMAGES_SORT:
        from podpy.errors import InvalidArgument

        raise InvalidArgument(f"\"{sort}\" is not a valid field for sorting. Choose from: {', '.join(IMAGES_SORT)}")
    eng = common.engine()
    rows: list[dict[str, Any]] = []
    if filter_ or repository or _has_images(eng):  # an empty store: no image modules (~8 ms) imported
        from podpy.engine.image_listing import list_images as rows_of

        rows = rows_of(eng, repository, filter_ or [], all_=all_)
    if sort != "created":  # listed newest first already
        key = {"id": "FullID", "repository": "Repository", "size": "Size", "tag": "Tag"}[sort]
        rows.sort(key=lambda r: (r[key], r["Repository"], r["Tag"]) if sort == "size" else str(r[key]))
    for r in rows:
        from podpy.cli import humanize

        r["CreatedSince"] = humanize.ago(r["CreatedAt"])
        r["Size"] = humanize.size(r["Size"])
        r["CreatedAt"] = humanize.local_time(r["CreatedAt"])
        if no_trunc:
            r["ID"] = r["FullID"]
    if quiet:
        common.out("\n".join(dict.fromkeys(r["ID"] for r in rows)))
        return
    default = (IMAGES_TABLE_DIGESTS if digests else IMAGES_TABLE) + (HISTORY_COLUMN if history else "")
    common.render(rows, format_, default, headers={"ID": "IMAGE ID"}, noheading=noheading)


def _has_images(eng: Any) -> bool:
    """False when the store has no image (no index yet, or an empty one): `images` then skips the image
    modules. Anything unexpected is True: the full path reads (and reports) it."""
    from podpy.state import read_json

    try:
        return bool(read_json(eng.layout.images_json, default={"images": {}})["images"])
    except Exception:
        return True


def images(kw: dict[str, Any], pos: list[str]) -> int:
    list_images(pos[0] if pos else None, **kw)
    return 0


def volume_row(v: Any, mountpoint: str) -> dict[str, Any]:
    from podpy.cli import humanize

    labels = ",".join(f"{k}={val}" for k, val in v.labels.items())
    return {"Availability": "N/A", "CreatedAt": humanize.local_time(v.created_at), "Driver": v.driver,
            "Group": "N/A", "Labels": labels, "Links": "N/A", "Mountpoint": mountpoint, "Name": v.name,
            "Options": ",".join(f"{k}={val}" for k, val in v.options.items()), "Scope": "local",
            "Size": "N/A", "Status": "N/A", "Anonymous": v.anonymous}  # fmt: skip


def list_volumes(quiet: bool = False, filter_: list[str] | None = None, format_: str | None = None,
                 noheading: bool = False) -> None:  # fmt: skip
    """`volume ls` (the typer command and the fast path)."""
    from podpy.state.layout import holds_nothing

    eng = common.engine()
    if not filter_ and holds_nothing(eng.layout.volumes):
        vols, rows = [], []  # no volumes: the volume modules (~5 ms of imports) are not needed
    else:
        svc = eng.volumes
        vols = svc.list(filter_ or [])
        rows = [volume_row(v, str(svc.mountpoint(v.name))) for v in vols]
    if quiet:
        common.out("".join(v.name + "\n" for v in vols))
        return
    common.render(rows, format_, VOLUMES_TABLE, headers={"Name": "VOLUME NAME"}, noheading=noheading)


def volume_ls(kw: dict[str, Any], pos: list[str]) -> int:
    list_volumes(**kw)
    return 0


def inspect_objects(names: list[str] | None, format_: str | None = None, type_: str = "all", size: bool = False,
                    latest: bool = False) -> None:  # fmt: skip
    """`inspect`: containers, images, volumes, networks or pods by name (or --type)."""
    from podpy.cli.logs_out import targets
    from podpy.engine.inspect_any import inspect_objects as find

    refs = targets(names, latest, "object") if latest or type_ != "all" or not names else list(names)
    common.render_one(find(common.engine(), refs, "container" if latest else type_, _pod_doc, size), format_)


def _pod_doc(name: str) -> dict[str, Any] | None:
    """A pod's inspect document (None: no pods here, or not one of them)."""
    if not (common.engine().layout.root / "pods").is_dir():
        return None
    from podpy.cli.pods import _inspect_doc, _svc

    svc = _svc()
    return _inspect_doc(svc, svc.get(name))


def inspect_containers(names: list[str] | None, format_: str | None = None, size: bool = False,
                       latest: bool = False) -> None:  # fmt: skip
    """`container inspect`, with Docker's SizeRw / SizeRootFs for --size."""
    from podpy.cli.logs_out import targets
    from podpy.engine.inspect_any import container_size

    eng = common.engine()
    docs = [eng.containers.inspect(n) for n in targets(names, latest)]
    if size:
        for doc in docs:
            container_size(eng, doc)
    common.render_one(docs, format_)


def inspect_any(kw: dict[str, Any], pos: list[str]) -> int:
    inspect_objects(pos, kw["format_"], kw["type_"], kw["size"], kw["latest"])
    return 0


def container_inspect(kw: dict[str, Any], pos: list[str]) -> int:
    inspect_containers(pos, kw["format_"], kw["size"], kw["latest"])
    return 0


def inspect_images(names: list[str], format_: str | None = None) -> None:
    """`image inspect` (the typer command and the fast path)."""
    from podpy.engine.image_views import inspect

    eng = common.engine()
    objs = []
    for n in names:
        img = eng.images.get(n)
        objs.append(inspect(eng, img, eng.images.config(img)))
    common.render_one(objs, format_)


def image_inspect(kw: dict[str, Any], pos: list[str]) -> int:
    inspect_images(pos, kw["format_"])
    return 0


def save_images(images_: list[str], output: str | None = None, format_: str = "docker-archive",
                compress: bool = False) -> None:  # fmt: skip
    import sys

    from podpy.engine.archive_save import save_archive
    from podpy.errors import InvalidArgument

    if output is None and sys.stdout.isatty() and format_ not in ("oci-dir", "docker-dir"):
        raise InvalidArgument("refusing to save to terminal. Use -o flag or redirect")
    save_archive(common.engine(), images_, format_, output, compress=compress)


def save(kw: dict[str, Any], pos: list[str]) -> int:
    save_images(pos, kw["output"], kw["format_"], kw["compress"])
    return 0


def load_images(input_: str | None = None) -> None:
    import sys

    from podpy.engine.archives import load_archive
    from podpy.errors import InvalidArgument
    from podpy.image import reference

    if input_ is None and sys.stdin.isatty():
        raise InvalidArgument("cannot read an archive from a terminal: use -i FILE or redirect stdin")
    for img, names in load_archive(common.engine(), input_):
        common.out("Loaded image: " + (", ".join(reference.familiar(n) for n in names) if names else img.id))


def load(kw: dict[str, Any], pos: list[str]) -> int:
    load_images(kw["input_"])
    return 0


def rm(kw: dict[str, Any], pos: list[str]) -> int:
    from podpy.cli import ctr_select

    ctr_select.remove(pos, **kw)
    return 0


def remove_images(images_: list[str], force: bool = False, all_: bool = False, ignore: bool = False,
                  no_prune: bool = False) -> int:  # fmt: skip
    """`rmi`: Untagged/Deleted lines; the exit code (the error's own for one image, else 125).
    -i skips images that do not exist; --no-prune keeps dangling parents, which podpy never removes."""
    from podpy.engine.image_remove import remove_images as remove
    from podpy.errors import NoSuchImage, PodpyError
    from podpy.image import reference

    if images_ and all_:
        raise PodpyError("when using the --all switch, you may not pass any images names or IDs")
    if not images_ and not all_:
        raise PodpyError("image name or ID must be specified")
    failed: PodpyError | None = None
    for rep in remove(common.engine(), images_, force=force, all_=all_):
        if isinstance(rep, NoSuchImage) and ignore:
            continue
        if isinstance(rep, PodpyError):
            common.err(f"Error: {rep}")
            failed = rep
            continue
        for name in rep.untagged:
            common.out(f"Untagged: {reference.familiar(name)}")
        for d in rep.deleted:
            common.out(f"Deleted: {d}")
    return (failed.exit_code if len(images_) == 1 else 125) if failed else 0


def rmi(kw: dict[str, Any], pos: list[str]) -> int:
    return remove_images(pos, **kw)


def logs(kw: dict[str, Any], pos: list[str]) -> int:
    from podpy.cli.logs_out import show_logs

    if kw["follow"]:
        _gc_back_on()  # may run for hours
    show_logs(pos, **kw)
    return 0


def exec_(kw: dict[str, Any], pos: list[str]) -> int:
    from podpy.cli.exec_core import run_exec

    if not kw["detach"]:
        _gc_back_on()  # the relay may run for hours
    return run_exec(pos, **kw)


def _gc_back_on() -> None:
    """fastpath turns the collector off for start-up; a command that may run long turns it back on."""
    import gc

    gc.enable()


# ---- the tables (the typer declarations of the same commands)

_FILTER = ("filter_", L, None, ("--filter", "-f"))
_FORMAT = ("format_", S, None, ("--format",))
_FORMAT_F = ("format_", S, None, ("--format", "-f"))
PS = Cmd(ps, _flags(("all_", B, False, ("--all", "-a")), ("quiet", B, False, ("--quiet", "-q")),
                    ("latest", B, False, ("--latest", "-l")), ("last", I, -1, ("--last", "-n")),
                    ("size", B, False, ("--size", "-s")), ("no_trunc", B, False, ("--no-trunc",)), _FILTER, _FORMAT,
                    ("pod", B, False, ("--pod", "-p")), ("noheading", B, False, ("--noheading",)),
                    ("ns", B, False, ("--ns",)), ("sort", S, None, ("--sort",)), ("external", B, False, ("--external",)),
                    ("sync", B, False, ("--sync",))), (0, 0))  # fmt: skip
IMAGES = Cmd(images, _flags(("all_", B, False, ("--all", "-a")), ("quiet", B, False, ("--quiet", "-q")),
                            ("digests", B, False, ("--digests",)), ("no_trunc", B, False, ("--no-trunc",)),
                            _FILTER, _FORMAT, ("noheading", B, False, ("--noheading", "-n")),
                            ("sort", S, "created", ("--sort",)), ("history", B, False, ("--history",))), (0, 1))  # fmt: skip
VOLUME_LS = Cmd(volume_ls, _flags(("quiet", B, False, ("--quiet", "-q")), _FILTER, _FORMAT,
                                  ("noheading", B, False, ("--noheading",))), (0, 0))  # fmt: skip
_LATEST = ("latest", B, False, ("--latest", "-l"))
INSPECT = Cmd(inspect_any, _flags(_FORMAT_F, ("type_", S, "all", ("--type", "-t")), ("size", B, False, ("--size", "-s")),
                                  _LATEST), (0, None))  # fmt: skip
CONTAINER_INSPECT = Cmd(container_inspect, _flags(_FORMAT_F, ("size", B, False, ("--size", "-s")), _LATEST), (0, None))
IMAGE_INSPECT = Cmd(image_inspect, _flags(_FORMAT_F), (1, None))
RM = Cmd(rm, _flags(("force", B, False, ("--force", "-f")), ("volumes", B, False, ("--volumes", "-v")),
                    ("all_", B, False, ("--all", "-a")), ("cidfile", L, None, ("--cidfile",)),
                    ("depend", B, False, ("--depend",)), ("filter_", L, None, ("--filter",)),
                    ("ignore", B, False, ("--ignore", "-i")), _LATEST, ("time_", I, None, ("--time", "-t"))),
         (0, None))  # fmt: skip
RMI = Cmd(rmi, _flags(("force", B, False, ("--force", "-f")), ("all_", B, False, ("--all", "-a")),
                      ("ignore", B, False, ("--ignore", "-i")), ("no_prune", B, False, ("--no-prune",))), (0, None))
LOGS = Cmd(logs, _flags(("follow", B, False, ("--follow", "-f")), ("timestamps", B, False, ("--timestamps", "-t")),
                        ("tail", S, None, ("--tail",)), ("since", S, None, ("--since",)),
                        ("until", S, None, ("--until",)), ("names", B, False, ("--names", "-n")),
                        ("color", B, False, ("--color",)), _LATEST), (0, None))  # fmt: skip
EXEC = Cmd(exec_, _flags(("interactive", B, False, ("--interactive", "-i")), ("tty", B, False, ("--tty", "-t")),
                         ("detach", B, False, ("--detach", "-d")), ("env", L, None, ("--env", "-e")),
                         ("user", S, None, ("--user", "-u")), ("workdir", S, None, ("--workdir", "-w")),
                         ("privileged", B, False, ("--privileged",)), ("env_file", L, None, ("--env-file",)),
                         ("preserve_fds", I, None, ("--preserve-fds",)),
                         ("detach_keys", S, None, ("--detach-keys",))), (2, None), interspersed=False)  # fmt: skip
SAVE = Cmd(save, _flags(("output", S, None, ("--output", "-o")), ("format_", S, "docker-archive", ("--format",)),
                        ("multi_image_archive", B, False, ("--multi-image-archive", "-m")),
                        ("uncompressed", B, False, ("--uncompressed",)), ("quiet", B, False, ("--quiet", "-q")),
                        ("compress", B, False, ("--compress",))), (1, None))  # fmt: skip
LOAD = Cmd(load, _flags(("input_", S, None, ("--input", "-i")), ("quiet", B, False, ("--quiet", "-q"))), (0, 0))

COMMANDS: dict[tuple[str, ...], Cmd] = {
    ("ps",): PS, ("container", "ps"): PS, ("container", "ls"): PS, ("container", "list"): PS,
    ("images",): IMAGES, ("image", "ls"): IMAGES, ("image", "list"): IMAGES,
    ("volume", "ls"): VOLUME_LS, ("volume", "list"): VOLUME_LS,
    ("inspect",): INSPECT, ("container", "inspect"): CONTAINER_INSPECT, ("image", "inspect"): IMAGE_INSPECT,
    ("rm",): RM, ("container", "rm"): RM, ("rmi",): RMI, ("image", "rm"): RMI,
    ("logs",): LOGS, ("container", "logs"): LOGS, ("exec",): EXEC, ("container", "exec"): EXEC,
    ("save",): SAVE, ("image", "save"): SAVE, ("load",): LOAD, ("image", "load"): LOAD,
}  # fmt: skip


def lookup(args: list[str], commands: dict[tuple[str, ...], Cmd] | None = None) -> tuple[Cmd, list[str]] | None:
    """The command `args` start with (one or two words; in `commands`, else this module's table) and
    the arguments after it."""
    for n in (2, 1):
        cmd = (COMMANDS if commands is None else commands).get(tuple(args[:n]))
        if cmd is not None:
            return cmd, args[n:]
    return None
