"""Around `create` with the rarer flags: the platform check, --cidfile, --replace, the record's
share (--pidfile, --conmon-pidfile, --requires), /etc/passwd entries (--user, --passwd-entry,
--hostuser), and the implicit pull's settings (--authfile, --tls-verify, --platform)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podpy.engine import idmaps
from podpy.engine.create_more import split_commas
from podpy.errors import InvalidArgument

if TYPE_CHECKING:
    from podpy.engine.spec import ContainerSpec

PASSWD_ENTRY = "$USERNAME:*:$UID:$GID:$NAME:$HOME:/bin/sh"


ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm", "i686": "386",
          "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}  # fmt: skip


def host_platform() -> tuple[str, str]:
    machine = os.uname().machine
    return "linux", ARCHES.get(machine, machine)


def check_platform(more: dict[str, Any]) -> None:
    """--platform/--arch/--os/--variant: this host's platform only (podpy runs no emulation)."""
    plat, arch, os_, variant = (more.get(k) or "" for k in ("platform", "arch", "os", "variant"))
    if plat and (arch or os_):
        raise InvalidArgument("--platform option can not be specified with --arch or --os")
    if plat:
        parts = plat.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidArgument(f"invalid platform {plat!r}: expected OS/ARCH[/VARIANT]")
        os_, arch = parts[0], parts[1]
    host_os, host_arch = host_platform()
    if os_ and os_ != host_os:
        raise InvalidArgument(f"image OS {os_!r} is not supported: podpy runs {host_os} images only")
    if arch and arch != host_arch and not (host_arch == "amd64" and arch == "x86_64"):
        raise InvalidArgument(f"image architecture {arch!r} is not supported on this {host_arch} host "
                              "(podpy does not emulate other architectures)")  # fmt: skip
    del variant  # any variant of the host's architecture


def write_id_file(path: str, text: str, what: str = "cidfile") -> None:
    """--cidfile at create: refused when the file exists (Podman's rule); --pidfile/--conmon-pidfile
    are rewritten at every start."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise InvalidArgument(f"container id file exists. Ensure another container is not using it or "
                              f"delete {path}") from None  # fmt: skip
    except OSError as e:
        raise InvalidArgument(f"opening {what} {path}: {e.strerror}") from None
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def before_create(svc: Any, opts: Any) -> None:
    """What must hold before anything is made: the platform, a free --cidfile, --replace's removal."""
    more = opts.more
    check_platform(more)
    if idmaps.wanted(more):  # bad maps fail before any image is pulled
        from podpy.engine.create_more import id_mappings

        id_mappings(svc.engine, opts.userns, more)
    if more.get("cidfile") and os.path.exists(more["cidfile"]):
        raise InvalidArgument(f"container id file exists. Ensure another container is not using it or "
                              f"delete {more['cidfile']}")  # fmt: skip
    if more.get("replace") and opts.name:
        from podpy.errors import NoSuchContainer

        try:
            svc.remove(opts.name, force=True)
        except NoSuchContainer:
            pass


def record_fields(svc: Any, more: dict[str, Any]) -> dict[str, Any]:
    """The record's share of the flags: absolute paths (the supervisor writes them from `/`), and
    --requires as IDs (each must exist)."""
    out: dict[str, Any] = {}
    for key in ("pidfile", "conmon_pidfile", "init_path"):
        if more.get(key):
            out[key] = os.path.abspath(more[key])
    if more.get("requires"):
        out["requires"] = [svc.resolve(ref) for ref in split_commas(more["requires"])]
    return out


def passwd_text(spec: ContainerSpec, read: Any) -> str | None:
    """The image's /etc/passwd plus --hostuser accounts and an entry for a numeric --user it does not
    have (None: unchanged)."""
    current = read("/etc/passwd") or ""
    if spec.hostusers:
        current = _with_host_users(current, spec.hostusers)
    uid, _, grp = spec.user.partition(":")
    if not uid.isdigit() or not spec.passwd or any(line.split(":")[2:3] == [uid] for line in current.splitlines()):
        return current if spec.hostusers else None
    values = {"USERNAME": uid, "UID": uid, "GID": grp if grp.isdigit() else "0", "NAME": "container user",
              "HOME": spec.cwd or "/"}  # fmt: skip
    entry = spec.passwd_entry or PASSWD_ENTRY
    for key in sorted(values, key=len, reverse=True):  # $USERNAME before $NAME
        entry = entry.replace(f"${key}", values[key]).replace(f"${{{key}}}", values[key])
    sep = "" if not current or current.endswith("\n") else "\n"
    return f"{current}{sep}{entry.rstrip(chr(10))}\n"


def _with_host_users(current: str, users: tuple[str, ...]) -> str:
    """--hostuser NAME|UID: the host's passwd line for each, unless the image has that name already."""
    import pwd

    names = {line.split(":")[0] for line in current.splitlines() if line}
    lines = []
    for user in users:
        try:
            pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        except (KeyError, OverflowError):
            raise InvalidArgument(f"--hostuser {user}: no such user on the host") from None
        if pw.pw_name not in names:
            lines.append(f"{pw.pw_name}:*:{pw.pw_uid}:{pw.pw_gid}:{pw.pw_gecos}:{pw.pw_dir}:{pw.pw_shell}\n")
            names.add(pw.pw_name)
    sep = "" if not current or current.endswith("\n") else "\n"
    return current + sep + "".join(lines) if lines else current


def pull_settings(more: dict[str, Any]) -> tuple[Any, str | None]:
    """(RegistryOptions or None, platform or None) for the implicit pull of run/create."""
    reg = None
    if more.get("authfile") or more.get("tls_verify") is not None:
        from podpy.engine.registry_session import RegistryOptions

        auth = Path(more["authfile"]) if more.get("authfile") else None
        reg = RegistryOptions(tls_verify=more.get("tls_verify"), auth_file=auth)
    plat = more.get("platform") or None
    if not plat and (more.get("arch") or more.get("os") or more.get("variant")):
        os_, arch = host_platform()
        plat = "/".join(p for p in (more.get("os") or os_, more.get("arch") or arch, more.get("variant")) if p)
    return reg, plat
