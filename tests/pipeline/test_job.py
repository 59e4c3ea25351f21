"""``pipeline.run``: the whole job in one call (its CLI twin is ``augment-gan run``)."""

from __future__ import annotations

from pathlib import Path

from augment_gan.contracts.run_dir import RunDir
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import generate_per_class
from augment_gan.pipeline import TrainEval, run
from augment_gan.run import TrainConfig, load_ema_generator


def test_run_loads_the_folder_at_the_nets_resolution(digits_folder: Path, tmp_path: Path) -> None:
    """--resolution 64 trains on 64 px images, not on the 32 px decode with nets built for 64."""
    result = run(
        digits_folder,
        "d64",
        models_dir=tmp_path / "models",
        net={"g_width": 4, "d_width": 4, "latent_dim": 8, "resolution": 64},
        train=TrainConfig(steps=1, batch_size=4, checkpoint_every=1, holdout_fraction=0.2),
        evaluation=TrainEval(config=EvalConfig(samples_per_class=8, judge_steps=2)),
    )
    assert result.data.resolution == 64 and tuple(result.data.images.shape[-2:]) == (64, 64)
    config = RunDir(result.run_dir).read_config()
    assert config["data"]["resolution"] == config["net"]["resolution"] == 64
    generator, g_cfg, _ = load_ema_generator(RunDir(result.run_dir).checkpoints()[-1][1])
    assert tuple(generate_per_class(generator, g_cfg, 1, 0).shape[-2:]) == (64, 64)
