"""One repository on a registry: manifests, blobs (resumable downloads, uploads, mounts), tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from podpy.errors import CorruptContent, RegistryError, RegistryNotFound, RegistryUnavailable
from podpy.image import manifest as mf
from podpy.registry.blobstream import BlobStream
from podpy.registry.transport import Transport

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import BinaryIO

ACCEPT = ", ".join([mf.OCI_INDEX, mf.DOCKER_LIST, mf.OCI_MANIFEST, mf.DOCKER_MANIFEST])
MAX_MANIFEST = 4 << 20  # the distribution spec's suggested limit
SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json", "application/vnd.docker.distribution.manifest.v1+prettyjws")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    raw: bytes
    media_type: str
    digest: str

    @property
    def is_index(self) -> bool:
        return self.media_type in mf.INDEX_TYPES


def sha256_digest(data: bytes) -> str:
    """`sha256:HEX` of a small document (a manifest, a config): Python's own sha256, which imports in
    ~0.05 ms where hashlib sets OpenSSL up first (~2-3 ms, a good part of a `pull` that finds the image
    here); hashlib's when the build lacks it."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef]  # 3.11
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment]
    return "sha256:" + sha256(data).hexdigest()


def _media_type(raw: bytes, header: str) -> str:
    import json

    try:
        declared = json.loads(raw).get("mediaType")
    except (ValueError, AttributeError):
        raise RegistryError("registry sent a manifest that is not JSON") from None
    return declared or header.split(";", 1)[0].strip() or mf.OCI_MANIFEST


class Repository:
    def __init__(self, transport: Transport, name: str) -> None:
        self.transport = transport
        self.name = name  # repository path inside the registry, e.g. library/busybox

    @property
    def pull_scope(self) -> str:
        return f"repository:{self.name}:pull"

    @property
    def push_scope(self) -> str:
        return f"repository:{self.name}:pull,push"

    def _url(self, kind: str, ref: str) -> str:
        return f"/v2/{self.name}/{kind}/{ref}"

    # ---- manifests
    def get_manifest(self, ref: str) -> Manifest:
        """Fetch by tag or digest; by digest the bytes must hash to it."""
        resp = self.transport.request("GET", self._url("manifests", ref), scope=self.pull_scope,
                                      headers={"Accept": ACCEPT})  # fmt: skip
        if resp.status_code != 200:
            self.transport.fail(resp, f"reading manifest {ref} in", self.name)
        raw = resp.content
        if len(raw) > MAX_MANIFEST:
            raise RegistryError(f"manifest {ref} in {self.transport.registry}/{self.name} is too large")
        digest = sha256_digest(raw)
        if ref.startswith("sha256:") and ref != digest:
            raise CorruptContent(f"manifest {ref} in {self.transport.registry}/{self.name}: digest mismatch (got {digest})")
        media = _media_type(raw, resp.headers.get("Content-Type", ""))
        if media in SCHEMA1:
            raise RegistryError(f"{self.transport.registry}/{self.name}:{ref}: schema 1 manifests are not supported")
        return Manifest(raw, media, digest)

    def head_manifest(self, ref: str, scope: str | None = None) -> str | None:
        """The digest `ref` points at now (None when the registry does not know it)."""
        resp = self.transport.request("HEAD", self._url("manifests", ref), scope=scope or self.pull_scope,
                                      headers={"Accept": ACCEPT})  # fmt: skip
        with resp:
            if resp.status_code == 404:
                return None
            if resp.status_code != 200:
                self.transport.fail(resp, f"checking manifest {ref} in", self.name)
            digest = resp.headers.get("Docker-Content-Digest")
        return digest or self.get_manifest(ref).digest

    def put_manifest(self, ref: str, raw: bytes, media_type: str) -> str:
        resp = self.transport.request("PUT", self._url("manifests", ref), scope=self.push_scope,
                                      headers={"Content-Type": media_type}, data=raw)  # fmt: skip
        if resp.status_code not in (200, 201, 202):
            self.transport.fail(resp, f"writing manifest {ref} to", self.name)
        resp.close()
        return sha256_digest(raw)

    # ---- blobs
    def blob_size(self, digest: str, scope: str | None = None) -> int | None:
        """Size of a blob the repository has, None when it has not."""
        resp = self.transport.request("HEAD", self._url("blobs", digest), scope=scope or self.pull_scope)
        with resp:
            if resp.status_code == 404:
                return None
            if resp.status_code != 200:
                self.transport.fail(resp, f"checking blob {digest} in", self.name)
            return int(resp.headers.get("Content-Length") or 0)

    def open_blob(self, digest: str, size: int | None = None) -> BlobStream:
        """A reader of the blob's bytes that resumes (Range) after a dropped connection."""
        return BlobStream(self, digest, size)

    def fetch_blob(self, digest: str, limit: int = 64 << 20) -> bytes:
        """A small blob (an image config) read whole and verified."""
        buf = bytearray()
        with self.open_blob(digest) as s:
            while chunk := s.read(CHUNK):
                buf += chunk
                if len(buf) > limit:
                    raise RegistryError(f"blob {digest} in {self.transport.registry}/{self.name} is too large")
        data = bytes(buf)
        got = sha256_digest(data)
        if got != digest:
            raise CorruptContent(f"blob {digest} from {self.transport.registry}/{self.name}: digest mismatch (got {got})")
        return data

    def mount_blob(self, digest: str, source_repo: str) -> str | None:
        """Ask for a cross-repository mount. None when mounted; else an upload location to use instead."""
        scope = f"{self.push_scope} repository:{source_repo}:pull"
        resp = self.transport.request("POST", f"/v2/{self.name}/blobs/uploads/", scope=scope,
                                      params={"mount": digest, "from": source_repo})  # fmt: skip
        with resp:
            if resp.status_code == 201:
                return None
            if resp.status_code != 202:
                self.transport.fail(resp, f"mounting blob {digest} into", self.name)
            return self._location(resp)

    def start_upload(self) -> str:
        resp = self.transport.request("POST", f"/v2/{self.name}/blobs/uploads/", scope=self.push_scope)
        with resp:
            if resp.status_code != 202:
                self.transport.fail(resp, "starting a blob upload to", self.name)
            return self._location(resp)

    def _location(self, resp) -> str:  # type: ignore[no-untyped-def]
        loc = resp.headers.get("Location")
        if not loc:
            raise RegistryError(f"{self.transport.registry}/{self.name}: upload response without a Location")
        return urljoin(resp.url, loc)

    def upload_blob(
        self, digest: str, size: int, opener: Callable[[], BinaryIO],
        *, location: str | None = None, chunk_size: int = 0, progress: Callable[[int], None] | None = None,
    ) -> None:  # fmt: skip
        """Upload `size` bytes from `opener()`: one PUT (monolithic) or PATCH chunks then PUT.

        A failed attempt starts over with a fresh upload session and a fresh stream.
        """
        for attempt in range(3):
            loc = location if (location and attempt == 0) else self.start_upload()
            try:
                with opener() as f:
                    if chunk_size and size > chunk_size:
                        loc = self._patch_chunks(loc, f, size, chunk_size, progress)
                        self._finish(loc, digest, b"", 0)
                    else:
                        self._finish(loc, digest, _Body(f, size, progress), size)
                return
            except RegistryUnavailable:
                if attempt == 2:
                    raise
                if progress:
                    progress(-1)  # tells the caller to reset its byte count

    def _patch_chunks(self, loc: str, f: BinaryIO, size: int, chunk_size: int,
                      progress: Callable[[int], None] | None) -> str:  # fmt: skip
        sent = 0
        while sent < size:
            data = f.read(min(chunk_size, size - sent))
            if not data:
                raise RegistryError(f"local blob ended after {sent} of {size} bytes")
            hdrs = {"Content-Type": "application/octet-stream", "Content-Range": f"{sent}-{sent + len(data) - 1}",
                    "Content-Length": str(len(data))}  # fmt: skip
            resp = self.transport.request("PATCH", loc, scope=self.push_scope, retry=False, headers=hdrs, data=data)
            with resp:
                if resp.status_code != 202:
                    self.transport.fail(resp, "uploading a blob chunk to", self.name)
                loc = self._location(resp)
            sent += len(data)
            if progress:
                progress(len(data))
        return loc

    def _finish(self, loc: str, digest: str, body: object, size: int) -> None:
        sep = "&" if "?" in loc else "?"
        hdrs = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        resp = self.transport.request("PUT", f"{loc}{sep}digest={digest}", scope=self.push_scope, retry=False,
                                      headers=hdrs, data=body)  # fmt: skip
        with resp:
            if resp.status_code not in (201, 204):
                self.transport.fail(resp, f"uploading blob {digest} to", self.name)

    # ---- tags
    def tags(self) -> list[str]:
        out: list[str] = []
        url: str | None = f"/v2/{self.name}/tags/list?n=1000"
        while url:
            resp = self.transport.request("GET", url, scope=self.pull_scope)
            if resp.status_code == 404:
                resp.close()
                raise RegistryNotFound(f"listing tags of {self.transport.registry}/{self.name}: repository not found")
            if resp.status_code != 200:
                self.transport.fail(resp, "listing tags of", self.name)
            out += resp.json().get("tags") or []
            url = next_link(resp)
        return out


class _Body:
    """An upload body requests can stream: `read` for the bytes, `__len__` so it sends a
    Content-Length (a generator would make it chunk the request)."""

    def __init__(self, f: BinaryIO, size: int, progress: Callable[[int], None] | None) -> None:
        self.f, self.left, self.progress = f, size, progress

    def __len__(self) -> int:
        return self.left

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.f.read(min(self.left, CHUNK if n < 0 else max(n, CHUNK)))
        if not data:
            raise RegistryError(f"local blob ended {self.left} bytes early")
        self.left -= len(data)
        if self.progress:
            self.progress(len(data))
        return data


def next_link(resp) -> str | None:  # type: ignore[no-untyped-def]
    """RFC 5988 `Link: </v2/...?last=x&n=100>; rel="next"` pagination."""
    link = resp.headers.get("Link", "")
    if 'rel="next"' not in link:
        return None
    target = link.split(";", 1)[0].strip().strip("<>")
    return urljoin(resp.url, target)
