"""The request bodies: strict types and limits, and labels checked against the worker's model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from augment_gan.runtime.generator import OnnxGenerator, UnknownClassError
from tests.export.helpers import CLASSES, gate

pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")

from augment_gan.service import schemas  # noqa: E402
from augment_gan.service.schemas import (
    MAX_COUNT,
    MAX_SEED,
    BatchRequest,
    GenerateRequest,
    GridRequest,
    check_label,
    draw_seed,
)  # noqa: E402
from augment_gan.service.state import ModelState  # noqa: E402

CARD = {"classes": CLASSES, "resolution": 32, "channels": 1, "latent_dim": 8}


def generator(gate_block: dict) -> OnnxGenerator:
    """A generator over a card only: class and gate lookups need no onnx session."""
    return OnnxGenerator(Path("m/v1"), {**CARD, "gate": gate_block})


@pytest.fixture
def worker_model(monkeypatch: pytest.MonkeyPatch) -> OnnxGenerator:
    gen = generator(gate(CLASSES, failed={"eel": ["fid 80 > 40"]}))
    monkeypatch.setattr(schemas, "current_state", lambda: ModelState(generator=gen))
    return gen


def test_check_label_by_name_or_index_and_the_gate():
    gen = generator(gate(CLASSES, failed={"eel": ["fid 80 > 40"]}))
    assert check_label(gen, "dog") == 1 and check_label(gen, 0) == 0
    with pytest.raises(UnknownClassError, match="unknown class 'wolf'"):
        check_label(gen, "wolf")
    with pytest.raises(ValueError, match=r"'eel' failed the quality gate \(fid 80 > 40\).*\['cat', 'dog'\]"):
        check_label(gen, 2)
    assert check_label(generator({"ran": False}), "eel") == 2  # ungated (allowed): every class


def test_valid_requests(worker_model):
    assert GenerateRequest(label="cat", count=MAX_COUNT).format == "png"
    assert GridRequest(label=1, count=4, seed=MAX_SEED, nrow=2).nrow == 2
    assert [i.label for i in BatchRequest(items=[{"label": "cat"}, {"label": 1, "seed": 0}]).items] == ["cat", 1]
    whole = GridRequest(label=1.0, count=4.0, seed=7.0, nrow=2.0)  # JSON Schema's integers: 4.0 is 4
    assert (whole.label, whole.count, whole.seed, whole.nrow) == (1, 4, 7, 2) and isinstance(whole.count, int)


@pytest.mark.parametrize(
    ("model", "data", "where"),
    [
        (GenerateRequest, {"label": "cat", "count": MAX_COUNT + 1}, ("count",)),
        (GenerateRequest, {"label": "cat", "count": "2"}, ("count",)),
        (GenerateRequest, {"label": True, "count": 2}, ("label",)),
        (GenerateRequest, {"label": 1.5, "count": 2}, ("label",)),
        (GenerateRequest, {"label": "cat", "count": 2.5}, ("count",)),
        (GenerateRequest, {"label": "cat", "count": True}, ("count",)),
        (GenerateRequest, {"label": "cat", "count": 2, "seed": MAX_SEED + 1}, ("seed",)),
        (GenerateRequest, {"label": "cat", "count": 2, "format": "jpeg"}, ("format",)),
        (GenerateRequest, {"label": "cat", "count": 2, "cnt": 1}, ("cnt",)),
        (GenerateRequest, {"label": "eel", "count": 2}, ("label",)),
        (GridRequest, {"label": "cat", "count": 2, "nrow": 0}, ("nrow",)),
        (BatchRequest, {"items": []}, ("items",)),
        (BatchRequest, {"items": [{"label": "cat"}, {"label": "wolf"}]}, ("items", 1, "label")),
    ],
)
def test_invalid_requests_name_the_field(worker_model, model, data, where):
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert [e["loc"][: len(where)] for e in info.value.errors()] == [where]


def test_labels_cannot_be_checked_without_a_model():  # outside a worker: no service instance
    with pytest.raises(ValidationError, match="not loaded yet"):
        GenerateRequest(label="cat", count=1)


def test_draw_seed():
    assert draw_seed(5) == 5 and draw_seed(0) == 0
    drawn = {draw_seed(None) for _ in range(4)}
    assert len(drawn) == 4 and all(0 <= s <= MAX_SEED for s in drawn)
