"""What every command handler shares: the engine for this invocation, errors, output."""

from __future__ import annotations

import sys

from podpy.config import Options

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine import Engine

_options: Options | None = None
_engine: Engine | None = None


def set_options(opts: Options) -> None:
    global _options, _engine
    _options, _engine = opts, None


def configure(**opts: object) -> None:
    """Validate the global options (full CLI and run's fast path alike) and keep them for engine()."""
    from podpy.config import CGROUP_MANAGERS, EVENTS_BACKENDS, LOG_LEVELS, STORAGE_DRIVERS
    from podpy.errors import InvalidArgument

    level = str(opts.get("log_level") or "warn").lower()
    if level not in LOG_LEVELS:
        raise InvalidArgument(f'invalid log level "{level}"; valid levels are: {", ".join(LOG_LEVELS)}')
    driver = opts.get("storage_driver")
    if driver is not None and driver not in STORAGE_DRIVERS:
        raise InvalidArgument(f"unknown storage driver {driver!r} (choose {' or '.join(STORAGE_DRIVERS)})")
    for key, allowed in (("cgroup_manager", CGROUP_MANAGERS), ("events_backend", EVENTS_BACKENDS)):
        value = opts.get(key)
        if value is not None and value not in allowed:
            flag = "--" + key.replace("_", "-")
            raise InvalidArgument(f"invalid {flag} {value!r}: choose {' or '.join(allowed)}")
    opts = dict(opts)
    if opts.get("runtime_flags") is not None:
        opts["runtime_flags"] = tuple(opts["runtime_flags"])  # type: ignore[arg-type]
    if opts.pop("noout", False):  # podman's --noout: nothing on stdout (the container's output neither)
        _silence_stdout()
    if opts.get("tmpdir"):
        _use_tmpdir(str(opts["tmpdir"]))
    set_options(Options.from_env(**{**opts, "log_level": level}))


def _silence_stdout() -> None:
    import os

    sys.stdout.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)


def _use_tmpdir(path: str) -> None:
    """--tmpdir: podpy's temporary files (and its children's) go there."""
    import os
    import tempfile

    from podpy.errors import InvalidArgument

    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise InvalidArgument(f"--tmpdir {path}: {e.strerror}") from None
    os.environ["TMPDIR"] = path
    tempfile.tempdir = path


def log_level() -> str:
    return _options.log_level if _options else "warn"


def engine() -> Engine:
    """The engine for this invocation, built on first use from the global options."""
    global _engine
    if _engine is None:
        from podpy.engine import Engine

        _engine = Engine(_options or Options.from_env())
    return _engine


def out(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def each(refs: list[str], action: Any) -> int:
    """Apply `action` to every ref, printing what it returns (unless None); report failures. The exit
    code: 0, the error's own for a single ref, else 125."""
    from podpy.errors import PodpyError

    failed: PodpyError | None = None
    for ref in refs:
        try:
            shown = action(ref)
        except PodpyError as e:
            err(f"Error: {e}")
            failed = e
            continue
        if shown is not None:
            out(str(shown))
    if failed is None:
        return 0
    return failed.exit_code if len(refs) == 1 else 125


def warn(text: str) -> None:
    err(f"WARNING: {text}")


def logrus_warn(text: str) -> None:
    """A warning as Podman prints it (logrus): `WARN[0000] ...` on a terminal, key=value lines otherwise."""
    if sys.stderr.isatty():
        err(f"WARN[0000] {text}")
        return
    from datetime import datetime

    now = datetime.now().astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")
    err(f'time="{now}" level=warning msg="{text}"')


def render(rows: list[dict[str, Any]], fmt: str | None, default: str, headers: dict[str, str] | None = None,
           noheading: bool = False) -> None:  # fmt: skip
    """A list command's output; `noheading` (Podman's --noheading) drops a table's header line."""
    from podpy.cli import format as fmtmod

    text = fmtmod.render(rows, fmt, default, headers=headers)
    table = not (fmt or "").strip() or (fmt or "").strip().startswith("table")
    out(text.partition("\n")[2] if noheading and table else text)


def render_one(obj: Any, fmt: str | None) -> None:
    """inspect-style output: a JSON array by default, a template executed per object otherwise."""
    from podpy.cli import format as fmtmod

    items = obj if isinstance(obj, list) else [obj]
    if not fmt or fmt == "json":
        out(fmtmod.render_json(items))
        return
    tmpl = fmtmod.compile_template(fmt)
    out("".join(tmpl.execute(fmtmod.template_view(i)) + "\n" for i in items))


def confirm(prompt: str) -> bool:
    """Podman's `[y/N]` question: the prompt on stdout, the answer read from stdin whether or not it is a
    terminal (`echo y | podpy system prune` answers it); anything but y/yes, or end of input, is no."""
    sys.stdout.write(prompt + " [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stdout.write("\n")
    return answer.strip().lower() in ("y", "yes")
