"""``augment-gan run``: the whole job on the user's folder (``augment-gan demo`` runs it on the digits)."""

import hashlib
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import LENIENT_TOML, error_lines, flat, invoke
from tests.conftest import make_photo_folder

TINY_RUN = [
    "--steps",
    "2",
    "--batch-size",
    "4",
    "--checkpoint-every",
    "1",
    "--g-width",
    "4",
    "--d-width",
    "4",
    "--eval-samples",
    "12",
    "--judge-steps",
    "5",
]


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def lenient(tmp_path: Path) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(LENIENT_TOML)
    return path


def test_run_with_out_promotes_and_balances_into_out(digits_folder, tmp_path, lenient) -> None:
    before, models, out = _tree(digits_folder), tmp_path / "models", tmp_path / "synthetic"
    result = invoke(
        "run",
        digits_folder,
        "--name",
        "d",
        "--models-dir",
        models,
        *TINY_RUN,
        "--gate-file",
        lenient,
        "--out",
        out,
        "--max-share",
        "0.5",
    )
    assert result.exit_code == 0, result.output
    assert (models / "d" / "PROMOTED").read_text().strip() == "v1"
    written = {name: len(list((out / name).glob("synthetic-*"))) for name in ("0", "1", "2")}
    assert written == {"0": 0, "1": 4, "2": 6}  # up to 12 real images, capped at half synthetic
    assert _tree(digits_folder) == before
    assert f"undo with `augment-gan clean {out}`" in flat(result.output)


def test_run_without_out_prints_the_augment_command_and_logs_live(digits_folder, tmp_path, lenient) -> None:
    from tests.training.test_live_log import read_events, steps_of

    before = _tree(digits_folder)
    result = invoke(
        "run",
        digits_folder,
        "--name",
        "d",
        "--models-dir",
        tmp_path / "models",
        *TINY_RUN,
        "--gate-file",
        lenient,
        "--log",
        "tensorboard",
    )
    assert result.exit_code == 0, result.output
    model_dir = tmp_path / "models" / "d" / "v1"
    command = f"`augment-gan augment {digits_folder} --model {model_dir} --max-share 0.25 --out DIR`"
    assert command in flat(result.output)
    assert _tree(digits_folder) == before
    events = read_events(next((tmp_path / "models" / "d" / "runs").iterdir()))
    assert steps_of(events, "eval_fid/all classes") == [1, 2]  # run evaluates every checkpoint
    assert [e.step for e in events.Images("samples")] == [0, 1, 2]


def test_run_without_the_tensorboard_extra_is_refused_before_any_work(digits_folder, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` now raises ImportError
    result = invoke(
        "run", digits_folder, "--name", "d", "--models-dir", tmp_path / "models", *TINY_RUN, "--log", "tensorboard"
    )
    assert result.exit_code != 0
    assert error_lines(result) == [
        "error: --log tensorboard needs the tensorboard package: pip install 'augment-gan[tensorboard]'."
    ]
    assert not (tmp_path / "models").exists()


def test_run_that_promotes_nothing_exits_1(digits_folder, tmp_path) -> None:
    result = invoke("run", digits_folder, "--name", "d", "--models-dir", tmp_path / "models", *TINY_RUN)
    assert result.exit_code == 1, result.output  # two steps never pass the default gate
    assert error_lines(result)[-1].startswith("not promoted: no class passed the gate at any evaluated step")
    assert not (tmp_path / "models" / "d" / "PROMOTED").exists()


@pytest.mark.slow
def test_run_at_128_px_on_rgb_photos_trains_evaluates_promotes_exports_and_augments(tmp_path, lenient) -> None:
    """The whole job at 128 px on real photographs (crops of two photos), with tiny nets."""
    import numpy as np
    from PIL import Image

    from augment_gan.runtime import OnnxGenerator

    photos = make_photo_folder(tmp_path, {"china": 12, "flower": 6})
    before, models, out = _tree(photos), tmp_path / "models", tmp_path / "synthetic"
    result = invoke(
        "run",
        photos,
        "--name",
        "p",
        "--models-dir",
        models,
        *TINY_RUN,
        "--resolution",
        "128",
        "--gate-file",
        lenient,
        "--out",
        out,
        "--max-share",
        "0.5",
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = (models / "p" / "runs").iterdir()
    with Image.open(sorted((run_dir / "samples").glob("*.png"))[-1]) as grid:  # 2 rows of 128 px tiles
        assert grid.mode == "RGB" and grid.size[1] == 2 * 130 + 2
    model_dir = models / "p" / "v1"
    assert (models / "p" / "PROMOTED").read_text().strip() == "v1"
    gen = OnnxGenerator.load(model_dir)
    assert (gen.resolution, gen.channels) == (128, 3)
    images = gen.generate("flower", 3, seed=1)
    assert images.shape == (3, 128, 128, 3) and images.dtype == np.uint8 and images.std() > 0
    written = sorted((out / "flower").glob("synthetic-*"))
    assert len(written) == 6 and not list((out / "china").glob("synthetic-*"))  # 6 real + 6: half synthetic
    with Image.open(written[0]) as img:  # generated at 128 px, written at the folder's own size
        assert (img.size, img.mode) == ((200, 200), "RGB")
    assert _tree(photos) == before


@pytest.mark.parametrize(("typed", "minutes"), [((), 9.0), (("--minutes", "0"), 0.0), (("--minutes", "2.5"), 2.5)])
def test_run_has_its_own_time_budget_unless_one_is_typed(digits_folder, tmp_path, monkeypatch, typed, minutes) -> None:
    """`run` is the whole job: it stops training after RUN_MINUTES unless --minutes says otherwise
    (`train` keeps TrainConfig's 0, no limit)."""
    from augment_gan import pipeline
    from augment_gan.pipeline.options import RUN_MINUTES

    seen = {}
    monkeypatch.setattr(pipeline, "run", lambda data_dir, name, **kw: seen.update(kw))  # returns None: another rank
    result = invoke("run", digits_folder, "--name", "d", "--models-dir", tmp_path / "models", *typed)
    assert result.exit_code == 0, result.output
    assert RUN_MINUTES == 9.0 and seen["train"].minutes == minutes
    assert seen["train"].steps == 2000  # the step count is train's


def test_the_library_run_has_the_same_time_budget() -> None:
    import inspect

    from augment_gan import pipeline
    from augment_gan.pipeline.options import RUN_MINUTES

    assert inspect.signature(pipeline.run).parameters["train"].default.minutes == RUN_MINUTES
