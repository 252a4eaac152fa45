"""Wire formats: the CLI <-> supervisor control channel, attach packets, detach keys.

Both channels are unix SOCK_SEQPACKET sockets, so every send is one message: no framing.
Control (text): supervisor -> CLI `pid N`, `err CODE MESSAGE`, `exit CODE`, `detached`;
CLI -> supervisor `resize ROWS COLS`.
Attach (first byte is the kind, the rest the payload).
"""

from __future__ import annotations

from podpy.errors import CannotInvoke, CommandNotFound, InvalidArgument, PodpyError

# attach packet kinds (KEYS: this client's own detach sequence, `attach --detach-keys`)
STDIN, STDOUT, STDERR, EXIT, DETACHED, RESIZE, STDIN_EOF, KEYS = range(8)
CHUNK = 32 * 1024  # payload bytes per packet (well under the socket buffer)
DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
_CTRL_EXTRA = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def packet(kind: int, payload: bytes = b"") -> bytes:
    return bytes((kind,)) + payload


def packets(kind: int, data: bytes) -> list[bytes]:
    return [packet(kind, data[i : i + CHUNK]) for i in range(0, len(data), CHUNK)] or [packet(kind)]


def parse_detach_keys(spec: str) -> bytes:
    """Docker's syntax: comma-separated `ctrl-<a..z|@|[|\\|]|^|_>` or single characters; "" disables."""
    out = bytearray()
    for item in filter(None, spec.split(",")):
        low = item.lower()
        if len(item) == 1:
            out.append(ord(item))
        elif low.startswith("ctrl-") and len(low) == 6:
            ch = low[5]
            if "a" <= ch <= "z":
                out.append(ord(ch) - ord("a") + 1)
            elif ch in _CTRL_EXTRA:
                out.append(_CTRL_EXTRA[ch])
            else:
                raise InvalidArgument(f"invalid detach keys {spec!r}: unknown key {item!r}")
        else:
            raise InvalidArgument(f"invalid detach keys {spec!r}: unknown key {item!r}")
    return bytes(out)


class DetachMatcher:
    """Spots the detach sequence in a stream of input; bytes of a partial match are held back."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to forward, whether the sequence completed). Input after the sequence is dropped."""
        if not self.keys:
            return data, False
        out = bytearray()
        for b in data:
            cand = self.held + bytes((b,))
            if self.keys.startswith(cand):
                self.held = cand
                if cand == self.keys:
                    self.held = b""
                    return bytes(out), True
                continue
            out += self.held
            self.held = b""
            if self.keys[0] == b:
                self.held = bytes((b,))
                if len(self.keys) == 1:
                    return bytes(out), True
            else:
                out.append(b)
        return bytes(out), False


def start_error(code: int, message: str) -> PodpyError:
    """The typed error for a failed start reported over the control channel."""
    if code == 126:
        return CannotInvoke(message)
    if code == 127:
        return CommandNotFound(message)
    err = PodpyError(message)
    err.exit_code = code or 125
    return err
