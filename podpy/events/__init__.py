"""The engine's event log (Podman's `events_logger = "file"`): `append` writes one event, `Reader`
reads and follows the file, `query` selects what `events` shows. Below the engine and the
supervisor (both write through `append`); imports nothing of podpy but `timeutil`."""

from podpy.events.log import Reader, append, log_path
from podpy.events.record import Event

__all__ = ["Event", "Reader", "append", "log_path"]
