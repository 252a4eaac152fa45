"""--format engine: the Go template subset (podpy.cli.gotemplate) and the output modes (podpy.cli.format)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from podpy.cli.format import align, compile_template, header_for, render, render_json, render_table
from podpy.cli.gotemplate import parse
from podpy.errors import FormatError

DATA = {
    "Name": "web",
    "Names": ["a", "b", "c"],
    "State": {"Status": "running", "Pid": 42, "Running": True},
    "Config": {"Cmd": ["sh", "-c"], "Labels": {"b": "2", "a": "1"}, "Env": None},
    "Count": 3,
    "Ratio": 1.5,
    "Big": 1000000.0,
    "Empty": "",
    "Nil": None,
    "CSV": "x,y,z",
    "Mixed": ["a", None],
    "Nested": [{"Name": "n1"}, {"Name": "n2"}],
    "Matrix": {"m": ["p", "q"]},
}


def run(template: str, data: object = DATA) -> str:
    return parse(template).execute(data)


# -- template language ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # fields and printing of values
        ("{{.Name}}", "web"),
        ("{{ .Name }}", "web"),
        ("{{.State.Status}}", "running"),
        ("{{.Names}}", "[a b c]"),
        ("{{.Config.Labels}}", "map[a:1 b:2]"),
        ("{{.Config.Labels.zz}}", "<no value>"),
        ("{{.Nil}}", "<no value>"),
        ("{{.Nil.Deeper}}", "<no value>"),
        ("{{.State}}", "{running 42 true}"),
        ("{{.Mixed}}", "[a <nil>]"),
        ("{{.Count}} {{.Ratio}} {{.Big}} {{.State.Running}}", "3 1.5 1e+06 true"),
        ("{{.Matrix}}", "map[m:[p q]]"),
        ("plain text only", "plain text only"),
        # json
        ("{{json .Config}}", '{"Cmd":["sh","-c"],"Labels":{"a":"1","b":"2"},"Env":null}'),
        ("{{json .Name}}", '"web"'),
        ("{{json .Big}}", "1000000"),
        ('{{json "<&>é"}}', '"<&>é"'),
        # string functions
        ("{{upper .Name}} {{lower \"ABC\"}} {{title \"hello wOrld-x\"}}", "WEB abc Hello WOrld-X"),
        ('{{join .Names ", "}}', "a, b, c"),
        ('{{split .CSV ","}}', "[x y z]"),
        ('{{join (split .CSV ",") "-"}}', "x-y-z"),
        ('{{truncate "abcdef" 3}}|{{truncate "ab" 5}}', "abc|ab"),
        ('[{{pad "x" 2 1}}][{{pad "" 2 1}}]', "[  x ][]"),
        # index / len / slice
        ('{{index .Config.Labels "a"}}', "1"),
        ('[{{index .Config.Labels "zz"}}]', "[]"),
        ("{{index .Names 1}}", "b"),
        ('{{index .Matrix "m" 1}}', "q"),
        ("{{len .Names}} {{len .Name}} {{len .Config.Labels}}", "3 3 2"),
        ("{{slice .Names 1 2}} {{slice .Name 1}}", "[b] eb"),
        # printf and friends
        ('{{printf "%s|%d|%v|%q|%t|%%" .Name .Count .Names .Name true}}', 'web|3|[a b c]|"web"|true|%'),
        ('{{printf "[%-6s][%6s][%5d][%-5d][%05d]" "ab" "ab" 42 42 -42}}', "[ab    ][    ab][   42][42   ][-0042]"),
        ('{{printf "%x %X %#x %o %b %c" 255 255 255 8 5 65}}', "ff FF 0xff 10 101 A"),
        ('{{printf "%x" "hi"}} {{printf "%.2f" .Ratio}} {{printf "%e" .Big}}', "6869 1.50 1.000000e+06"),
        ('{{printf "%d %s"}}', "%!d(MISSING) %!s(MISSING)"),
        ('{{printf "%d" 1 "x"}}', "1%!(EXTRA string=x)"),
        ('{{printf "%d" "x"}}', "%!d(string=x)"),
        ('{{printf "%q" "a\\"b\\n"}}', '"a\\"b\\n"'),
        ('{{print 1 2 "a" "b" 3}}', "1 2ab3"),
        ('{{println "a" 1}}', "a 1\n"),
        # comparisons and logic
        ('{{eq .Name "web"}} {{eq .Count 1 2 3}} {{ne .Count 3}}', "true true false"),
        ("{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 2 1}} {{lt \"a\" \"b\"}}", "true true false true true"),
        ('{{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}} {{not 0}}', "0 2 x  true"),
        ("{{and .Nil .Nil.Missing}}", "<no value>"),
        # literals
        (r'{{"a\tb\n"}}', "a\tb\n"),
        (r"{{`a\tb`}}", r"a\tb"),
        ("{{42}} {{-7}} {{0x1F}} {{0o17}} {{017}} {{1_000}} {{'a'}} {{2.5}} {{1e3}}", "42 -7 31 15 15 1000 97 2.5 1000"),
        ("{{true}} {{false}} {{print nil}}", "true false <nil>"),
        (r'{{"\u00e9\x41"}}', "éA"),
        # pipelines, parentheses, chains
        ("{{.Name | upper}}", "WEB"),
        ('{{.Names | len | printf "%03d"}}', "003"),
        ('{{"x" | printf "%s-%s" "y"}}', "y-x"),
        ("{{(index .Nested 1).Name}}", "n2"),
        ("{{(index .Names 0) | upper}}", "A"),
        # variables
        ("{{$x := .Name}}{{$x}}", "web"),
        ("{{$x := 1}}{{$x = 2}}{{$x}}", "2"),
        ("{{$s := .State}}{{$s.Status}}", "running"),
        ("{{range .Names}}{{$.Name}}{{end}}", "webwebweb"),
        # range
        ("{{range .Names}}{{.}};{{end}}", "a;b;c;"),
        ("{{range $i, $e := .Names}}{{$i}}={{$e}} {{end}}", "0=a 1=b 2=c "),
        ("{{range $e := .Names}}{{$e}}{{end}}", "abc"),
        ("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}", "a:1,b:2,"),
        ("{{range .Config.Labels}}{{.}}{{end}}", "12"),
        ("{{range .Nested}}{{.Name}} {{end}}", "n1 n2 "),
        ("{{range .Config.Env}}x{{else}}none{{end}}", "none"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ('{{range .Names}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', "a"),
        ('{{range .Names}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', "ac"),
        ("{{range .Matrix}}{{range .}}{{.}}{{end}}{{end}}", "pq"),
        # if / with
        ("{{if .Name}}yes{{end}}", "yes"),
        ("{{if .Empty}}yes{{else}}no{{end}}", "no"),
        ('{{if eq .Count 1}}one{{else if eq .Count 3}}three{{else}}many{{end}}', "three"),
        ("{{if .Empty}}1{{else if .Nil}}2{{else}}3{{end}}", "3"),
        ("{{with .State}}{{.Status}}{{end}}", "running"),
        ("{{with .Empty}}x{{else}}empty{{end}}", "empty"),
        ("{{with $p := .State.Pid}}{{$p}}{{end}}", "42"),
        ("{{with .Empty}}a{{else with .Name}}{{.}}{{end}}", "web"),
        ("{{if $n := .Count}}{{$n}}{{end}}", "3"),
        # trim markers and comments
        ("a  {{- .Name -}}  b", "awebb"),
        ("a\n\t{{- .Name}}\n", "aweb\n"),
        ("{{-3}}", "-3"),
        ("a {{/* comment */}} b", "a  b"),
        ("a {{- /* comment */ -}} b", "ab"),
        ("{{/* multi\nline */}}x", "x"),
    ],
)
def test_template(template: str, expected: str) -> None:
    assert run(template) == expected


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        ("", False), ("x", True), (0, False), (1, True), (0.0, False), (False, False), (True, True),
        (None, False), ([], False), ([0], True), ({}, False), ({"a": 1}, True),
    ],
)
def test_truthiness(value: object, truthy: bool) -> None:
    assert run("{{if .V}}T{{else}}F{{end}}", {"V": value}) == ("T" if truthy else "F")


@dataclass
class _Record:
    Name: str
    Ports: list[str]


def test_dataclass_records() -> None:
    rec = _Record("web", ["80/tcp"])
    assert run("{{.Name}} {{.Ports}} {{json .}}", rec) == 'web [80/tcp] {"Name":"web","Ports":["80/tcp"]}'


def test_template_is_reusable_and_variables_do_not_leak() -> None:
    tmpl = parse("{{range .L}}{{$x := .}}{{$x}}{{end}}")
    assert tmpl.execute({"L": [1, 2]}) == "12"
    assert tmpl.execute({"L": [3]}) == "3"


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{.Foo}}", 'template: output:1:2: executing "output" at <.Foo>: can\'t evaluate field Foo'),
        ("x {{.State.Nope}}", 'template: output:1:4: executing "output" at <.State.Nope>: can\'t evaluate field Nope'),
        ("{{.Name.Foo}}", "at <.Name.Foo>: can't evaluate field Foo in type string"),
        ("line1\n  {{.Foo}}", 'template: output:2:4: executing "output" at <.Foo>'),
        ("{{foo}}", 'template: output:1: function "foo" not defined'),
        ("{{.Name | bar}}", 'template: output:1: function "bar" not defined'),
        ("{{.Name", "template: output:1: unclosed action"),
        ("{{if .Name}}x", "template: output:1: unexpected EOF"),
        ("{{end}}", "template: output:1: unexpected {{end}}"),
        ("{{else}}", "template: output:1: unexpected {{else}}"),
        ("{{range .Names}}{{else}}{{else}}{{end}}", "expected end; found {{else}}"),
        ("{{$y}}", 'template: output:1: undefined variable "$y"'),
        ("{{$y = 1}}", 'template: output:1: undefined variable "$y"'),
        ('{{"abc}}', "template: output:1: unterminated quoted string"),
        ("{{`abc}}", "template: output:1: unterminated raw quoted string"),
        ("{{}}", "template: output:1: missing value for command"),
        ("{{if}}{{end}}", "template: output:1: missing value for if"),
        ("{{(.Name}}", "template: output:1: unclosed left paren"),
        ("{{.Name)}}", "template: output:1: unexpected right paren"),
        ("{{/* x }}", "template: output:1: unclosed comment"),
        ("{{/* x */ .Name}}", "comment ends before closing delimiter"),
        ("{{.Name %}}", "unrecognized character in action: U+0025 '%'"),
        ("{{3x}}", "bad number syntax"),
        ("{{break}}", "template: output:1: {{break}} outside {{range}}"),
        ('{{template "x"}}', "{{template}} is not supported"),
        ("{{.Name | 3}}", "non executable command in pipeline stage 2"),
        ("{{nil}}", "nil is not a command"),
        ("{{index .Names 5}}", 'at <index .Names 5>: error calling index: index out of range: 5'),
        ('{{index .Names "x"}}', "error calling index: cannot index slice/array with type string"),
        ("{{index .Nil 0}}", "error calling index: index of untyped nil"),
        ("{{upper 1 2}}", "at <upper>: wrong number of args for upper: want 1 got 2"),
        ("{{index}}", "wrong number of args for index: want at least 1 got 0"),
        ('{{eq 1 "a"}}', "error calling eq: incompatible types for comparison"),
        ("{{lt true false}}", "error calling lt: invalid type for comparison"),
        ("{{eq 1}}", "error calling eq: missing argument for comparison"),
        ("{{len .Count}}", "error calling len: len of type int"),
        ('{{truncate "x" "y"}}', "error calling truncate: wrong type for value; expected int"),
        ("{{.Name .Count}}", "at <.Name>: Name has arguments but cannot be invoked as function"),
        ('{{"a" "b"}}', 'can\'t give argument to non-function "a"'),
        ('{{range "abc"}}{{end}}', "range can't iterate over abc"),
        ("{{range $i, $e := 3}}{{end}}", "can't use 3 to iterate over more than one variable"),
        ('{{printf "%c" -1}}', "error calling printf"),
    ],
)
def test_errors(template: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        run(template)
    text = str(info.value)
    assert message in text
    assert text.startswith("template: output:")
    assert "\n" not in text


def test_error_context_is_truncated_like_go() -> None:
    with pytest.raises(FormatError, match=r"at <index \.Names 1234567\.\.\.>"):
        run("{{index .Names 12345678901234}}")


# -- output modes -----------------------------------------------------------------------
IMAGES = [
    {"Repository": "docker.io/library/alpine", "Tag": "latest", "ID": "a606584aa9aa",
     "CreatedSince": "2 weeks ago", "Size": "7.8MB", "Labels": {"k": "v"}},
    {"Repository": "localhost/app", "Tag": "1", "ID": "ffff00001111",
     "CreatedSince": "3 days ago", "Size": "120MB", "Labels": {}},
]
IMAGES_DEFAULT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_TABLE = (
    "REPOSITORY                 TAG       IMAGE ID       CREATED       SIZE\n"
    "docker.io/library/alpine   latest    a606584aa9aa   2 weeks ago   7.8MB\n"
    "localhost/app              1         ffff00001111   3 days ago    120MB\n"
)


@pytest.mark.parametrize("fmt", [None, "", "table", "  table  "])
def test_default_table(fmt: str | None) -> None:
    assert render(IMAGES, fmt, IMAGES_DEFAULT, headers={"ID": "IMAGE ID"}) == IMAGES_TABLE


def test_table_without_rows_prints_header() -> None:
    assert render([], None, IMAGES_DEFAULT) == "REPOSITORY   TAG       ID        CREATED   SIZE\n"


def test_custom_table_literal_backslash_t() -> None:
    out = render(IMAGES, r"table {{.ID}}\t{{.Tag}}", IMAGES_DEFAULT)
    assert out == "ID             TAG\na606584aa9aa   latest\nffff00001111   1\n"


def test_table_min_width_padding_and_no_trailing_space() -> None:
    rows = [{"A": "x", "B": "", "C": ""}]
    out = render(rows, "table {{.A}}\t{{.B}}\t{{.C}}", "")
    assert out == "A         B         C\nx\n"
    assert all(line == line.rstrip() for line in out.splitlines())


def test_table_headers_for_non_field_cells() -> None:
    rows = [{"Tag": "latest", "Size": "7.8MB"}]
    out = render(rows, "table {{json .}}\tlit\tsize: {{.Size}}\t{{upper .Tag}}", "")
    header, line = out.splitlines()
    assert header == " " * 34 + "LIT       SIZE          TAG"
    assert line == '{"Tag":"latest","Size":"7.8MB"}   lit       size: 7.8MB   LATEST'


def test_table_header_override_by_path() -> None:
    out = render([{"State": {"Status": "up"}}], "table {{.State.Status}}", "", headers={"State.Status": "ST"})
    assert out == "ST\nup\n"


@pytest.mark.parametrize(
    ("field", "header"),
    [
        ("ID", "ID"), ("Repository", "REPOSITORY"), ("CreatedSince", "CREATED"), ("RunningFor", "CREATED"),
        ("CreatedAt", "CREATED AT"), ("Names", "NAMES"), ("Status", "STATUS"), ("Image", "IMAGE"),
        ("Command", "COMMAND"), ("Ports", "PORTS"), ("Size", "SIZE"), ("Digest", "DIGEST"), ("Tag", "TAG"),
        ("Driver", "DRIVER"), ("Name", "NAME"), ("LocalVolumes", "LOCAL VOLUMES"), ("ImageID", "IMAGE ID"),
        ("IPAddress", "IP ADDRESS"), ("SharedSize", "SHARED SIZE"), ("State.Status", "STATUS"),
        ("lowercase", "LOWERCASE"),
    ],
)
def test_header_for(field: str, header: str) -> None:
    assert header_for(field) == header


def test_header_overrides() -> None:
    assert header_for("ID", {"ID": "CONTAINER ID"}) == "CONTAINER ID"
    assert header_for(["Names"], {"ID": "CONTAINER ID"}) == "NAMES"


def test_plain_template_per_row() -> None:
    assert render(IMAGES, r"{{.Repository}}:{{.Tag}}\t{{.ID}}", IMAGES_DEFAULT) == (
        "docker.io/library/alpine:latest\ta606584aa9aa\nlocalhost/app:1\tffff00001111\n"
    )
    assert render([], "{{.ID}}", IMAGES_DEFAULT) == ""


def test_json_mode_pretty_array() -> None:
    out = render(IMAGES, "json", IMAGES_DEFAULT)
    assert json.loads(out) == IMAGES
    assert out.startswith('[\n    {\n        "Repository": "docker.io/library/alpine",')
    assert out.endswith("]\n")
    assert render([], "json", IMAGES_DEFAULT) == "[]\n"


def test_render_json_single_object() -> None:
    assert render_json({"Id": "x", "Labels": {"b": 1, "a": 2}}) == (
        '{\n    "Id": "x",\n    "Labels": {\n        "a": 2,\n        "b": 1\n    }\n}\n'
    )


def test_json_template_per_row() -> None:
    out = render(IMAGES, "{{json .}}", IMAGES_DEFAULT)
    assert [json.loads(line) for line in out.splitlines()] == IMAGES


def test_quiet_field_wins_over_format() -> None:
    assert render(IMAGES, "{{.Tag}}", IMAGES_DEFAULT, quiet_field="ID") == "a606584aa9aa\nffff00001111\n"
    assert render(IMAGES, None, IMAGES_DEFAULT, quiet_field="ID") == "a606584aa9aa\nffff00001111\n"


def test_bad_template_raises_before_any_output() -> None:
    with pytest.raises(FormatError, match='function "nope" not defined'):
        render(IMAGES, "{{nope .ID}}", IMAGES_DEFAULT)
    # an execution error on a later row still produces no partial output (render returns nothing)
    rows = [{"A": "x"}, {"A": "y", "B": 1}]
    with pytest.raises(FormatError, match="can't evaluate field B"):
        render(rows, "{{.A}}{{.B}}", "")


def test_compile_template_for_inspect() -> None:
    tmpl = compile_template(r"{{.State.Status}}\t{{json .Config.Cmd}}")
    assert tmpl.execute(DATA) == 'running\t["sh","-c"]'
    raw = compile_template(r"a\tb", shell_escapes=False)
    assert raw.execute({}) == r"a\tb"


def test_render_table_accepts_custom_widths() -> None:
    out = render_table([{"A": "x", "B": "y"}], "{{.A}}\t{{.B}}", min_width=0, padding=2)
    assert out == "A  B\nx  y\n"


def test_align_follows_tabwriter_column_blocks() -> None:
    # column 0 of lines 0-1 forms one block; line 2 has no tab so it ends the block
    lines = [["a", "b"], ["long-cell", "c"], ["solo"], ["d", "e"]]
    assert align(lines, min_width=0, padding=1) == ["a         b", "long-cell c", "solo", "d e"]


def test_multiline_rows_in_tables() -> None:
    out = render([{"A": "x", "B": ["1", "2"]}], 'table {{.A}}\t{{join .B "\\n"}}', "")
    assert out == "A         B\nx         1\n2\n"


# -- performance and import cost ----------------------------------------------------------
def test_500_rows_is_fast() -> None:
    rows = [
        {"ID": f"{i:012x}", "Image": "alpine:latest", "Command": '"sh"', "RunningFor": "2 hours ago",
         "Status": "Up 2 hours", "Ports": "", "Names": f"c{i}"}
        for i in range(500)
    ]
    default = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
    start = time.perf_counter()
    out = render(rows, None, default, headers={"ID": "CONTAINER ID"})
    elapsed = time.perf_counter() - start
    assert out.count("\n") == 501
    assert elapsed < 0.25  # typically ~10 ms; generous for slow CI


def test_import_is_cheap() -> None:
    code = (
        "import sys, podpy.cli.format as f; "
        "heavy = [m for m in ('typer', 'rich', 'json', 'dataclasses') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo)
    assert out.stdout.strip() == ""
