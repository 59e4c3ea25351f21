"""The library twins of the CLI's commands: each stage returns what the command prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from augment_gan.contracts.model_dir import read_card
from augment_gan.contracts.run_dir import RunDir
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.gate import GateThresholds
from augment_gan.pipeline import (
    Evaluated,
    Events,
    Promoted,
    Trained,
    TrainEval,
    evaluate,
    export,
    promote,
    resume,
    train,
)
from augment_gan.run import SettingsChanged

TINY_NET = {"g_width": 4, "d_width": 4, "latent_dim": 8}
TINY_TRAIN = {"steps": 2, "batch_size": 4, "checkpoint_every": 1, "holdout_fraction": 0.2}
LENIENT = GateThresholds(
    max_fid=1e9,
    max_kid=1e9,
    min_precision=0,
    min_coverage=0,
    min_class_consistency=0,
    min_spread=0,
    min_nearest_class=0,
    max_copy_rate=1,
    max_overall_fid=1e9,
    calibrated=False,
)


class Recorder(Events):
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def judged(self, judge_report) -> None:
        self.seen.append(("judged", judge_report["n"]))

    def started(self, start) -> None:
        self.seen.append(("started", (start.counts, start.start, start.world_size)))


def test_train_then_resume_report_where_they_ended(digits_folder, tmp_path) -> None:
    events = Recorder()
    trained = train(digits_folder, "d", models_dir=tmp_path, net=TINY_NET, train=TINY_TRAIN, events=events)
    assert isinstance(trained, Trained) and (trained.start, trained.step, trained.best) == (0, 2, None)
    assert trained.samples == RunDir(trained.run_dir).sample_grid(2) and trained.samples.is_file()
    assert events.seen == [("started", ([9, 6, 5], 0, 1))]  # 12, 8, 6 images less the held-out 3, 2, 1

    resumed = resume(trained.run_dir, steps=3)
    assert (resumed.run_dir, resumed.start, resumed.step) == (trained.run_dir, 2, 3)


def test_train_resume_names_each_setting_that_differs(digits_folder, tmp_path) -> None:
    run_dir = train(digits_folder, "d", models_dir=tmp_path, net=TINY_NET, train=TINY_TRAIN).run_dir
    with pytest.raises(SettingsChanged) as caught:
        train(
            digits_folder,
            "d",
            models_dir=tmp_path,
            net=TINY_NET,
            resume=True,
            train={**TINY_TRAIN, "steps": 5, "lr_g": 1e-3, "diffaugment": "translation"},
            channels="3",
        )
    assert caught.value.run_dir == run_dir
    assert caught.value.changes == [
        ("lr_g", 1e-3, 2e-4),
        ("diffaugment", "translation", "translation,cutout"),
        ("channels", "3", "auto"),
    ]
    assert "lr_g 0.001 (run: 0.0002)" in str(caught.value)
    assert [s for s, _ in RunDir(run_dir).checkpoints()] == [0, 1, 2]  # refused before training


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run evaluated at every step while it trained, the untrained step 0 too."""
    from tests.conftest import make_digits_folder

    folder = make_digits_folder(tmp_path_factory.mktemp("data"))
    events = Recorder()
    trained = train(
        folder,
        "d",
        models_dir=tmp_path_factory.mktemp("models"),
        net=TINY_NET,
        train=TINY_TRAIN,
        evaluation=TrainEval(every=1, config=EvalConfig(samples_per_class=12, judge_steps=5), step0=True),
        events=events,
    )
    assert trained.best is not None and trained.best["step"] in (0, 1, 2)
    assert [kind for kind, _ in events.seen] == ["judged", "started"]
    return trained.run_dir


def test_evaluate_returns_the_reports_it_wrote(evaluated_run: Path) -> None:
    result = evaluate(evaluated_run, 1, evaluation=EvalConfig(samples_per_class=10, judge_steps=5))
    assert isinstance(result, Evaluated) and [r["step"] for r in result.reports] == [1]
    assert result.reports[0] == RunDir(evaluated_run).read_eval_report(1)
    assert result.report_path == RunDir(evaluated_run).report_path and result.report_path.is_file()


def test_promote_returns_the_decision_and_writes_only_when_a_class_passes(evaluated_run: Path) -> None:
    rejected = promote(evaluated_run, 0)
    assert isinstance(rejected, Promoted) and rejected.model_dir is None and rejected.decision["passed_classes"] == []
    assert not (RunDir(evaluated_run).models_dir / "d" / "PROMOTED").exists()
    promoted = promote(evaluated_run, 2, thresholds=LENIENT)
    assert promoted.decision["passed_classes"] == ["0", "1", "2"]
    card = read_card(promoted.model_dir)
    assert card["source"]["step"] == 2
    # per-sample selection travels with the generator, sha256-listed, its acceptance in the card
    assert {"judge.onnx", "selection.npz", "selection.png"} <= set(card["files"])
    per_class = card["selection"]["per_class"]
    assert set(per_class) == {"0", "1", "2"}
    for entry in per_class.values():
        assert 0.0 <= entry["acceptance"] <= 1.0 and entry["n_candidates"] == card["selection"]["n_candidates"]
        rejected = max(entry["rejected_class"], entry["rejected_copy"], entry["rejected_support"])
        assert 1.0 - entry["acceptance"] >= rejected - 1e-9  # each reason's share is part of the rejected share
    from augment_gan.runtime.generator import OnnxGenerator

    gen = OnnxGenerator.load(promoted.model_dir)
    assert gen.selecting and gen.generate("1", 5, seed=0).shape == (5, 32, 32, 1)


def test_export_writes_an_ungated_model_dir(evaluated_run: Path, tmp_path: Path) -> None:
    result = export(evaluated_run, tmp_path / "out")
    assert (result.step, result.model_dir) == (2, tmp_path / "out")
    card = read_card(result.model_dir)
    assert card["gate"] == {"ran": False} and card["version"] == "export-2"


def test_promote_best_takes_each_class_from_its_own_best_step(evaluated_run: Path, tmp_path: Path) -> None:
    """Class 2 is at its best (lowest KID, passing) at step 1, the others at step 2: the model
    routes class 2 to step 1's generator, bit for bit, and says so in its card."""
    import shutil

    import numpy as np
    import torch

    from augment_gan.evaluation.checkpoints import best_steps, update_best
    from augment_gan.run import Run
    from augment_gan.run.samples import to_uint8
    from augment_gan.runtime.generator import OnnxGenerator

    models = tmp_path / "models"
    shutil.copytree(evaluated_run.parents[2], models)
    run_dir = models / evaluated_run.relative_to(evaluated_run.parents[2])
    files = RunDir(run_dir)
    for step in (0, 1, 2):
        report = files.read_eval_report(step)
        for name, record in report["classes"].items():
            record["kid"] = 1.0 if step == 0 else 0.1 if (name == "2") == (step == 1) else 0.5
        files.write_eval_report(step, report)
    update_best(run_dir, LENIENT)
    steps = {"0": 2, "1": 2, "2": 1}
    assert best_steps(run_dir) == steps and files.read_best()["step"] == 2

    promoted = promote(run_dir, "best", thresholds=LENIENT, utility=False)
    assert promoted.step == 2 and promoted.report["steps"] == steps
    card = read_card(promoted.model_dir)
    assert card["source"]["step"] == 2 and card["source"]["steps"] == steps
    assert {name: d["step"] for name, d in card["gate"]["per_class"].items()} == steps
    # each class's metrics from its own step (step 2 alone would give class 2 a KID of 0.5)
    assert {name: r["kid"] for name, r in card["metrics"]["per_class"].items()} == {"0": 0.1, "1": 0.1, "2": 0.1}

    gen, run = OnnxGenerator.load(promoted.model_dir, select=False), Run.open(run_dir, progress=False)
    z = gen.latents(4, seed=0)
    for index, name in enumerate(run.spec.data.classes):
        generator, _, _ = run.ema_generator(steps[name])
        labels = np.full(4, index, dtype=np.int64)
        with torch.no_grad():
            expected = to_uint8(generator(torch.from_numpy(z), torch.from_numpy(labels))).numpy()
        got = gen.generate_from_latents(z, labels).transpose(0, 3, 1, 2)
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1

    # the card's sample grid: class 2's row from step 1's grid, the others' from step 2's
    from PIL import Image

    sheet = np.asarray(Image.open(promoted.model_dir / "samples.png"))
    one, two = (np.asarray(Image.open(files.sample_grid(s))) for s in (1, 2))
    band = (sheet.shape[0] - 2) // 3
    assert np.array_equal(sheet[: 2 * band], two[: 2 * band]) and np.array_equal(sheet[2 * band :], one[2 * band :])


def test_resume_takes_a_new_time_budget(digits_folder, tmp_path) -> None:
    run_dir = train(digits_folder, "d", models_dir=tmp_path, net=TINY_NET, train={**TINY_TRAIN, "log_every": 1}).run_dir
    resumed = resume(run_dir, steps=10, minutes=1e-9)  # spent at once: the first step it takes is the last
    assert (resumed.start, resumed.step) == (2, 3)
    from augment_gan.run import RunSpec

    assert RunSpec.read(run_dir).train.minutes == 1e-9 and RunSpec.read(run_dir).train.steps == 10
