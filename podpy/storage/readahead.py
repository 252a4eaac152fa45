"""A reader whose data a thread produces ahead of the consumer.

Inflating a layer (zlib) and rebuilding one from its tree (os.read, sha256) release the GIL, so
with a thread they overlap with what the consumer does with the bytes (writing an archive,
compressing for a push) instead of taking turns with it.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterator

DEPTH = 4  # chunks produced ahead at most
_END = object()


class ReadAhead:
    """A read-only file-like object over the chunks `make()` yields (in a thread). An exception in
    the producer is raised by the read that reaches it. seek(0) starts over with a new `make()`."""

    def __init__(self, make: Callable[[], Iterator[bytes]], depth: int = DEPTH) -> None:
        self._make = make
        self._depth = depth
        self.closed = False
        self._thread: threading.Thread | None = None
        self._reset()

    def _reset(self) -> None:
        self._q: queue.Queue[object] = queue.Queue(self._depth)
        self._stop = threading.Event()
        self._cur = memoryview(b"")
        self._whole: bytes | None = None  # the chunk _cur is, while none of it was read
        self._eof = False
        self._pos = 0
        self._thread = None

    def _produce(self, q: queue.Queue[object], stop: threading.Event) -> None:
        item: object = _END
        try:
            for chunk in self._make():
                if stop.is_set():
                    return
                if chunk:
                    q.put(chunk)
        except BaseException as e:  # handed to the consumer, raised there
            item = e
        if not stop.is_set():
            q.put(item)

    def start(self) -> None:
        """Begin producing now, before the first read (reads start it otherwise)."""
        if self._thread is None and not self._eof:
            self._thread = threading.Thread(target=self._produce, args=(self._q, self._stop), daemon=True,
                                            name="read-ahead")  # fmt: skip
            self._thread.start()

    def _next(self) -> bool:
        if self._eof:
            return False
        self.start()
        item = self._q.get()
        if item is _END:
            self._eof = True
            return False
        if isinstance(item, BaseException):
            self._eof = True
            raise item
        self._cur = memoryview(item)  # type: ignore[arg-type]
        self._whole = item if isinstance(item, bytes) else None
        return True

    # ---- file-like
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._pos

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no file descriptor: the data is produced on the fly")

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            parts = [bytes(self._cur)]
            self._cur, self._whole = memoryview(b""), None
            while self._next():
                parts.append(bytes(self._cur))
            self._cur, self._whole = memoryview(b""), None
            out = b"".join(parts)
            self._pos += len(out)
            return out
        if not self._cur and not self._next():
            return b""
        if self._whole is not None and len(self._whole) == n:  # a reader in step with the chunks: no copy
            out, self._whole = self._whole, None
            self._cur = memoryview(b"")
            self._pos += n
            return out
        self._whole = None
        if len(self._cur) >= n:  # one copy
            out = bytes(self._cur[:n])
            self._cur = self._cur[n:]
            self._pos += n
            return out
        buf = bytearray()
        while len(buf) < n and (self._cur or self._next()):
            take = self._cur[: n - len(buf)]
            buf += take
            self._cur, self._whole = self._cur[len(take) :], None
        self._pos += len(buf)
        return bytes(buf)

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        memoryview(b).cast("B")[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET and offset == self._pos:
            return offset
        if whence == io.SEEK_SET and offset == 0:
            self._halt()
            self._reset()
            return 0
        raise io.UnsupportedOperation("this stream only seeks back to its start")

    def _halt(self) -> None:
        """Stop the producer: it may be blocked on a full queue, so keep emptying it until it ends."""
        t = self._thread
        self._stop.set()
        while t is not None and t.is_alive():
            try:
                self._q.get(timeout=0.05)
            except queue.Empty:
                pass
        self._eof = True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._halt()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chunks_of(stream: io.BufferedIOBase | object, size: int = 1 << 20) -> Callable[[], Iterator[bytes]]:
    """`make` for ReadAhead over a stream (read once: the stream cannot start over)."""

    def make() -> Iterator[bytes]:
        while chunk := stream.read(size):  # type: ignore[attr-defined]
            yield chunk

    return make
