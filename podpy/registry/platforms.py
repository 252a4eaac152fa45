"""Platforms (`os/arch[/variant]`) and choosing one image out of an index / manifest list."""

from __future__ import annotations

import os

from podpy.errors import InvalidArgument, RegistryNotFound
from podpy.record import record

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "armv6l": "arm",
         "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}  # fmt: skip
_VARIANT = {"armv7l": "v7", "armv6l": "v6", "aarch64": "v8"}


@record(frozen=True, lean_init=True)
class Platform:
    os: str
    arch: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.arch, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """`os/arch[/variant]` spelled as BuildKit normalises it (`x86_64` → amd64, `arm64/v8` → arm64);
        ValueError when malformed."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}: expected os/arch[/variant]")
        arch, variant = _ARCH.get(parts[1], parts[1]), parts[2] if len(parts) == 3 else ""
        return cls(parts[0], arch, _norm_variant(arch, variant))

    def normalised(self) -> Platform:
        """The same platform with the variants that mean "the default" dropped (arm64/v8, amd64/v1)."""
        return Platform(self.os, self.arch, _norm_variant(self.arch, self.variant))


def host() -> Platform:
    m = os.uname().machine  # platform.machine()'s value on Linux, without its ~1 ms import
    return Platform("linux", _ARCH.get(m, m), _VARIANT.get(m, ""))


def parse(value: str | None, *, os_: str | None = None, arch: str | None = None, variant: str | None = None) -> Platform:
    """`--platform os/arch[/variant]`, with --os/--arch/--variant overriding parts of it."""
    base = host()
    if value:
        parts = value.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidArgument(f"invalid platform {value!r}: want OS/ARCH[/VARIANT]")
        base = Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else "")
        if base.arch == host().arch and not base.variant:
            base = Platform(base.os, base.arch, host().variant)
    return Platform(os_ or base.os, arch or base.arch, base.variant if variant is None else variant)


def _norm_variant(arch: str, variant: str) -> str:
    return "" if (arch, variant) in (("arm64", "v8"), ("amd64", "v1")) else variant


def choose(index: dict[str, Any], want: Platform) -> dict[str, Any]:
    """The index entry for `want`: exact variant first, then any variant of that os/arch."""
    entries = [m for m in index.get("manifests") or [] if isinstance(m.get("platform"), dict)]
    matching = [m for m in entries if m["platform"].get("os") == want.os and m["platform"].get("architecture") == want.arch]
    wanted_variant = _norm_variant(want.arch, want.variant)
    for m in matching:
        if _norm_variant(want.arch, m["platform"].get("variant", "")) == wanted_variant:
            return m
    if matching and not want.variant:
        return matching[0]
    raise RegistryNotFound(
        f"choosing an image from manifest list: no image found in manifest list for architecture "
        f"{want.arch}, variant {want.variant!r}, OS {want.os}"
    )
