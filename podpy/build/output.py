"""`build --output`: the built image's filesystem written out as well, as a directory or a tar file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from podpy.errors import InvalidArgument, PodpyError

if TYPE_CHECKING:
    from podpy.engine.core import Engine


def parse_output(value: str) -> tuple[str, str]:
    """`type=local,dest=DIR`, `type=tar,dest=FILE`, or a bare DIR (Podman's short form) → (kind, dest)."""
    if "=" not in value:
        if value == "-":
            raise InvalidArgument("--output -: writing a tar to stdout is not supported: use type=tar,dest=FILE")  # fmt: skip
        return "local", value
    fields = {}
    for part in value.split(","):
        key, eq, val = part.partition("=")
        if not eq:
            raise InvalidArgument(f"invalid --output {value!r}: expected type=local|tar,dest=PATH")
        fields[key.strip()] = val.strip()
    kind, dest = fields.get("type", ""), fields.get("dest", "")
    if kind not in ("local", "tar"):
        raise InvalidArgument(f"invalid --output {value!r}: type must be local or tar")
    if not dest or dest == "-":
        raise InvalidArgument(f"invalid --output {value!r}: dest=PATH is required (stdout is not supported)")
    return kind, dest


def write_output(engine: Engine, image_id: str, kind: str, dest: str) -> None:
    """The image's merged filesystem as a tar file (`tar`) or extracted into a directory (`local`)."""
    from podpy.engine import build_support as bs
    from podpy.engine.container_files import export

    rec = bs.create_step(engine, image_id, bs.StepSpec())
    try:
        if kind == "tar":
            path = Path(dest).absolute()
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as f:
                    export(engine, rec.id, f)  # type: ignore[arg-type]
                os.replace(tmp, path)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise PodpyError(f"--output {dest}: {e.strerror or e}") from None
            return
        engine.layout.ingest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=engine.layout.ingest) as tmpf:
            export(engine, rec.id, tmpf)  # type: ignore[arg-type]
            tmpf.seek(0)
            _extract(tmpf, Path(dest))
    finally:
        bs.discard(engine, rec)


def _extract(stream: object, dest: Path) -> None:
    """Every entry inside `dest` (never outside it: paths resolve through podpy.inroot)."""
    import tarfile

    from podpy.inroot import Root
    from podpy.storage.treewrite import TreeWriter, WriteOptions

    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PodpyError(f"--output {dest}: {e.strerror or e}") from None
    with Root(dest) as root:
        writer = TreeWriter(root, (), WriteOptions(strict_ids=False))
        with tarfile.open(fileobj=stream, mode="r|") as tf:  # type: ignore[call-overload]
            for m in tf:
                writer.put(m, tf.extractfile(m) if m.isreg() else None)
                tf.members.clear()
        writer.finish()
