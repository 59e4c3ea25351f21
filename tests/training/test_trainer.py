import json
from dataclasses import replace

import pytest
import torch
from PIL import Image

from augment_gan.run import TrainConfig
from augment_gan.run.checkpoint import checkpoint_path, list_checkpoints, load_checkpoint
from augment_gan.training import Trainer, TrainingInterrupted
from augment_gan.training.sampler import CLASS_GROUP


def _weights(state: dict) -> dict[str, torch.Tensor]:
    return {f"{net}.{k}": v for net in ("G", "D", "G_ema") for k, v in state[net].items()}


def test_short_run_writes_checkpoints_grids_and_metrics(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    trainer = Trainer(tmp_path, *toy_data, tiny_net, tiny_train)
    assert trainer.fit(progress=False) == 6
    assert [s for s, _ in list_checkpoints(tmp_path)] == [0, 3, 6]
    grid = Image.open(tmp_path / "samples" / "step-0000006.png")
    # one row per class, sample_columns per row, 32 px tiles with 2 px padding
    assert grid.size == (10 * 34 + 2, 3 * 34 + 2) and grid.mode == "L"
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    losses = [r for r in records if "loss_d" in r]
    assert [r["step"] for r in losses] == [2, 4, 6]
    assert all(r["images_per_s"] > 0 for r in losses)
    state = load_checkpoint(checkpoint_path(tmp_path, 6))
    assert state["step"] == 6 and set(state) >= {"G", "D", "G_ema", "opt_G", "opt_D", "rng"}


@pytest.mark.parametrize("loss", ["hinge", "ns", "wgan-gp", "lsgan"])
def test_every_loss_trains_and_changes_the_generator(tmp_path, toy_data, tiny_net, tiny_train, loss) -> None:
    trainer = Trainer(tmp_path, *toy_data, tiny_net, replace(tiny_train, loss=loss, steps=2, n_critic=2))
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    trainer.fit(progress=False)
    after = trainer.G.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values() if v.is_floating_point())


def test_mode_seeking_term_changes_the_generator_update(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    """Same seed and data: with the mode-seeking term G's weights move differently."""
    results = []
    for weight in (0.0, 0.5):
        trainer = Trainer(
            tmp_path / str(weight), *toy_data, tiny_net, replace(tiny_train, steps=2, mode_seeking=weight)
        )
        trainer.fit(progress=False)
        results.append(trainer.G.state_dict())
    assert any(not torch.equal(results[0][k], results[1][k]) for k in results[0])
    assert all(torch.isfinite(v).all() for v in results[1].values() if v.is_floating_point())


@pytest.mark.parametrize(
    "option",
    [
        {"lecam": 0.3},
        {"topk": 0.5},
        {"diffaugment": "translation,cutout", "ada_target": 0.6},
        {"diffaugment": "translation,cutout", "diffaugment_below": 7},
        {"fake_labels": "uniform"},
        {"gsr": 1.0},
        {"class_noise": 0.5},
        {"transition": 0.5},
        {"transition": 0.5, "topk": 0.5},
        {"diffaugment": "affine,elastic", "diffaugment_below": 7},
    ],
)
def test_lecam_and_topk_change_training_and_resume_exactly(tmp_path, toy_data, tiny_net, tiny_train, option) -> None:
    """Each option moves the weights away from the plain run's, and a run that uses it
    resumes bit-for-bit (LeCam's running means are in the checkpoint)."""
    cfg = replace(tiny_train, steps=6, checkpoint_every=3, **option)
    plain = Trainer(
        tmp_path / "plain",
        *toy_data,
        tiny_net,
        replace(
            cfg, lecam=0.0, topk=1.0, ada_target=0.0, diffaugment_below=0, diffaugment="none", fake_labels="as-real"
        ),
    )
    plain.fit(progress=False)
    full = Trainer(tmp_path / "full", *toy_data, tiny_net, cfg)
    full.fit(progress=False)
    assert any(not torch.equal(plain.G.state_dict()[k], v) for k, v in full.G.state_dict().items())
    if "lecam" in option:
        assert full.lecam_means.abs().sum() > 0
    (tmp_path / "full" / "checkpoints" / "step-0000006.pt").unlink()
    resumed = Trainer(tmp_path / "full", *toy_data, tiny_net, cfg)
    assert resumed.resume() == 3
    resumed.fit(progress=False)
    assert all(torch.equal(full.G.state_dict()[k], v) for k, v in resumed.G.state_dict().items())
    assert torch.equal(full.lecam_means, resumed.lecam_means)
    assert torch.equal(full.augment.p, resumed.augment.p)


def _draw_batches(trainer: Trainer, n: int) -> torch.Tensor:
    return torch.stack([trainer._sample_indices() for _ in range(n)])


def test_batches_come_in_groups_of_one_class_for_the_per_class_minibatch_std(tmp_path, toy_data, tiny_net) -> None:
    images, labels = toy_data  # classes of 12, 8 and 4 images
    cfg = TrainConfig(steps=1, batch_size=16, seed=3)
    batches = _draw_batches(Trainer(tmp_path, images, labels, tiny_net, cfg), 300)
    groups = labels[batches].reshape(300, 4, CLASS_GROUP)
    assert (groups == groups[:, :, :1]).all()  # every group of 4 holds one class
    # class_balance 1 (the default): classes equally often, whatever their size
    share = torch.bincount(labels[batches].flatten(), minlength=3).double() / batches.numel()
    assert share.tolist() == pytest.approx([1 / 3] * 3, abs=0.03)
    # a group's other images are drawn from the whole class, not copies of its first
    assert set(batches[labels[batches] == 2].tolist()) == set(torch.nonzero(labels == 2).flatten().tolist())


def test_class_balance_weights_classes_and_the_batch_std_samples_ungrouped(tmp_path, toy_data, tiny_net) -> None:
    images, labels = toy_data
    net = replace(tiny_net, minibatch_std="batch")
    cfg = TrainConfig(steps=1, batch_size=16, seed=3, class_balance=0.0)  # images uniformly
    batches = _draw_batches(Trainer(tmp_path, images, labels, net, cfg), 300)
    share = torch.bincount(labels[batches].flatten(), minlength=3).double() / batches.numel()
    assert share.tolist() == pytest.approx([12 / 24, 8 / 24, 4 / 24], abs=0.03)
    grouped = labels[batches].reshape(300, 4, CLASS_GROUP)
    assert not (grouped == grouped[:, :, :1]).all()


def test_same_seed_same_weights(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    a = Trainer(tmp_path / "a", *toy_data, tiny_net, tiny_train)
    b = Trainer(tmp_path / "b", *toy_data, tiny_net, tiny_train)
    a.fit(progress=False), b.fit(progress=False)
    wa, wb = _weights(a.state_dict()), _weights(b.state_dict())
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_killed_run_resumes_to_the_same_weights(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    reference = Trainer(tmp_path / "ref", *toy_data, tiny_net, tiny_train)
    reference.fit(progress=False)

    run = tmp_path / "killed"

    def die_at_step_5(t: Trainer) -> None:
        if t.step == 5:
            # the process dies while writing the step-6 checkpoint: a partial temp file
            # and (worst case) a truncated final file are all that is left of it
            (run / "checkpoints" / ".step-0000006.pt.x1.tmp").write_bytes(b"partial")
            checkpoint_path(run, 6).write_bytes(checkpoint_path(run, 3).read_bytes()[:100])
            raise SystemExit("killed")

    with pytest.raises(SystemExit):
        Trainer(run, *toy_data, tiny_net, tiny_train).fit(progress=False, on_step=die_at_step_5)

    resumed = Trainer(run, *toy_data, tiny_net, tiny_train)
    with pytest.warns(UserWarning, match="unreadable"):
        assert resumed.resume() == 3
    resumed.fit(progress=False)
    ref, got = _weights(reference.state_dict()), _weights(resumed.state_dict())
    assert all(torch.equal(ref[k], got[k]) for k in ref)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)  # lines logged after step 3 were dropped, then redone


def test_ctrl_c_checkpoints_the_finished_step(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    import os
    import signal

    def interrupt_at_4(t: Trainer) -> None:
        if t.step == 4:
            os.kill(os.getpid(), signal.SIGINT)

    trainer = Trainer(tmp_path, *toy_data, tiny_net, tiny_train)
    with pytest.raises(TrainingInterrupted) as info:
        trainer.fit(progress=False, on_step=interrupt_at_4)
    assert info.value.step == 4
    assert [s for s, _ in list_checkpoints(tmp_path)] == [0, 3, 4]


def test_a_spent_time_budget_makes_the_step_reached_the_last(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    """--minutes: training ends at the first log step after the time is up; that step is
    checkpointed and handed to on_checkpoint as the last (so it is evaluated)."""
    cfg = replace(tiny_train, steps=50, log_every=2, checkpoint_every=40, minutes=1e-9)
    trainer = Trainer(tmp_path / "run", *toy_data, tiny_net, cfg)
    seen: list[tuple[int, int]] = []
    assert trainer.fit(progress=False, on_checkpoint=lambda t: seen.append((t.step, t.cfg.steps))) == 2
    assert seen == [(0, 50), (2, 2)]
    assert [s for s, _ in trainer.files.checkpoints()] == [0, 2]
    assert {"step": 2, "event": "time budget", "minutes": 1e-9} in trainer.files.read_metrics()
