"""An image-conditioned generator trained on the big classes' pairs (DAGAN, Antoniou et al. 2017),
as a candidate of the complementarity benchmark: the third long-tail family, "learn
within-class variation on big classes, apply it to a small class's real images".

G(x, z) takes a real image x and noise z and makes another image of x's class: a small U-Net
(28 -> 14 -> 7 and back, skip connections), z projected and concatenated at the 7 x 7 and
14 x 14 decoder levels. D judges a *pair*: (x_i, x_j), two different images of one class, is
real; (x_i, G(x_i, z)) is fake. So G cannot win by returning x (D sees that x_j is never x_i)
nor by drawing another class (x_j is always x_i's class), and what it learns is how an image
of a class varies. It trains on the big classes only (their pairs), never on a small class's
images; at sampling time the small class's few images are its x. Hinge loss, spectral norm in
D, Adam (2e-4, betas (0, 0.9)), an EMA of G's weights for sampling, as the library's GAN.

With 8 source digits, G maps a digit it never saw onto one it knows (a 5 becomes a 3 or a
9 in the grids); ``rotations`` multiplies the source classes by four, as DAGAN did for
Omniglot.

Benchmark-only: a product version would be a second generator kind whose ONNX model takes an
image, and whose model dir carries the class's source images.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

SIDE = 28


@dataclass(frozen=True)
class DaganConfig:
    steps: int = 2000
    checkpoint_every: int = 250
    seed: int = 0
    batch_size: int = 64
    z_dim: int = 32
    width: int = 16  # 32: 0.32 s a step on 2 CPU cores, and no better at 1,000 steps
    lr: float = 2e-4
    ema: float = 0.99
    # each big class rotated by 90, 180 and 270 degrees counts as a class of its own (DAGAN's
    # Omniglot recipe: more source classes, so that G learns variation, not the classes)
    rotations: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "dagan", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DaganConfig:
        return cls(**{k: v for k, v in d.items() if k != "kind"})


def _nets(cfg: DaganConfig):
    import torch
    from torch import nn
    from torch.nn.utils import spectral_norm as sn

    w = cfg.width

    def block(cin: int, cout: int, stride: int = 1) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))

    class Generator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.e1, self.e2, self.e3 = block(1, w), block(w, 2 * w, 2), block(2 * w, 4 * w, 2)  # 28, 14, 7
            self.z7, self.z14 = nn.Linear(cfg.z_dim, 8 * 7 * 7), nn.Linear(cfg.z_dim, 4 * 14 * 14)
            self.d7 = block(4 * w + 8, 4 * w)
            self.d14 = block(4 * w + 2 * w + 4, 2 * w)
            self.d28 = block(2 * w + w, w)
            self.out = nn.Conv2d(w, 1, 3, 1, 1)

        def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
            h1 = self.e1(x)
            h2 = self.e2(h1)
            h3 = self.e3(h2)
            h = self.d7(torch.cat([h3, self.z7(z).view(-1, 8, 7, 7)], 1))
            h = nn.functional.interpolate(h, scale_factor=2)
            h = self.d14(torch.cat([h, h2, self.z14(z).view(-1, 4, 14, 14)], 1))
            h = nn.functional.interpolate(h, scale_factor=2)
            return torch.tanh(self.out(self.d28(torch.cat([h, h1], 1))))

    class Discriminator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                sn(nn.Conv2d(2, w, 3, 1, 1)), nn.LeakyReLU(0.2),
                sn(nn.Conv2d(w, 2 * w, 4, 2, 1)), nn.LeakyReLU(0.2),  # 14
                sn(nn.Conv2d(2 * w, 4 * w, 4, 2, 1)), nn.LeakyReLU(0.2),  # 7
                sn(nn.Conv2d(4 * w, 4 * w, 3, 1, 1)), nn.LeakyReLU(0.2),
            )  # fmt: skip
            self.head = sn(nn.Linear(4 * w, 1))

        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return self.head(self.body(torch.cat([a, b], 1)).sum((2, 3))).squeeze(1)

    return Generator(), Discriminator()


def _to_tensor(images: np.ndarray):
    import torch

    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)[:, None]


def train(images: np.ndarray, labels: np.ndarray, cfg: DaganConfig, out: Path) -> Path:
    """Train on same-class pairs of ``images`` (uint8 (n, 28, 28); every class at least 2
    images) and write ``out/step-S.pt`` (the EMA generator) every ``checkpoint_every`` steps
    and ``out/config.json``; returns ``out``. A finished ``out`` is left as it is."""
    import torch

    last = out / f"step-{cfg.steps}.pt"
    if last.is_file():
        return out
    torch.manual_seed(cfg.seed)
    g_net, d_net = _nets(cfg)
    g_ema = copy.deepcopy(g_net).eval()
    opt_g = torch.optim.Adam(g_net.parameters(), cfg.lr, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(d_net.parameters(), cfg.lr, betas=(0.0, 0.9))
    if cfg.rotations:
        images = np.concatenate([np.rot90(images, r, axes=(1, 2)) for r in range(4)])
        labels = np.concatenate([labels * 4 + r for r in range(4)])
    x_all = _to_tensor(images)
    by_class = [torch.from_numpy(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    if min(len(idx) for idx in by_class) < 2:
        raise ValueError("every class needs at least 2 images to make a pair")
    gen = torch.Generator().manual_seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))

    def pairs() -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of same-class pairs (x_i, x_j), x_j != x_i, each class equally often."""
        picks = []
        for c in torch.randint(len(by_class), (cfg.batch_size,), generator=gen).tolist():
            idx = by_class[c]
            picks.append(idx[torch.randperm(len(idx), generator=gen)[:2]])
        p = torch.stack(picks)
        return x_all[p[:, 0]], x_all[p[:, 1]]

    for step in range(1, cfg.steps + 1):
        xi, xj = pairs()
        z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen)
        with torch.no_grad():
            fake = g_net(xi, z)
        loss_d = torch.relu(1 - d_net(xi, xj)).mean() + torch.relu(1 + d_net(xi, fake)).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        xi, _ = pairs()
        z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen)
        loss_g = -d_net(xi, g_net(xi, z)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        with torch.no_grad():
            for pe, p in zip(g_ema.parameters(), g_net.parameters()):
                pe.lerp_(p, 1 - cfg.ema)
            for be, b in zip(g_ema.buffers(), g_net.buffers()):
                be.copy_(b)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            torch.save(g_ema.state_dict(), out / f"step-{step}.pt.tmp")
            (out / f"step-{step}.pt.tmp").replace(out / f"step-{step}.pt")
    return out


def checkpoints(out: Path) -> list[int]:
    """The steps ``out`` holds a generator for, in order."""
    return sorted(int(p.name[5:-3]) for p in out.glob("step-*.pt"))


def sample(out: Path, step: int, sources: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` uint8 (28, 28) images from the generator at ``step``, each from one of
    ``sources`` (each source equally often, in a shuffled order) and fresh noise."""
    import torch

    cfg = DaganConfig.from_dict(json.loads((out / "config.json").read_text()))
    g_net, _ = _nets(cfg)
    g_net.load_state_dict(torch.load(out / f"step-{step}.pt", weights_only=True))
    g_net.eval()
    gen = torch.Generator().manual_seed(seed)
    order = torch.from_numpy(np.resize(np.arange(len(sources)), n))[torch.randperm(n, generator=gen)]
    with torch.no_grad():
        x = g_net(_to_tensor(sources)[order], torch.randn(n, cfg.z_dim, generator=gen))
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].numpy()
