"""Docker's rules for merging an image's command and environment with the run flags. Apart from
the ContainerSpec (spec.py, whose 60-field frozen dataclass costs ~2 ms to define) for `exec`,
which needs merge_env alone."""

from __future__ import annotations

from podpy.errors import InvalidArgument


def merge_command(
    image_entrypoint: list[str] | None,
    image_cmd: list[str] | None,
    entrypoint: list[str] | None = None,
    command: list[str] | None = None,
) -> tuple[str, ...]:
    """Docker's rule: --entrypoint replaces the image's and drops its Cmd; args replace Cmd."""
    ep = list(image_entrypoint or []) if entrypoint is None else list(entrypoint)
    if command:
        cmd = list(command)
    elif entrypoint is not None:
        cmd = []
    else:
        cmd = list(image_cmd or [])
    return tuple(ep + cmd)


def merge_env(*layers: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Later layers win, order of first appearance is kept. `-e NAME` (no '=') is resolved by the CLI."""
    merged: dict[str, str] = {}
    for layer in layers:
        for item in layer:
            key, _, value = item.partition("=")
            if not key:
                raise InvalidArgument(f"invalid environment variable {item!r}")
            merged[key] = value
    return tuple(f"{k}={v}" for k, v in merged.items())
