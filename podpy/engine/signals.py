"""Signal names and numbers as Podman takes them (`--stop-signal`, `kill --signal`). Light on purpose:
stop/kill/rm import it without the create-time option code of container_config."""

from __future__ import annotations

import signal

from podpy.errors import InvalidArgument


def parse_signal(value: str | int) -> int:
    """`SIGTERM`, `TERM`, `15`, `SIGRTMIN+3` -> the number."""
    text = str(value).strip().upper()
    if text.isdigit():
        num = int(text)
    else:
        name = text if text.startswith("SIG") else f"SIG{text}"
        base, plus, off = name.partition("+")
        sig = getattr(signal.Signals, base, None) if base.isidentifier() else None
        if sig is None and base in ("SIGRTMIN", "SIGRTMAX"):
            sig = signal.SIGRTMIN if base == "SIGRTMIN" else signal.SIGRTMAX
        if sig is None:
            raise InvalidArgument(f"invalid signal: {value}")
        num = int(sig) + (int(off) if plus and off.isdigit() else 0)
    if not 0 < num <= int(signal.SIGRTMAX):
        raise InvalidArgument(f"invalid signal: {value}")
    return num


def signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return str(num)
