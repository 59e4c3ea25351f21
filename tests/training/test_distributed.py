"""Distributed training: sharding helpers, and real 2-process gloo runs through torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from augment_gan.errors import ConfigError
from augment_gan.run.checkpoint import list_checkpoints, load_checkpoint
from augment_gan.training import Trainer
from augment_gan.training.diffaugment import FULL_POLICY, diff_augment, parse_policy
from augment_gan.training.distributed import Dist, strip_launcher_options, torchrun_command
from augment_gan.training.losses import gradient_penalty

WORKER = Path(__file__).with_name("ddp_worker.py")


def _env() -> dict:
    # OMP_NUM_THREADS silences torchrun's banner; the workers are tiny anyway.
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def test_shards_are_disjoint_contiguous_and_cover_the_batch() -> None:
    batch = torch.arange(12)
    shards = [Dist(rank=r, world_size=3).shard(batch) for r in range(3)]
    assert [s.tolist() for s in shards] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert Dist().shard(batch) is batch


@pytest.mark.parametrize("world", [2, 4])
def test_diffaugment_of_a_shard_is_that_shard_of_the_global_batch(world: int) -> None:
    """Ranks augment their rows exactly as one process would augment the whole batch."""
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    whole = diff_augment(x, parse_policy(FULL_POLICY), torch.Generator().manual_seed(5))
    n = len(x) // world
    for rank in range(world):
        part = diff_augment(
            x[rank * n : (rank + 1) * n],
            parse_policy(FULL_POLICY),
            torch.Generator().manual_seed(5),
            shard=(rank, world),
        )
        torch.testing.assert_close(part, whole[rank * n : (rank + 1) * n], rtol=0, atol=0)


def test_gradient_penalty_draws_the_global_interpolation_weights() -> None:
    def critic(x, y):
        return x.flatten(1).pow(2).sum(1)

    real, fake, y = torch.rand(4, 1, 4, 4), torch.rand(4, 1, 4, 4), torch.zeros(4, dtype=torch.long)
    whole = [
        gradient_penalty(
            critic, real[i : i + 1], fake[i : i + 1], y[:1], torch.Generator().manual_seed(1), shard=(i, 4)
        )
        for i in range(4)
    ]
    one = gradient_penalty(critic, real, fake, y, torch.Generator().manual_seed(1))
    assert torch.stack(whole).mean().item() == pytest.approx(one.item(), rel=1e-6)


def test_batch_must_split_evenly_over_processes(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    images, labels = toy_data
    with pytest.raises(ConfigError, match="multiple of the number of processes"):
        Trainer(tmp_path, images, labels, tiny_net, tiny_train, torch.device("cpu"), dist=Dist(rank=0, world_size=3))


def test_bf16_and_channels_last_are_refused_on_cpu(tmp_path, toy_data, tiny_net, tiny_train) -> None:
    images, labels = toy_data
    cpu = torch.device("cpu")
    with pytest.raises(ConfigError, match="bf16"):
        Trainer(tmp_path, images, labels, tiny_net, tiny_train, cpu, precision="bf16")
    with pytest.raises(ConfigError, match="channels_last"):
        Trainer(tmp_path, images, labels, tiny_net, tiny_train, cpu, channels_last=True)
    assert Trainer(tmp_path, images, labels, tiny_net, tiny_train, cpu, precision="auto").precision == "fp32"


@pytest.mark.parametrize(
    ("body", "rc", "stderr"),
    [
        ("print('done')", 0, ""),
        ("print('done'); sys.exit(3)", 3, ""),
        ("print('done'); sys.exit('no data')", 1, "no data"),
        ("print('done'); raise ValueError('bad')", 1, "ValueError: bad"),
    ],
)
def test_a_worker_leaves_with_its_exit_code_and_its_output_flushed(body: str, rc: int, stderr: str) -> None:
    script = (
        "import sys\n"
        "from augment_gan.training.distributed import exit_worker\n"
        f"def main():\n    {body}\n"
        "exit_worker(main)\n"
        "print('not reached')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (rc, "done\n")
    assert stderr in proc.stderr


def test_launcher_options_are_stripped_and_torchrun_command_built() -> None:
    args = ["data", "--name", "x", "--nproc-per-node", "2", "--nnodes=1", "--rdzv-endpoint", "h:1", "--steps", "3"]
    assert strip_launcher_options(args) == ["data", "--name", "x", "--steps", "3"]
    one_node = torchrun_command(["d"], 2)
    assert one_node[1:] == [
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=2",
        "--standalone",
        "-m",
        "augment_gan.cli",
        "train",
        "d",
    ]
    two_nodes = torchrun_command(["d"], 8, nnodes="2", rdzv_endpoint="node0:29400")
    assert "--nnodes=2" in two_nodes and "--rdzv-endpoint=node0:29400" in two_nodes and "--standalone" not in two_nodes
    with pytest.raises(ConfigError, match="rdzv-endpoint"):
        torchrun_command(["d"], 8, nnodes="2")


@pytest.mark.slow  # two processes
@pytest.mark.parametrize("loss", ["hinge", "wgan-gp"])
def test_two_gloo_processes_stay_identical_and_rank0_alone_writes(tmp_path: Path, loss: str) -> None:
    run_dir, out = tmp_path / "run", tmp_path / "out.json"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node=2",
        str(WORKER),
        str(run_dir),
        str(out),
        loss,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert (result["world_size"], result["backend"]) == (2, "gloo")
    assert len(result["diffs"]) == 4  # one comparison after every step
    for step_diffs in result["diffs"]:
        # weights, spectral-norm vectors and the EMA copy: bit-identical on both ranks
        assert step_diffs["G"] == step_diffs["D"] == step_diffs["D_buffers"] == step_diffs["G_ema"] == 0.0
    # ranks trained on different real images: their local BatchNorm statistics differ
    assert any(d["G_buffers"] > 0 for d in result["diffs"])
    assert result["distinct_batches"]

    # one checkpoint set, one log: no duplicates, no temp files left by a second writer
    assert [s for s, _ in list_checkpoints(run_dir)] == [0, 2, 4]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [f"step-000000{s}.pt" for s in (0, 2, 4)]
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss_d" in r] == [1, 2, 3, 4]
    assert [r["step"] for r in records if r.get("event") == "checkpoint"] == [0, 2, 4]
    start = next(r for r in records if r.get("event") == "start")
    assert (start["world_size"], start["batch_size"], start["batch_per_process"]) == (2, 8, 4)


@pytest.mark.slow  # torchrun and two processes
def test_cli_trains_with_two_processes_and_resumes_with_one(tmp_path: Path, digits_folder: Path) -> None:
    models = tmp_path / "models"
    common = [
        sys.executable,
        "-m",
        "augment_gan.cli",
        "train",
        str(digits_folder),
        "--name",
        "d",
        "--models-dir",
        str(models),
        "--batch-size",
        "8",
        "--g-width",
        "4",
        "--d-width",
        "4",
        "--latent-dim",
        "8",
        "--checkpoint-every",
        "2",
    ]
    two = subprocess.run(
        common + ["--steps", "4", "--nproc-per-node", "2"],
        capture_output=True,
        text=True,
        timeout=240,
        env=_env(),
        cwd=tmp_path,
    )
    assert two.returncode == 0, two.stdout + two.stderr
    assert "2 processes (gloo); batch 8 per step = 2 x 4 per process" in " ".join(two.stdout.split())
    runs = list((models / "d" / "runs").iterdir())
    assert len(runs) == 1  # rank 1 did not start a run of its own
    run_dir = runs[0]
    at_4 = load_checkpoint(run_dir / "checkpoints" / "step-0000004.pt")

    one = subprocess.run(
        common + ["--steps", "6", "--resume"], capture_output=True, text=True, timeout=240, env=_env(), cwd=tmp_path
    )
    assert one.returncode == 0, one.stdout + one.stderr
    assert "resuming at step 4" in one.stdout
    assert [s for s, _ in list_checkpoints(run_dir)] == [0, 2, 4, 6]
    at_6 = load_checkpoint(run_dir / "checkpoints" / "step-0000006.pt")
    assert at_6["step"] == 6
    assert any(not torch.equal(at_4["G"][k], at_6["G"][k]) for k in at_4["G"])  # it trained on
    starts = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if '"start"' in line]
    assert [(r["step"], r["world_size"]) for r in starts] == [(0, 2), (4, 1)]
