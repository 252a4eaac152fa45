"""`build`'s flags beyond the common ones (build_flags.EXTRA_FLAGS): checks, the BuildRequest fields
they give, --logfile and --output. No typer here."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from podpy.errors import InvalidArgument

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.engine.core import Engine


def platform(given: str | None, kw: dict[str, Any]) -> str | None:
    """--platform, or the one --os/--arch/--variant name (only this host's can be built; the
    frontend refuses another)."""
    from podpy.build.buildargs import host_platform

    if kw.get("all_platforms") and (given or kw.get("os") or kw.get("arch") or kw.get("variant")):
        raise InvalidArgument("--all-platforms cannot be combined with --platform, --os, --arch or --variant")
    if not (kw.get("os") or kw.get("arch") or kw.get("variant")):
        if given and "," in given:
            raise InvalidArgument(f"--platform {given}: building several platforms is not supported (only the host's)")  # fmt: skip
        return given
    host = host_platform()
    if given:
        raise InvalidArgument("--platform cannot be combined with --os, --arch or --variant")
    os_, arch = kw.get("os") or host.os, kw.get("arch") or host.arch
    variant = kw.get("variant") or (host.variant if not kw.get("arch") else "")
    return "/".join(p for p in (os_, arch, variant) if p)


def check(kw: dict[str, Any]) -> None:
    """The flags podpy accepts but cannot honour with other values: a clear error before any work."""
    if kw.get("sign_by"):
        raise InvalidArgument("--sign-by: signing images is not supported")
    if kw.get("manifest"):
        raise InvalidArgument(f"--manifest {kw['manifest']}: manifest lists are not supported: build, then push the image")  # fmt: skip
    iso = (kw.get("isolation") or os.environ.get("BUILDAH_ISOLATION") or "oci").lower()
    if iso not in ("oci", "chroot", "rootless", "default"):
        raise InvalidArgument(f"--isolation {iso!r}: use oci, chroot or rootless")
    if kw.get("jobs") is not None and kw["jobs"] < 0:
        raise InvalidArgument(f"--jobs {kw['jobs']}: must be 0 or more")
    if kw.get("timestamp") is not None and kw["timestamp"] < 0:
        raise InvalidArgument(f"--timestamp {kw['timestamp']}: must be seconds since the epoch")
    for d in kw.get("hooks_dir") or []:
        hooks = sorted(Path(d).glob("*.json")) if Path(d).is_dir() else []
        if hooks:
            raise InvalidArgument(f"--hooks-dir {d}: OCI hooks are not supported ({hooks[0].name})")
    if kw.get("logsplit") and not kw.get("logfile"):
        raise InvalidArgument("cannot use --logsplit without --logfile")
    if kw.get("output"):
        from podpy.build.output import parse_output

        parse_output(kw["output"])
    if kw.get("runtime_flag"):
        _add_runtime_flags(kw["runtime_flag"])


def _add_runtime_flags(flags: list[str]) -> None:
    from podpy.cli import common
    from podpy.record import replace

    opts = common._options
    if opts is not None:
        common.set_options(replace(opts, runtime_flags=(*opts.runtime_flags, *flags)))


def request_fields(kw: dict[str, Any]) -> dict[str, Any]:
    """BuildRequest's fields from the extra flags."""
    from podpy.cli.build_flags import step_options

    return {
        "step": step_options(kw), "stdin": bool(kw.get("stdin")), "env": list(kw.get("env") or []),
        "unsetenv": list(kw.get("unsetenv") or []), "timestamp": kw.get("timestamp"),
        "omit_history": bool(kw.get("omit_history")), "identity_label": kw.get("identity_label"),
        "from_image": kw.get("from_image"), "ignorefile": kw.get("ignorefile"),
        "skip_unused_stages": kw.get("skip_unused_stages", True) is not False, "registry": _registry(kw),
        "os_features": list(kw.get("os_feature") or []), "os_version": kw.get("os_version"),
        "cpp_flags": list(kw.get("cpp_flag") or []), "all_platforms": bool(kw.get("all_platforms")),
    }  # fmt: skip


def logfile_path(kw: dict[str, Any], platform: str | None) -> str | None:
    """--logfile, or with --logsplit LOGFILE_OS_ARCH of the (one) platform built."""
    path = kw.get("logfile")
    if not path or not kw.get("logsplit"):
        return path
    from podpy.build.buildargs import host_platform

    os_, arch = (platform.split("/") + ["", ""])[:2] if platform else (host_platform().os, host_platform().arch)
    return f"{path}_{os_}_{arch}"


def _registry(kw: dict[str, Any]) -> Any:
    """RegistryOptions for FROM pulls, when a registry flag is given."""
    keys = ("tls_verify", "cert_dir", "creds", "authfile", "retry", "retry_delay")
    if all(kw.get(k) is None for k in keys) and not kw.get("decryption_key"):
        return None
    from podpy.cli.registry import registry_options

    opts = registry_options(kw.get("tls_verify"), Path(kw["cert_dir"]) if kw.get("cert_dir") else None,
                            kw.get("creds"), Path(kw["authfile"]) if kw.get("authfile") else None,
                            kw.get("retry"))  # fmt: skip
    if kw.get("retry") is not None and kw["retry"] < 0:
        raise InvalidArgument(f"--retry {kw['retry']}: must be 0 or more")
    if kw.get("retry_delay"):
        from podpy.engine.container_health import parse_duration

        opts.retry_delay = parse_duration(kw["retry_delay"], "--retry-delay") / 1e9
    if kw.get("decryption_key"):
        from podpy.engine.layer_decrypt import load_keys

        opts.decryption_keys = load_keys(kw["decryption_key"])
    return opts


@contextmanager
def logfile(path: str | None) -> Iterator[None]:
    """--logfile: what the build writes to stdout and stderr (steps, RUN output, warnings) goes to
    the file (appended, as Podman); the image ID is printed on stdout afterwards."""
    if not path:
        yield
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise InvalidArgument(f"--logfile {path}: {e.strerror or e}") from None
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)


def output(engine: Engine, image_id: str, value: str | None) -> None:
    if not value:
        return
    from podpy.build.output import parse_output, write_output

    write_output(engine, image_id, *parse_output(value))
