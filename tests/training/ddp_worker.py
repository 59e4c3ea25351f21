"""Run by torchrun from test_distributed.py: trains a tiny GAN under DDP and, after every
step, gathers every rank's weights to rank 0, which records the largest difference.

    python -m torch.distributed.run --standalone --nproc-per-node 2 ddp_worker.py RUN_DIR OUT.json LOSS
"""

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from augment_gan.nets import NetConfig
from augment_gan.run import TrainConfig
from augment_gan.training import Trainer
from augment_gan.training.distributed import exit_worker, init_distributed, shutdown_distributed


def state_vector(trainer: Trainer) -> dict[str, torch.Tensor]:
    """G and D weights, D's spectral-norm vectors, G's BatchNorm stats, the EMA copy."""
    parts = {
        "G": [p for p in trainer.G.parameters()],
        "D": [p for p in trainer.D.parameters()],
        "D_buffers": [b for b in trainer.D.buffers()],
        "G_buffers": [b for name, b in trainer.G.named_buffers() if "running" in name],
        "G_ema": [p for p in trainer.ema.shadow.parameters()],
    }
    return {k: torch.cat([t.detach().double().flatten() for t in v]) for k, v in parts.items()}


def main() -> None:
    run_dir, out, loss = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    d, device = init_distributed(torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (24, 1, 32, 32), dtype=torch.uint8, generator=gen)
    labels = torch.arange(24) % 3
    net = NetConfig(num_classes=3, resolution=32, channels=1, latent_dim=8, g_width=4, d_width=4)
    cfg = TrainConfig(
        steps=4,
        batch_size=8,
        checkpoint_every=2,
        log_every=1,
        seed=3,
        loss=loss,
        n_critic=2 if loss != "wgan-gp" else 1,
    )
    trainer = Trainer(run_dir, images, labels, net, cfg, device, dist=d)
    trainer.resume()
    diffs: list[dict[str, float]] = []
    drawn: list[torch.Tensor] = []  # this rank's real-batch indices
    sample_indices = trainer._sample_indices
    trainer._sample_indices = lambda: drawn.append(sample_indices()) or drawn[-1]

    def compare(t: Trainer) -> None:
        mine = state_vector(t)
        step_diffs = {}
        for key, vec in mine.items():
            gathered = [torch.empty_like(vec) for _ in range(d.world_size)]
            dist.all_gather(gathered, vec)
            step_diffs[key] = max((g - gathered[0]).abs().max().item() for g in gathered)
        diffs.append(step_diffs)

    trainer.fit(progress=False, on_step=compare)
    mine = torch.cat(drawn)
    batches = [torch.empty_like(mine) for _ in range(d.world_size)]
    dist.all_gather(batches, mine)
    if d.is_main:
        distinct = all(not torch.equal(b, batches[0]) for b in batches[1:])
        out.write_text(
            json.dumps({"world_size": d.world_size, "backend": d.backend, "diffs": diffs, "distinct_batches": distinct})
        )
    shutdown_distributed()


if __name__ == "__main__":
    exit_worker(main)
