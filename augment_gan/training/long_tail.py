"""What lets a class of a few images learn from the big ones: the long-tail GAN regularisers.

* **Class weights by effective number** (Cui et al. 2019): a class of n images counts as
  E_n = (1 - beta^n) / (1 - beta) distinct ones; weights proportional to 1 / E_n, scaled to
  average 1 over the classes (gSR's ``lam``), so a 5-image class weighs ~60x a 400-image one.
* **gSR**, group spectral regularisation (Rangwani et al., ECCV 2022; val-iisc/gSRGAN): each
  class's conditional-BN gain and shift vectors are folded into near-square matrices, and
  G is penalised by their largest singular values squared, weighted by the class weights.
  A small class's conditioning then cannot spread into the few directions that draw its
  training images (the "class-specific mode collapse" the paper measures).
* **Class-embedding noise** (NoisyTwins, Rangwani et al., CVPR 2023, its augmentation half):
  G sees its class embedding plus Gaussian noise of std ``sigma x the class weight``, so
  a small class's samples come from a neighbourhood of its embedding, not a point.
* **Transitional conditioning** (Shahbazi et al., ICLR 2022, "Collapse by conditioning";
  D's side): D's class-free score is always trained and its conditional score's loss is
  weighted by lambda_t, 0 for the first half of ``transition`` x steps, then rising
  linearly to 1 at ``transition`` x steps, so the shared weights learn from every image
  before any class can be memorised.
"""

from __future__ import annotations

import torch

EFFECTIVE_BETA = 0.999  # Cui et al.'s beta for classes of hundreds of images (E_400 = 330, E_5 = 4.99)


def class_weights(counts: torch.Tensor, beta: float = EFFECTIVE_BETA) -> torch.Tensor:
    """(classes,) weights proportional to 1 / effective number, averaging 1 (gSR's ``lam``).
    A class with no images gets the weight of one with one image."""
    n = counts.double().clamp(min=1)
    inverse = (1.0 - beta) / (1.0 - beta**n)
    return (inverse * len(n) / inverse.sum()).float()


def fold(features: int) -> tuple[int, int]:
    """The most nearly square (rows, columns) with rows x columns = features, rows <= columns
    (gSRGAN's ``get_dimensions``): 64 -> (8, 8), 32 -> (4, 8), 48 -> (6, 8)."""
    rows = max(r for r in range(1, int(features**0.5) + 1) if features % r == 0)
    return rows, features // rows


def group_spectral_penalty(affines: list[tuple[torch.Tensor, torch.Tensor]], weights: torch.Tensor) -> torch.Tensor:
    """gSR: mean over layers and classes of weight_y x (sigma_max(gain_y)^2 + sigma_max(shift_y)^2),
    each class's (features,) vector folded by :func:`fold`. ``affines`` from
    ``Generator.class_affines()``."""
    total = weights.new_zeros(())
    for gain, shift in affines:
        k, features = gain.shape
        shape = (k, *fold(features))
        for v in (gain, shift):
            sigma = torch.linalg.matrix_norm(v.reshape(shape), ord=2)  # (K,)
            total = total + (weights * sigma.pow(2)).sum()
    return total / (len(affines) * len(weights))


def transition_weight(transition: float, step: int, steps: int) -> float:
    """lambda_t of the conditional loss: 1 when ``transition`` is 0; else 0 until step
    transition x steps / 2, rising linearly to 1 at transition x steps."""
    if transition <= 0:
        return 1.0
    end = transition * steps
    return min(1.0, max(0.0, (step - end / 2) / max(end / 2, 1e-9)))
