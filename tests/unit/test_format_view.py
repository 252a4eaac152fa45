"""TemplateView: Go field names over Podman's JSON keys, extra (Docker) fields, the .Label method."""

from __future__ import annotations

import json

import pytest

from podpy.cli import format as fmt
from podpy.errors import FormatError


def run(template: str, data: object, extra: dict | None = None) -> str:
    return fmt.compile_template(template).execute(fmt.template_view(data, extra))


def test_go_field_names_find_json_keys() -> None:
    info = {"host": {"arch": "amd64", "ociRuntime": {"name": "runc"}, "cpus": 2}, "version": {"Version": "1"}}
    assert run("{{.Host.Arch}} {{.Host.OCIRuntime.Name}} {{.Host.CPUs}} {{.Version.Version}}", info) == "amd64 runc 2 1"
    assert run("{{.ID}} {{.Id}}", {"Id": "x"}) == "x x"
    assert run("{{.ServerVersion}} {{.Host.Arch}}", info, {"ServerVersion": "9"}) == "9 amd64"


def test_missing_fields_still_fail_and_json_is_untouched() -> None:
    with pytest.raises(FormatError, match="can't evaluate field Nope"):
        run("{{.Nope}}", {"Id": "x"})
    view = fmt.template_view({"Id": "x"}, {"Extra": 1})
    assert json.loads(fmt.render_json(view)) == {"Id": "x"}
    assert fmt.render([{"Id": "x"}], "json", "table {{.Id}}").count("Extra") == 0


def test_label_method_and_labels_map() -> None:
    rows = [{"Names": "a", "Labels": {"app": "web"}}, {"Names": "b", "Labels": {}}]
    assert fmt.render(rows, '{{.Names}} {{.Label "app"}} {{.Labels.app}}', "") == "a web web\nb  <no value>\n"
    assert fmt.render(rows, 'table {{.Names}}\t{{.Label "app"}}', "").splitlines()[1].split() == ["a", "web"]
