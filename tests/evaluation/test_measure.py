"""measure(): a generator against real images per class, without a run dir; a torch
generator and its ONNX export give the same numbers on the same latents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from augment_gan.evaluation import measure
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.domain import DomainJudge
from augment_gan.evaluation.evaluate import class_metrics
from augment_gan.runtime import OnnxGenerator
from tests.export.helpers import CLASSES, digits_32, export_tiny, tiny_config, write_tiny_model

CFG = EvalConfig(samples_per_class=24, kid_subsets=5, kid_subset_size=24)


def _reals(offset: int = 0) -> dict[str, np.ndarray]:
    """Real digits per class as uint8 (N, 1, 32, 32): 20 per class (the first 20 from ``offset``)."""
    return {name: digits_32(c)[offset : offset + 20].transpose(0, 3, 1, 2).copy() for c, name in enumerate(CLASSES)}


def _pixels(images: torch.Tensor) -> np.ndarray:
    """A feature callable: 4x4 average-pooled pixels (64-d)."""
    return torch.nn.functional.avg_pool2d(images.float(), 4).flatten(1).numpy()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    cfg = tiny_config()
    generator, onnx_bytes, parity = export_tiny(cfg, CLASSES)
    assert parity == 0  # the export's pixels are the module's, so every number must be the same
    return generator, write_tiny_model(tmp_path_factory.mktemp("models"), onnx_bytes, cfg, CLASSES)


@pytest.fixture(scope="module")
def judge() -> DomainJudge:
    torch.manual_seed(0)
    return DomainJudge(len(CLASSES), channels=1, width=8).eval()


def test_records_have_an_evaluation_reports_class_shape(exported, judge: DomainJudge) -> None:
    generator, _ = exported
    classes = measure(generator, _reals(), extractor=judge, train_sets=_reals(20), cfg=CFG)
    assert list(classes) == CLASSES
    metrics = list(class_metrics(reference=np.zeros((3, 2)), train=np.zeros((3, 2)), holdout=np.zeros((0, 2)),
                                 fake=np.zeros((3, 2)), cfg=CFG))  # fmt: skip
    expected = [*metrics, "reference", "band", "class_consistency", "judge_confidence"]
    assert all(list(record) == expected for record in classes.values())
    record = classes["dog"]
    assert (record["n_reference"], record["n_fake"], record["n_train"], record["reference"]) == (20, 24, 20, "given")
    assert 0 <= record["class_consistency"] <= 1 and record["copy_rate"] is not None


def test_a_torch_generator_and_its_onnx_export_measure_the_same(exported, judge: DomainJudge) -> None:
    generator, model_dir = exported
    from_torch = measure(generator, _reals(), extractor=judge, train_sets=_reals(20), cfg=CFG)
    from_onnx = measure(
        OnnxGenerator.load(model_dir, select=False), _reals(), extractor=judge, train_sets=_reals(20), cfg=CFG
    )
    # the export's pixel parity is within one grey level, not bit-exact, so a rounding
    # difference may move a pixel: the records agree to 1e-4, counts and labels exactly
    assert from_torch.keys() == from_onnx.keys()
    for c in from_torch:
        numbers = {k for k, v in from_torch[c].items() if isinstance(v, float)}
        assert {k: v for k, v in from_torch[c].items() if k not in numbers} == {
            k: v for k, v in from_onnx[c].items() if k not in numbers
        }
        assert {k: from_torch[c][k] for k in numbers} == pytest.approx({k: from_onnx[c][k] for k in numbers}, rel=1e-4)


def test_a_feature_callable_measures_without_class_consistency(exported) -> None:
    generator, _ = exported
    record = measure(generator, _reals(), extractor=_pixels, cfg=CFG)["cat"]
    assert record["class_consistency"] is None and "judge_confidence" not in record
    assert record["copy_rate"] is None and record["n_train"] == 0  # no training images given
    assert record["kid"] is not None and record["precision"] is not None


def test_bad_images_are_one_clear_error(exported) -> None:
    generator, _ = exported
    with pytest.raises(ValueError, match="class cat: images must be uint8"):
        measure(generator, {"cat": np.zeros((4, 1, 32, 32), np.float32)}, extractor=_pixels, cfg=CFG)
