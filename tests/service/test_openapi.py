"""The OpenAPI document is the contract: what it promises, and schemathesis holding the served API to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.service.auth import ApiToken
from augment_gan.service.openapi import document
from tests.benchmarks.helpers import load_benchmark
from tests.export.helpers import CLASSES
from tests.service.conftest import REJECTED


@pytest.fixture(scope="module")
def gen(gated_model: Path) -> OnnxGenerator:
    return OnnxGenerator.load(gated_model, providers=["CPUExecutionProvider"])


def test_labels_are_the_classes_the_model_generates(gen: OnnxGenerator):
    doc = document(gen, ApiToken())
    body = doc["paths"]["/generate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    names, indices = body["properties"]["label"]["anyOf"]
    served = [c for c in CLASSES if c != REJECTED]
    assert names == {"type": "string", "enum": served}
    assert indices == {"type": "integer", "enum": [CLASSES.index(c) for c in served]}
    item = doc["components"]["schemas"]["BatchItem"]["properties"]["label"]
    assert item["anyOf"][0]["enum"] == served
    assert body["properties"]["count"]["minimum"] == 1 and body["properties"]["count"]["maximum"] == 64


def test_errors_images_and_the_token_are_documented(gen: OnnxGenerator):
    open_doc, locked = document(gen, ApiToken()), document(gen, ApiToken("t"))
    grid = open_doc["paths"]["/generate_grid"]["post"]["responses"]
    assert list(grid["200"]["content"]) == ["image/png"] and "X-Augment-Gan-Seed" in grid["200"]["headers"]
    error = open_doc["components"]["schemas"]["Error"]
    assert error["properties"]["detail"]["type"] == "array" and error["required"] == ["error"]
    assert "401" not in grid and "securitySchemes" not in open_doc["components"]
    assert locked["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    for path, methods in locked["paths"].items():
        op = next(iter(methods.values()))
        protected = path not in ("/livez", "/readyz", "/metrics")
        assert (op["security"] == [{"bearer": []}]) is protected and ("401" in op["responses"]) is protected, path


@pytest.mark.slow
def test_schemathesis_finds_no_contract_failure_and_no_5xx(gated_model: Path, tmp_path: Path):
    pytest.importorskip("schemathesis", reason="contract fuzzing needs schemathesis (pip install -e '.[dev]')")
    result = load_benchmark("contract_fuzz").fuzz(gated_model, tmp_path, max_examples=300)
    assert result["test_cases"]["generated"] >= 1000, result["test_cases"]
    assert result["exit_code"] == 0 and result["test_cases"]["with_failures"] == 0, result["output_tail"]
    assert result["errors"] == [] and result["server_5xx"] == 0, result["server_responses_by_status"]
    assert result["server_responses_by_status"].get("401", 0) > 0  # ignored_auth ran: the token is enforced
