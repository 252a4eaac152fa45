"""Podman's registries.conf (TOML, version 2; version 1 tables are converted): search registries,
short-name aliases, and per-prefix `location` rewrites, `insecure` and `blocked` flags.

Read like containers/image: $CONTAINERS_REGISTRIES_CONF alone if set; else the user's
~/.config/containers/registries.conf if it exists, otherwise /etc/containers/registries.conf; then
the matching registries.conf.d/*.conf drop-ins in name order; then podpy's own
<config dir>/registries.conf. Later files override fields and replace [[registry]] tables by prefix.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from podpy.config import config_dir
from podpy.errors import InvalidArgument, InvalidReference, RegistryError
from podpy.image import reference
from podpy.state import atomic_write_bytes

SYSTEM_DIR = Path("/etc/containers")


@dataclass(frozen=True)
class RegistryEntry:
    prefix: str
    location: str
    insecure: bool = False
    blocked: bool = False
    mirrors: tuple[tuple[str, bool], ...] = ()  # (location, insecure), tried in order before `location`


@dataclass
class RegistriesConf:
    search: list[str] = field(default_factory=lambda: [reference.DEFAULT_REGISTRY])
    aliases: dict[str, str] = field(default_factory=dict)
    entries: dict[str, RegistryEntry] = field(default_factory=dict)  # by prefix
    sources: list[Path] = field(default_factory=list)

    def entry_for(self, name: str) -> RegistryEntry | None:
        """The [[registry]] table whose prefix is the longest match for `name` (host/repo...)."""
        best: RegistryEntry | None = None
        for e in self.entries.values():
            if _prefix_matches(e.prefix, name) and (best is None or len(e.prefix) > len(best.prefix)):
                best = e
        return best

    def blocked(self, name: str) -> bool:
        e = self.entry_for(name)
        return bool(e and e.blocked)

    def pull_sources(self, name: str) -> list[str]:
        """Where to pull `name` from, in order: its mirrors, then its (possibly moved) location."""
        e = self.entry_for(name)
        primary = self.rewrite(name)
        if e is None or not e.mirrors or e.prefix.startswith("*."):
            return [primary]
        return [m + name[len(e.prefix) :] for m, _ in e.mirrors] + [primary]

    def insecure(self, host: str) -> bool:
        """An insecure [[registry]] table, or an insecure mirror, for this host."""
        e = self.entry_for(host)
        if e is not None and e.insecure:
            return True
        return any(ins and loc.split("/", 1)[0] == host for x in self.entries.values() for loc, ins in x.mirrors)

    def rewrite(self, name: str) -> str:
        """Apply a `location` that differs from its `prefix` (a registry moved or mirrored)."""
        e = self.entry_for(name)
        if e is None or not e.location or e.prefix.startswith("*.") or e.location == e.prefix:
            return name
        return e.location + name[len(e.prefix) :]


def _prefix_matches(prefix: str, name: str) -> bool:
    host = name.split("/", 1)[0]
    if prefix.startswith("*."):
        return host.endswith(prefix[1:])
    return name == prefix or (name.startswith(prefix) and name[len(prefix)] in "/:@")


def _config_home() -> Path:
    env = os.environ.get("XDG_CONFIG_HOME")
    return Path(env) if env else Path.home() / ".config"


def conf_files() -> list[Path]:
    env = os.environ.get("CONTAINERS_REGISTRIES_CONF")
    if env:
        return [Path(env)]
    user = _config_home() / "containers"
    files: list[Path] = []
    if (user / "registries.conf").exists():
        files.append(user / "registries.conf")
    else:
        files += [SYSTEM_DIR / "registries.conf", *_dropins(SYSTEM_DIR / "registries.conf.d")]
    files += _dropins(user / "registries.conf.d")
    files.append(config_dir() / "registries.conf")
    return files


def _dropins(d: Path) -> list[Path]:
    try:
        return sorted(p for p in d.iterdir() if p.suffix == ".conf" and p.is_file())
    except OSError:
        return []


def load(files: list[Path] | None = None) -> RegistriesConf:
    conf = RegistriesConf()
    paths = conf_files() if files is None else files
    for path, doc in zip(paths, _parsed(paths), strict=True):
        if doc is None:
            continue
        _merge(conf, _v1_to_v2(doc))
        conf.sources.append(path)
    return conf


RACY_NS = 1_000_000_000  # files changed this recently are not cached (timestamps are coarse)


def _parsed(paths: list[Path]) -> list[dict | None]:
    """Each file's TOML document (None: no such file). Remembered in the user's runtime directory
    by the files' stat signatures: importing tomllib (with typing, datetime, string) costs ~6 ms,
    more than the rest of a `pull` of an image that is already here; an edited, replaced or new
    file changes its signature and is parsed again."""
    sig: list[list[object] | None] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            sig.append(None)
            continue
        sig.append([str(path), st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino])
    cache = _cache_file()
    if cache is not None:
        try:
            found = json.loads(cache.read_bytes())
            if found["sig"] == sig and len(found["docs"]) == len(paths):
                return found["docs"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    import tomllib

    docs: list[dict | None] = []
    for path, s in zip(paths, sig, strict=True):
        if s is None:
            docs.append(None)
            continue
        try:
            docs.append(tomllib.loads(path.read_text()))
        except FileNotFoundError:
            docs.append(None)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise InvalidArgument(f"loading registries configuration {str(path)!r}: {e}") from None
    now = time.time_ns()  # a file changed within the last second may change again with the same stamp
    if cache is not None and all(x is None or now - int(x[2]) > RACY_NS for x in sig):  # type: ignore[call-overload]
        try:
            atomic_write_bytes(cache, json.dumps({"sig": sig, "docs": docs}).encode(), durable=False)
        except (OSError, TypeError, ValueError):  # TOML dates are not JSON: parsed every time then
            pass
    return docs


def _cache_file() -> Path | None:
    from podpy.paths import runtime_dir

    try:
        return runtime_dir() / "podpy-registries.conf.json"  # the user's own: /run as root, else 0700
    except OSError:
        return None


def _v1_to_v2(doc: dict) -> dict:
    v1 = doc.get("registries")
    if not isinstance(v1, dict):
        return doc
    out: dict = {"unqualified-search-registries": v1.get("search", {}).get("registries", []), "registry": []}
    for key, flag in (("insecure", "insecure"), ("block", "blocked")):
        for host in v1.get(key, {}).get("registries", []):
            out["registry"].append({"prefix": host, "location": host, flag: True})
    return out


def _merge(conf: RegistriesConf, doc: dict) -> None:
    if "unqualified-search-registries" in doc:
        conf.search = [str(x) for x in doc["unqualified-search-registries"]]
    for short, target in (doc.get("aliases") or {}).items():
        conf.aliases[str(short)] = str(target)
    for t in doc.get("registry") or []:
        location = str(t.get("location", ""))
        prefix = str(t.get("prefix") or location)
        if not prefix:
            raise InvalidArgument("registries.conf: a [[registry]] table needs a prefix or a location")
        mirrors = tuple((str(m["location"]), bool(m.get("insecure"))) for m in t.get("mirror") or [] if m.get("location"))
        conf.entries[prefix] = RegistryEntry(prefix, location or prefix, bool(t.get("insecure")),
                                             bool(t.get("blocked")), mirrors)  # fmt: skip


def is_short_name(raw: str) -> bool:
    """No registry component: `busybox`, `library/busybox:1`, `user/repo@sha256:...`."""
    first, sep, _ = raw.partition("/")
    return not (sep and ("." in first or ":" in first or first == "localhost"))


def candidates(raw: str, conf: RegistriesConf) -> list[reference.Reference]:
    """The fully qualified references `raw` may mean, in the order to try them.

    A qualified name means itself; an alias maps a short name to one place; otherwise each
    unqualified-search registry is tried in turn (docker.io when none is configured).
    """
    if not is_short_name(raw):
        return [reference.parse(raw)]
    base = reference.parse(raw)  # validates; docker.io/library/... for the tag/digest parts
    name = raw.split("@", 1)[0]
    if ":" in name:
        name = name.rsplit(":", 1)[0]
    suffix = raw[len(name) :] or ""
    alias = conf.aliases.get(name) or conf.aliases.get(base.repository)
    if alias:
        return [reference.parse(alias + suffix)]
    if not conf.search:  # configured empty on purpose (the default is docker.io)
        raise RegistryError(f"short-name {raw!r} did not resolve to an alias and no unqualified-search "
                            "registries are defined in registries.conf")  # fmt: skip
    out = []
    for registry in conf.search:
        try:
            out.append(reference.parse(f"{registry}/{raw}"))
        except InvalidReference:
            continue
    return out or [base]
