"""Independent stages at once: each stage of a wave but the last builds in a forked child (a fork,
not a thread: step containers are forked and unshared, which threads make unsafe), the last one
here; every result is an image in the store, so a child only reports its image ID (or its error).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable

from podpy.errors import PodpyError


def run_wave(stages: list[int], build_one: Callable[[int], str], reset_child: Callable[[], None],
             cleanup_child: Callable[[], None]) -> dict[int, str]:  # fmt: skip
    """{stage index: image ID} for every stage of the wave; the first failure is raised once all ended."""
    children: list[tuple[int, int, int]] = []  # (stage, pid, read end)
    for i in stages[:-1]:
        sys.stdout.flush()
        sys.stderr.flush()
        r, w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(r)
            _child(i, w, build_one, reset_child, cleanup_child)
        os.close(w)
        children.append((i, pid, r))
    results: dict[int, str] = {}
    error: PodpyError | None = None
    try:
        results[stages[-1]] = build_one(stages[-1])
    except PodpyError as e:
        error = e
    except BaseException:  # interrupted: the children stop too (their step containers are removed)
        for _, pid, r in children:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
            os.close(r)
        raise
    for i, pid, r in children:
        with os.fdopen(r, "rb") as f:
            data = f.read()
        os.waitpid(pid, 0)
        try:
            doc = json.loads(data or b"{}")
        except ValueError:
            doc = {}
        if "id" in doc:
            results[i] = doc["id"]
        elif error is None:
            error = PodpyError(doc.get("error") or "a build stage ended unexpectedly")
            error.exit_code = int(doc.get("code") or 125)
    if error is not None:
        raise error
    return results


def _child(i: int, w: int, build_one: Callable[[int], str], reset: Callable[[], None],
           cleanup: Callable[[], None]) -> None:  # pragma: no cover - the child  # fmt: skip
    code = 1
    try:
        reset()
        doc: dict = {"id": build_one(i)}
        code = 0
    except PodpyError as e:
        doc = {"error": str(e), "code": e.exit_code}
    except BaseException as e:  # the child must report and exit, whatever happened
        doc = {"error": f"internal error: {type(e).__name__}: {e}", "code": 125}
    try:
        cleanup()
        os.write(w, json.dumps(doc).encode())
        sys.stdout.flush()
    finally:
        os._exit(code)
