"""Build errors: every Dockerfile problem names the file, the line and the instruction."""

from __future__ import annotations

from podpy.errors import PodpyError


class ShellSyntaxError(ValueError):
    """A variable-expansion error; the caller adds the location (BuildError)."""


class BuildError(PodpyError):
    """A Dockerfile that cannot be parsed or planned (one line, exit 125)."""

    def __init__(self, message: str, *, file: str = "Dockerfile", line: int = 0, instruction: str = "") -> None:
        self.file = file
        self.line = line
        self.instruction = instruction.upper()
        self.reason = message.replace("\r", "\\r").replace("\n", "\\n")  # errors are one line
        where = f"{file}:{line}" if line else file
        what = f" {self.instruction}:" if self.instruction else ""
        super().__init__(f"{where}:{what} {self.reason}")
