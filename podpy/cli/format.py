"""`--format` for every podpy command: json, table, or a Go template.

    render(rows, opts.format, "table {{.ID}}\\t{{.Names}}", headers={"ID": "CONTAINER ID"})

Only the standard library is imported here: this runs on the hot path of
`podpy ps` / `podpy images`. The template language lives in `gotemplate/`.
The whole output is built before anything is printed, so a bad template or a
failing row prints nothing but the error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2-7 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

    from .gotemplate import Template

__all__ = ["Template", "TemplateView", "compile_template", "render", "render_json", "render_table", "header_for",
           "template_view"]

# Docker's tabwriter settings (minwidth 10, padding 3): `TAG       IMAGE ID`.
MIN_WIDTH = 10
PADDING = 3

# Field names whose Docker header is not simply the upper-cased words.
HEADER_NAMES = {
    "CreatedSince": "CREATED",
    "RunningFor": "CREATED",
    "CreatedAt": "CREATED AT",
}
_WORD = r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+"  # compiled on first use


class TemplateView(dict):  # type: ignore[type-arg]
    """A record as a template sees it, like the Go struct behind Podman's JSON:

    - a missing `{{.Field}}` also finds the JSON key spelled `field` (`.Host.Arch` on `{"host": {"arch"}}`)
      or `Field` with the rest lower-cased (`.ID` on `"Id"`);
    - `extra` answers further fields that are not in the JSON (Docker's `.ServerVersion` on `info`);
    - methods: `{{.Label "app"}}` reads `.Labels`.

    JSON output (`--format json`) only ever sees the real keys.
    """

    extra: dict[str, Any] | None = None

    def __missing__(self, key: Any) -> Any:
        if isinstance(key, str) and key:
            for alt in _json_spellings(key):
                if alt != key and dict.__contains__(self, alt):
                    return self[alt]
            if self.extra and key in self.extra:
                return self.extra[key]
        raise KeyError(key)

    def template_method(self, name: str) -> Any:
        if name == "Label":
            labels = self.get("Labels")
            return lambda key: (labels or {}).get(key, "") if isinstance(labels, Mapping) else ""
        return None


def __getattr__(name: str) -> Any:
    """`format.Template` (in __all__) without importing the template engine up front."""
    if name == "Template":
        from .gotemplate import Template

        return Template
    raise AttributeError(name)


def _json_spellings(field: str) -> tuple[str, ...]:
    """JSON keys a Go field name may have: `Host`→`host`, `ID`→`Id`/`id`, `OCIRuntime`→`ociRuntime`, `CPUs`→`cpus`."""
    n = len(field) - len(field.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    acronym = field[: n - 1].lower() + field[n - 1 :] if 1 < n < len(field) else field.lower()
    return (field[0].lower() + field[1:], field[0] + field[1:].lower(), acronym, field.lower())


def template_view(obj: Any, extra: dict[str, Any] | None = None) -> Any:
    """`obj` with every dict in it a TemplateView (lists walked too); `extra` goes on the top one."""
    if isinstance(obj, dict):
        view = TemplateView({k: template_view(v) for k, v in obj.items()})
        if extra:
            view.extra = {k: template_view(v) for k, v in extra.items()}
        return view
    if isinstance(obj, list):
        return [template_view(v) for v in obj]
    return obj


def compile_template(fmt: str, *, shell_escapes: bool = True) -> Template:
    """Parse a template once (raises FormatError); `Template.execute(data) -> str`.

    With shell_escapes (the default, as Docker), a typed `\\t`/`\\n` in literal
    text means tab/newline.
    """
    from .gotemplate import parse  # ~9 ms to import: a plain table (the default) does without it

    return parse(fmt, shell_escapes=shell_escapes)


def render_json(obj: Any) -> str:
    """Pretty JSON with 4-space indent, like `podman ... --format json`; ends with a newline."""
    import json  # ~8 ms to import: only for json output

    from .gotemplate.jsonshape import jsonable

    return json.dumps(jsonable(obj), indent=4, ensure_ascii=False, default=str) + "\n"


def render(
    rows: list[dict[str, Any]],
    fmt: str | None,
    default: str,
    *,
    quiet_field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """Output for a list command. `default` is the command's `table ...` template.

    quiet_field (set when -q is given) wins over any format: one value per line.
    Returns the full text, each line ending in a newline ("" for no rows unless a table).
    """
    if quiet_field is not None:
        return "".join(f"{_plain(_get(row, quiet_field))}\n" for row in rows)
    fmt = (fmt or "").strip()
    if not fmt or fmt == "table":
        fmt = default
    if fmt == "json":
        return render_json(rows)
    if fmt.startswith("table"):
        return render_table(rows, fmt[len("table") :].strip(" "), headers=headers)
    tmpl = compile_template(fmt)
    return "".join(tmpl.execute(template_view(row)) + "\n" for row in rows)


def render_table(
    rows: Iterable[Any],
    body: str,
    *,
    headers: Mapping[str, str] | None = None,
    min_width: int = MIN_WIDTH,
    padding: int = PADDING,
) -> str:
    """Header line plus one line per row; `\\t` separates aligned columns."""
    rows = list(rows)
    lines = _plain_table(rows, body, headers)
    if lines is None:
        tmpl = compile_template(body)
        lines = ["\t".join(table_headers(tmpl, headers))]
        for row in rows:
            lines.extend(tmpl.execute(template_view(row)).split("\n"))
    return "".join(line + "\n" for line in align([line.split("\t") for line in lines], min_width, padding))


def _plain_table(rows: list[Any], body: str, headers: Mapping[str, str] | None) -> list[str] | None:
    """The lines of a table whose template is only `{{.Field}}` columns split by tabs (every default
    table) over rows whose fields are strings, without the template engine; None for anything else.
    The same text as the template's: a string field prints as itself (gotemplate.gofmt.sprint_value)."""
    fields: list[str] = []
    for cell in body.replace("\\t", "\t").split("\t"):
        if not (cell.startswith("{{") and cell.endswith("}}")):
            return None
        name = cell[2:-2].strip(" ")
        if not (name.startswith(".") and name[1:].isidentifier()):
            return None
        fields.append(name[1:])
    for row in rows:
        if type(row) is not dict or any(type(row.get(f)) is not str for f in fields):
            return None
    return ["\t".join(header_for([f], headers) for f in fields)] + [
        line for row in rows for line in "\t".join([row[f] for f in fields]).split("\n")
    ]


def table_headers(tmpl: Template, overrides: Mapping[str, str] | None = None) -> list[str]:
    """One header per tab-separated column of the template's top level."""
    from .gotemplate.nodes import TextNode

    columns: list[list[Any]] = [[]]
    for node in tmpl.nodes:
        if isinstance(node, TextNode) and "\t" in node.text:
            parts = node.text.split("\t")
            columns[-1].append(TextNode(parts[0]))
            columns.extend([TextNode(p)] for p in parts[1:])
        else:
            columns[-1].append(node)
    return [_column_header(col, overrides) for col in columns]


def _column_header(nodes: list[Any], overrides: Mapping[str, str] | None) -> str:
    from .gotemplate.nodes import TextNode, first_field

    names = first_field(nodes)
    if names:
        return header_for(names, overrides)
    if all(isinstance(n, TextNode) for n in nodes):
        return "".join(n.text for n in nodes).strip().upper()
    return ""


def header_for(names: list[str] | str, overrides: Mapping[str, str] | None = None) -> str:
    """Docker-style header for a field: `CreatedSince` → `CREATED`, `LocalVolumes` → `LOCAL VOLUMES`.

    overrides may be keyed by the last field name or the dotted path (`State.Status`).
    """
    if isinstance(names, str):
        names = names.split(".")
    last = names[-1]
    for key in (".".join(names), last):
        if overrides and key in overrides:
            return overrides[key]
    if last in HEADER_NAMES:
        return HEADER_NAMES[last]
    import re

    words = re.findall(_WORD, last)
    return " ".join(words).upper() if words else last.upper()


def align(lines: list[list[str]], min_width: int = MIN_WIDTH, padding: int = PADDING) -> list[str]:
    """Go's text/tabwriter: a column block is a run of consecutive lines that have a cell
    in that column followed by a tab; the last cell of a line is never padded."""
    out: list[str] = [""] * len(lines)
    widths: list[int] = []

    def emit(first: int, stop: int) -> None:
        for i in range(first, stop):
            cells, n = lines[i], len(widths)
            out[i] = "".join(c.ljust(widths[j]) if j < n else c for j, c in enumerate(cells)).rstrip()

    def block(first: int, stop: int) -> None:
        col, this = len(widths), first
        while this < stop:
            if col >= len(lines[this]) - 1:
                this += 1
                continue
            emit(first, this)
            first, width = this, min_width
            while this < stop and col < len(lines[this]) - 1:
                width = max(width, len(lines[this][col]) + padding)
                this += 1
            widths.append(width)
            block(first, this)
            widths.pop()
            first = this
        emit(first, stop)

    block(0, len(lines))
    return out


def _get(row: Any, field: str) -> Any:
    return row.get(field) if isinstance(row, Mapping) else getattr(row, field, None)


def _plain(value: Any) -> str:
    from .gotemplate.gofmt import sprint_value

    return "" if value is None else sprint_value(value)
