"""Image directories, read and written with the same interface as the archive tar plumbing:

- an OCI image layout directory (`oci:DIR`, `save --format oci-dir`): oci-layout, index.json, blobs/;
- the containers/image `dir:` layout (`dir:DIR`, `save --format docker-dir`): manifest.json, `version`,
  the config and layers as files named by their hex digest. The reader presents it as a one-image OCI
  layout (a synthetic index.json pointing at manifest.json), so loading goes through the OCI path.

Pure format code: no store access. Paths stay inside the directory (no `..`; files only).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from podpy.errors import PodpyError
from podpy.image.archive_tar import MAX_DOC, normalize

DIR_VERSION_FILE = "version"
DIR_VERSION = b"Directory Transport Version: 1.1\n"
DIR_MANIFEST = "manifest.json"


def kind_of(path: Path) -> str | None:
    """"oci" for an OCI layout directory, "dir" for a dir: layout, None for anything else."""
    if (path / "oci-layout").is_file() or (path / "index.json").is_file():
        return "oci"
    if (path / DIR_MANIFEST).is_file() and (path / DIR_VERSION_FILE).is_file():
        return "dir"
    return None


class DirReader:
    """ArchiveReader's interface (has/open/size/read) over a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kind = kind_of(root)
        if self.kind is None:
            raise PodpyError(f"{root}: neither an OCI layout (index.json) nor a dir: image (manifest.json, version)")
        self.virtual: dict[str, bytes] = {}
        self.alias: dict[str, str] = {}
        if self.kind == "dir":
            self._present_as_oci()

    def _present_as_oci(self) -> None:
        manifest = self._read_file(DIR_MANIFEST)
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        try:
            media = json.loads(manifest).get("mediaType") or "application/vnd.oci.image.manifest.v1+json"
        except (ValueError, AttributeError):
            raise PodpyError(f"{self.root}/{DIR_MANIFEST} is not a JSON object") from None
        index = {"schemaVersion": 2, "manifests": [{"mediaType": media, "digest": digest, "size": len(manifest)}]}
        self.virtual["index.json"] = json.dumps(index).encode()
        self.alias["blobs/sha256/" + digest[7:]] = DIR_MANIFEST

    def _path(self, name: str) -> Path:
        name = normalize(name)
        if self.kind == "dir" and name not in self.alias and name.startswith("blobs/sha256/"):
            name = name.removeprefix("blobs/sha256/")  # dir: keeps blobs flat, by hex digest
        name = self.alias.get(name, name)
        if not name or name.startswith("..") or "/../" in f"/{name}/":
            raise PodpyError(f"{name!r}: outside the image directory")
        return self.root / name

    def _read_file(self, name: str) -> bytes:
        p = self._path(name)
        try:
            if p.stat().st_size > MAX_DOC:
                raise PodpyError(f"{p} is too large for a metadata file")
            return p.read_bytes()
        except OSError as e:
            raise PodpyError(f"{p}: {e.strerror}") from None

    def has(self, name: str) -> bool:
        return normalize(name) in self.virtual or self._path(name).is_file()

    def read(self, name: str) -> bytes:
        if normalize(name) in self.virtual:
            return self.virtual[normalize(name)]
        return self._read_file(name)

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._path(name), "rb")  # noqa: SIM115 - the caller closes it
        except OSError as e:
            raise PodpyError(f"{self._path(name)}: {e.strerror}") from None

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def opener(self, name: str) -> Callable[[], BinaryIO]:
        return lambda: self.open(name)


class DirWriter:
    """ArchiveWriter's interface (add_bytes/add_stream/written) into a directory: each file is written
    under a temp name and renamed, so a reader never sees half a blob."""

    def __init__(self, root: Path, flat_blobs: bool = False) -> None:
        self.root = root
        self.flat = flat_blobs
        self.written: set[str] = set()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PodpyError(f"cannot create {root}: {e.strerror}") from None

    def __enter__(self) -> DirWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def add_bytes(self, path: str, data: bytes) -> None:
        import io

        self.add_stream(path, io.BytesIO(data), len(data))

    def add_stream(self, path: str, src: BinaryIO, size: int) -> None:
        import shutil

        name = path.removeprefix("blobs/sha256/") if self.flat else path
        dst = self.root / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                shutil.copyfileobj(src, f, 1 << 20)
            os.chmod(tmp, 0o644)
            os.replace(tmp, dst)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.written.add(path)
