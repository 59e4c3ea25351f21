"""Inception Score (Salimans et al. 2016) from classifier logits, as torch-fidelity computes it.

``exp(E_x KL(p(y|x) || p(y)))`` per split, with p(y) the split's mean prediction: high when
each sample is classified confidently *and* the samples spread over the classes. The
estimator is torch-fidelity's ``isc_features_to_metric``: the rows shuffled with
``numpy.random.RandomState(seed).permutation``, float64 softmax, ``splits`` contiguous
chunks, mean and population std of the per-chunk scores. Given the same logits, the same
numbers (tested against that algorithm).

Two uses in an evaluation: with ``--features inception``, IS from the InceptionV3 logits
beside FID (the published pair of metrics); always, the same statistic from the domain
judge's logits (at most the number of classes: it reads how confidently and evenly the
judge recognises the samples as the dataset's classes).
"""

from __future__ import annotations

import numpy as np
import torch


def inception_score(
    logits: torch.Tensor | np.ndarray, *, splits: int = 10, shuffle: bool = True, seed: int = 2020
) -> tuple[float, float]:
    """Mean and standard deviation of the Inception Score over ``splits`` chunks of ``logits`` (N×C)."""
    x = torch.as_tensor(logits)
    if x.dim() != 2 or x.shape[0] < splits or splits < 1:
        raise ValueError(f"logits must be N x C with N >= splits >= 1, got shape {tuple(x.shape)} and {splits} splits.")
    n = x.shape[0]
    if shuffle:
        x = x[torch.from_numpy(np.random.RandomState(seed).permutation(n))]
    x = x.double()
    p, log_p = x.softmax(dim=1), x.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        chunk = slice(i * n // splits, (i + 1) * n // splits)
        q = p[chunk].mean(dim=0, keepdim=True)
        kl = (p[chunk] * (log_p[chunk] - q.log())).sum(dim=1).mean()
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))
