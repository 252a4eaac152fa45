"""kube generate's translation, fact by fact: tests/golden/kube/CASE/facts.json (trimmed inspect
documents, as podpy.kube.collect reads them) -> expected.yaml. Regenerate after an intended change
with PODPY_UPDATE_GOLDEN=1 and review the diff. Every document is checked against the Kubernetes
OpenAPI schemas (PyPI kubernetes-validate, strict: unknown fields fail) when it is installed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from podpy.kube.generate import dns_name, documents, to_yaml

GOLDEN = Path(__file__).parent.parent / "golden" / "kube"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "facts.json").exists())
K8S_VERSION = "1.30.0"  # docs/kubernetes.md names the same version


def _generate(case: str) -> str:
    facts = json.loads((GOLDEN / case / "facts.json").read_text())
    o = facts["options"]
    return to_yaml(documents(facts["pods"], facts["volumes"], o.get("type", "pod"), o.get("replicas", 1),
                             o.get("service", False)))  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    got = _generate(case)
    expected = GOLDEN / case / "expected.yaml"
    if os.environ.get("PODPY_UPDATE_GOLDEN") or not expected.exists():
        expected.write_text(got)
    assert got == expected.read_text()


@pytest.mark.parametrize("case", CASES)
def test_valid_kubernetes(case: str) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    for doc in yaml.safe_load_all(_generate(case)):
        kv.validate(doc, K8S_VERSION, strict=True)


def test_dns_names() -> None:
    assert dns_name("My_App.1") == "my-app-1"
    assert dns_name("__") == "x"
    assert len(dns_name("a" * 100)) == 63
