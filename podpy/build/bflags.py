"""Instruction flags (`--from=x`, `--link`, `--mount=...` repeated), checked as BuildKit's BFlags does."""

from __future__ import annotations

from podpy.record import field, record

STRING, BOOL, LIST = "string", "bool", "list"

# Which flags each instruction accepts, and their kind.
FLAGS: dict[str, dict[str, str]] = {
    "FROM": {"platform": STRING},
    "RUN": {"mount": LIST, "network": STRING, "security": STRING, "device": LIST},
    "COPY": {"from": STRING, "chown": STRING, "chmod": STRING, "link": BOOL, "parents": BOOL, "exclude": LIST},
    "ADD": {
        "chown": STRING, "chmod": STRING, "link": BOOL, "keep-git-dir": BOOL, "checksum": STRING,
        "exclude": LIST, "unpack": BOOL, "parents": BOOL,
    },
    "HEALTHCHECK": {
        "interval": STRING, "timeout": STRING, "start-period": STRING, "start-interval": STRING,
        "retries": STRING,
    },
}


@record(lean_init=True)
class Flags:
    """Parsed flag values; absent flags are missing from `values`."""

    values: dict[str, str | bool | list[str]] = field(default_factory=dict)

    def str(self, name: str) -> str | None:
        v = self.values.get(name)
        return v if isinstance(v, str) else None

    def bool(self, name: str) -> bool | None:
        v = self.values.get(name)
        return v if isinstance(v, bool) else None

    def list(self, name: str) -> list[str]:
        v = self.values.get(name)
        return list(v) if isinstance(v, list) else []


def parse_flags(instruction: str, raw: list[str]) -> Flags:
    """Check and type the raw `--name[=value]` words; ValueError names the offending flag."""
    allowed = FLAGS.get(instruction, {})
    out = Flags()
    for word in raw:
        if not word.startswith("--"):
            raise ValueError(f"Arg should start with -- : {word}")
        name, has_value, value = word[2:].partition("=")
        kind = allowed.get(name)
        if kind is None:
            raise ValueError(f"unknown flag: {name}")
        if kind == LIST:
            if not has_value:
                raise ValueError(f"Missing a value on flag: {word}")
            out.values.setdefault(name, [])
            out.values[name].append(value)  # type: ignore[union-attr]
            continue
        if name in out.values:
            raise ValueError(f"Duplicate flag specified: {name}")
        if kind == BOOL:
            low = value.lower()
            if has_value and low not in ("true", "false"):
                raise ValueError(f'expecting boolean value for flag {name}, not: {value}')
            out.values[name] = not has_value or low == "true"
        else:
            if not has_value:
                raise ValueError(f"Missing a value on flag: {word}")
            out.values[name] = value
    return out
