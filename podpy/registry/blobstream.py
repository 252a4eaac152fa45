"""A blob download as a readable stream that survives dropped connections.

When a read fails part-way, the stream asks again with `Range: bytes=N-`; a server that answers
206 continues where it stopped, one that answers 200 is read past the first N bytes. The reader
above never notices, so a blob can be decompressed and extracted while it downloads.
"""

from __future__ import annotations

import io
import time

from podpy.errors import RegistryError, RegistryUnavailable

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from podpy.registry.client import Repository

MAX_RESUMES = 5


class BlobStream(io.RawIOBase):
    def __init__(self, repo: Repository, digest: str, size: int | None) -> None:
        self.repo = repo
        self.digest = digest
        self.size = size  # None until the first response says
        self.pos = 0
        self.resumes = 0
        self._fp: Any = None
        self._resp: Any = None

    def readable(self) -> bool:
        return True

    def _open(self) -> None:
        t = self.repo.transport
        headers = {"Range": f"bytes={self.pos}-"} if self.pos else {}
        resp = t.request("GET", f"/v2/{self.repo.name}/blobs/{self.digest}", scope=self.repo.pull_scope,
                         headers=headers, stream=True)  # fmt: skip
        if resp.status_code not in (200, 206):
            t.fail(resp, f"fetching blob {self.digest} from", self.repo.name)
        if self.size is None:
            self.size = int(resp.headers.get("Content-Length") or -1) if resp.status_code == 200 else None
        self._resp = resp
        resp.raw.decode_content = True
        self._fp = resp.raw
        if self.pos and resp.status_code == 200:
            self._skip(self.pos)

    def _skip(self, n: int) -> None:
        """The server ignored Range: read and drop what we already have."""
        while n > 0:
            chunk = self._fp.read(min(n, 1 << 20))
            if not chunk:
                raise RegistryUnavailable(f"blob {self.digest}: connection closed while resuming")
            n -= len(chunk)

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        view = memoryview(b).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        """Up to `size` bytes as the connection gives them (no copy through a buffer, as
        RawIOBase.read's readinto would make)."""
        if size is None or size < 0:
            return self.readall()
        while True:
            try:
                if self._fp is None:
                    self._open()
                data = self._fp.read(size)
            except RegistryError:
                raise
            except Exception as e:  # WireError (reset, timed out, closed early), OSError: the connection broke
                self._retry(e)
                continue
            if not data and self.size is not None and 0 <= self.pos < self.size:
                self._retry(EOFError(f"connection closed after {self.pos} of {self.size} bytes"))
                continue
            self.pos += len(data)
            return data

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(1 << 20):
            parts.append(chunk)
        return b"".join(parts)

    def _retry(self, e: Exception) -> None:
        self._drop()
        self.resumes += 1
        if self.resumes > MAX_RESUMES:
            raise RegistryUnavailable(f"fetching blob {self.digest} from {self.repo.transport.registry}/"
                                      f"{self.repo.name}: {e}") from None  # fmt: skip
        time.sleep(min(0.2 * 2**self.resumes, 5))

    def _drop(self) -> None:
        if self._resp is not None:
            self._resp.close()
        self._resp = self._fp = None

    def close(self) -> None:
        self._drop()
        super().close()
