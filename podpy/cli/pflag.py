"""Go/pflag spellings for every command, once: `--flag=true|false`, `-d=false`, `-dt=false`, `-e=K=V`.

Podman (cobra/pflag) takes a boolean flag's value after `=` and a short flag's value after `-x=`;
click takes neither. Each click command of the tree gets a parser that understands both, and
leaves every other argument to click (combined short flags `-dit` already work there)."""

from __future__ import annotations

from typing import Any

from typer._click.exceptions import BadOptionUsage
from typer._click.parser import _Option, _OptionParser, _ParsingState

from podpy.cli.run_flags import parse_bool  # typer-free: the fast path parses `run` with it


def _is_bool(opt: _Option) -> bool:
    return opt.action == "store_const" and isinstance(opt.const, bool)


class PflagParser(_OptionParser):
    def _process_opts(self, arg: str, state: _ParsingState) -> None:
        name, eq, value = arg.partition("=")
        if eq and name.startswith("--"):
            opt = self._long_opt.get(name)
            if opt is not None and _is_bool(opt):
                self._set_bool(opt, name, value, state)
                return
        elif eq and len(name) > 1 and name not in self._long_opt and self._short_cluster(arg, state):
            return
        super()._process_opts(arg, state)

    def _set_bool(self, opt: _Option, name: str, value: str, state: _ParsingState) -> None:
        on = parse_bool(value)
        if on is None:  # pflag names the flag `-a, --all` when it has a short form
            shown = ", ".join(opt._short_opts[:1] + opt._long_opts[:1]) if opt._short_opts else name
            raise BadOptionUsage(
                name,
                f'invalid argument "{value}" for "{shown}" flag: strconv.ParseBool: parsing "{value}": invalid syntax',
            )
        state.opts[opt.dest] = opt.const if on else not opt.const  # type: ignore[index]
        state.order.append(opt.obj)

    def _short_cluster(self, arg: str, state: _ParsingState) -> bool:
        """`-d=false`, `-dt=false` (d on, t off), `-e=K=V` (the value K=V) as pflag reads them.
        False (click's turn) when a letter before the `=` is not a short flag of this command."""
        rest = arg[1:]
        steps: list[tuple[_Option, str, str | None]] = []
        while rest:
            name = "-" + rest[0]
            opt = self._short_opt.get(name)
            if opt is None:
                return False
            if len(rest) > 2 and rest[1] == "=":
                steps.append((opt, name, rest[2:]))
                break
            if not opt.takes_value:
                steps.append((opt, name, None))
                rest = rest[1:]
                continue
            steps.append((opt, name, rest[1:] or None))
            break
        for opt, name, value in steps:
            if _is_bool(opt) and value is not None:
                self._set_bool(opt, name, value, state)
            elif opt.takes_value:
                if value is None:
                    value = self._get_value_from_state(name, opt, state)  # type: ignore[assignment]
                opt.process(value, state)
            elif value is not None:
                raise BadOptionUsage(name, f"Option {name!r} does not take a value.")
            else:
                opt.process(None, state)
        return True


def apply(cmd: Any) -> Any:
    """Give `cmd` and every command below it the pflag-style parser; returns `cmd`."""
    make = cmd.make_parser

    def make_parser(ctx: Any) -> _OptionParser:
        parser = make(ctx)
        parser.__class__ = PflagParser
        return parser

    cmd.make_parser = make_parser
    for sub in (getattr(cmd, "commands", None) or {}).values():
        apply(sub)
    return cmd
