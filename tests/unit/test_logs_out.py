"""`logs` of one container, not following: lines batched per stream, in order, each to its stream."""

from __future__ import annotations

from podpy.cli import logs_out


def test_batched_lines_keep_streams_and_order(capsysbinary) -> None:  # type: ignore[no-untyped-def]
    entries = [(b"t1", b"stdout", b"a\n"), (b"t2", b"stdout", b"b\n"), (b"t3", b"stderr", b"E\n"),
               (b"t4", b"stdout", b"c")]  # fmt: skip
    logs_out._write_batched(iter(entries), timestamps=False)
    got = capsysbinary.readouterr()
    assert (got.out, got.err) == (b"a\nb\nc", b"E\n")
    logs_out._write_batched(iter(entries), timestamps=True)
    got = capsysbinary.readouterr()
    assert (got.out, got.err) == (b"t1 a\nt2 b\nt4 c", b"t3 E\n")


def test_batches_are_bounded(capsysbinary, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    writes: list[int] = []
    real = logs_out._emit
    monkeypatch.setattr(logs_out, "_emit", lambda s, parts: (writes.append(len(parts)), real(s, parts)))
    line = b"x" * 1000 + b"\n"
    logs_out._write_batched(((b"t", b"stdout", line) for _ in range(200)), timestamps=False)
    assert capsysbinary.readouterr().out == line * 200
    assert len(writes) > 1 and max(writes) <= logs_out.BATCH // 1000 + 1
