"""The engine façade: wires stores and runtime from Options. No typer/rich here."""

from podpy.engine.core import Engine

__all__ = ["Engine"]
