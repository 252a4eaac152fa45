"""The containers a lifecycle verb acts on, as Podman picks them: the named ones and those read from
`--cidfile`, or `--all` / `--latest` / `--filter` ones; plus the shared options those verbs take.
Importing it costs no typer (the fast path uses select/each; the option factories import it)."""

from __future__ import annotations

from collections.abc import Callable

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

ALL_HELP = "Act on all containers"
FILTER_HELP = "Filter output based on conditions given (as ps: name, id, label, status, ancestor, ...)"


def all_opt(help_text: str = ALL_HELP, short: bool = True) -> Any:
    import typer

    return typer.Option(False, "--all", *(("-a",) if short else ()), help=help_text)


def filter_opt(short: bool = True) -> Any:
    import typer

    return typer.Option(None, "--filter", *(("-f",) if short else ()), help=FILTER_HELP)


def latest_opt() -> Any:
    import typer

    return typer.Option(False, "--latest", "-l", help="Act on the latest container podpy is aware of")


def cidfile_opt() -> Any:
    import typer

    return typer.Option(None, "--cidfile", help="Read the container ID from the file")


def ignore_opt(short: bool = True) -> Any:
    import typer

    return typer.Option(
        False,
        "--ignore",
        *(("-i",) if short else ()),
        help="Ignore errors when a specified container is missing",
    )


def select(
    refs: list[str] | None,
    *,
    all_: bool = False,
    filters: list[str] | None = None,
    latest: bool = False,
    cidfiles: list[str] | None = None,
    keep: Callable[[Any], bool] | None = None,
) -> list[str]:
    """Refs as given (names stay names: they are printed back), or full IDs for --all/--filter/--latest."""
    from podpy.cli.common import engine
    from podpy.errors import InvalidArgument

    refs = [*(refs or []), *read_id_files(cidfiles, "CIDFile")]
    exclusive(refs, all_, latest)
    if filters and refs:
        raise InvalidArgument("--filter takes no arguments")
    if not (all_ or latest or filters):
        if not refs:
            raise InvalidArgument("you must provide at least one name or id")
        return refs
    svc = engine().containers
    recs = svc.ps(True, filters) if filters else svc.list(all_=True)
    if keep is not None:
        recs = [r for r in recs if keep(r)]
    return [r.id for r in (recs[:1] if latest else recs)]


def read_id_files(paths: list[str] | None, what: str) -> list[str]:
    """The IDs in --cidfile / --pod-id-file files, Podman's error when one cannot be read."""
    from podpy.errors import InvalidArgument

    out = []
    for path in paths or []:
        try:
            with open(path) as f:
                out.append(f.read().strip())
        except OSError as e:
            raise InvalidArgument(f"reading {what}: open {path}: {(e.strerror or str(e)).lower()}") from None
    return out


def exclusive(refs: list[str], all_: bool, latest: bool) -> None:
    """Names (or ID files) exclude --all and --latest, as in Podman."""
    from podpy.errors import InvalidArgument

    if all_ and refs:
        raise InvalidArgument("no arguments are needed with --all")
    if latest and refs:
        raise InvalidArgument("--latest and containers cannot be used together")


def running(rec: Any) -> bool:
    return rec.state.status == "running"


def exit_code(errors: list[Any], count: int) -> int:
    """As for_each: the error's own code for one container, 125 for several."""
    return errors[-1].exit_code if count == 1 else 125


def rm_exit_code(errors: list[Any], count: int) -> int:
    """Podman's rm: 1 when a container is missing, 2 when one is running (no --force), else 125."""
    from podpy.errors import ContainerState, NoSuchContainer

    if any(isinstance(e, NoSuchContainer) for e in errors):
        return 1
    if any(isinstance(e, ContainerState) and "without force" in str(e) for e in errors):
        return 2
    return exit_code(errors, count)


def each(
    refs: list[str],
    action: Callable[[str], Any],
    *,
    ignore_missing: bool = False,
    code: Callable[[list[Any], int], int] = exit_code,
) -> None:
    """Apply `action` to every ref, printing what it returns; report failures (missing ones skipped
    with `ignore_missing`), print any engine notices (Podman's warnings), exit non-zero at the end."""
    from podpy.cli import common
    from podpy.errors import NoSuchContainer, PodpyError

    errors: list[PodpyError] = []
    for ref in refs:
        try:
            shown = action(ref)
        except NoSuchContainer as e:
            if not ignore_missing:
                common.err(f"Error: {e}")
                errors.append(e)
            continue
        except PodpyError as e:
            common.err(f"Error: {e}")
            errors.append(e)
            continue
        finally:
            _notices()
        if shown is not None:
            common.out(str(shown))
    if errors:
        raise SystemExit(code(errors, len(refs)))  # typer-free: the fast path runs this too


def _notices() -> None:
    from podpy.cli import common

    svc = common.engine().containers
    for text in svc.notices:
        common.logrus_warn(text)
    svc.notices.clear()


def remove(containers: list[str] | None, *, all_: bool = False, cidfile: list[str] | None = None,
           depend: bool = False, filter_: list[str] | None = None, force: bool = False, ignore: bool = False,
           latest: bool = False, time_: int | None = None, volumes: bool = False) -> None:  # fmt: skip
    """`rm` (the typer command and the fast path): Podman's selection, --depend order and exit codes."""
    from podpy.cli import common

    svc = common.engine().containers
    refs = select(containers, all_=all_, filters=filter_, latest=latest, cidfiles=cidfile)
    removed: set[str] = set()  # by --depend already

    def one(ref: str) -> str | None:
        if depend:
            from podpy.engine.container_deps import removal_order

            cid = svc.resolve(ref)
            if cid in removed:
                return None
            for dep in removal_order(svc, cid)[:-1]:
                if dep not in removed:
                    remove_one(dep)
                    common.out(dep)
        remove_one(ref)
        return ref

    def remove_one(ref: str) -> None:
        if force and time_:  # the stop signal and up to --time seconds first; -f alone kills at once
            svc.stop(ref, time_)
        removed.add(svc.remove(ref, force, volumes))

    each(refs, one, ignore_missing=ignore or force, code=rm_exit_code)
