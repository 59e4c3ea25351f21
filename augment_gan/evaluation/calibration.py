"""Real-vs-real bands: what a class's real images score, at the class's own sample sizes.

Set-level metrics are noisy and biased when a class is small: at 15 images, FID reads far
above 0 for identical distributions, and coverage and the copy rate swing widely from one
set of real images to the next. So every gated metric is put beside its *null*: the same
metric, computed by the same function (:func:`~augment_gan.evaluation.evaluate.class_metrics`),
on real images standing in for the samples, with the class's own sizes. One draw:

* takes the real images of one class: the class itself when it has enough images for
  every role, otherwise a class that has ("pooled": the band then describes the noise of
  this dataset's classes at this size), otherwise half of the class itself ("own, scaled
  down": the band of a smaller class, so wider: more lenient, never stricter);
* shuffles them into the evaluation's roles: the reference images and ``m`` stand-in
  samples, both among the images the domain judge did *not* train on (as the reference and
  the generated samples are: the judge's features pull its own training images together,
  so a stand-in it had trained on would look closer than any sample can), and training
  images for the copy test;
* computes every metric.

Which metrics are drawn, which way is better and what their bad set is: the metric
registry (``registry.py``).

A metric's band is the range real images reach at a *joint* level: its quantiles are taken
so that at most ``false_rejection`` of the draws fall outside any metric's band (six
correlated metrics at a per-metric 95 % would reject about one real set in five).

The copy rate's band is widened, when a class's own real images trip the ratio test more
often than the pooled draws do (some classes have near-duplicates: MNIST's 1s), to what
samples at that rate would score. Class consistency has a band too, from the judge itself: its accuracy on the class's real
images it did not train on, down to a Wilson lower bound (a judge that knows a 15-image
class from 7 images recognises fresh ones less often than 0.8).

Each band also records what a clearly bad set scores at the same sizes: images of another
class (for FID, KID and precision), one image repeated (recall, coverage), training images
repeated (copy rate). When a metric's threshold admits that value the metric cannot tell a
bad set from a good one at this size; the gate then reports it as a warning instead of
failing on it (``gate.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from augment_gan.evaluation.registry import ANOTHER_CLASS, ONE_IMAGE, TRAINING_IMAGES, banded_metrics

BAND_KID_SUBSETS = 10  # KID subsets per draw (the evaluation's own KID uses EvalConfig.kid_subsets)
POWER_DRAWS = 8  # draws that also score the bad sets (only their median is kept)
JITTER = 1e-3  # bad sets of repeated images get this much noise (x feature std), so k-NN ties break


@dataclass(frozen=True)
class Sizes:
    """A class's sizes in one evaluation."""

    n_train: int  # the GAN's training images (the copy test's reference)
    n_reference: int  # real images the samples are compared with (none seen by the judge)
    n_fake: int  # generated samples


def roles(sizes: Sizes, unseen: int, total: int, *, scale_down: bool = False) -> tuple[int, int, int] | None:
    """(reference, stand-in, training) counts for a draw from a class with ``unseen``
    real images the judge did not train on (``total`` in all), or None when they do not
    suffice.

    Reference images and stand-ins both come from the unseen images, as the evaluation's
    reference and samples are both unseen by the judge; there must be at least as many
    stand-ins as reference images (or samples). With ``scale_down`` a class too small for
    that is split in half instead: the band is then that of a smaller class, so wider. The
    training role takes any of the class's other images (the copy test's null hardly depends
    on how many).
    """
    n_ref = sizes.n_reference
    m = min(sizes.n_fake, unseen - n_ref)
    if m < min(n_ref, sizes.n_fake) or m < 2:
        if not scale_down:
            return None
        n_ref = unseen // 2
        m = min(sizes.n_fake, unseen - n_ref)
    n_train = min(sizes.n_train, total - m)
    return (n_ref, m, n_train) if n_ref >= 2 and m >= 2 and n_train >= 2 else None


def real_band(
    unseen: list[np.ndarray],
    seen: list[np.ndarray],
    own: int,
    sizes: Sizes,
    metrics: Callable[..., dict[str, Any]],
    *,
    draws: int,
    false_rejection: float,
    seed: int,
) -> dict[str, Any] | None:
    """The real-vs-real band of class ``own``'s metrics, or None when no class of the
    dataset has enough real images to stand in at these sizes.

    ``unseen[c]`` and ``seen[c]`` hold class c's real features that the judge did not and
    did train on; ``metrics`` is ``class_metrics`` with the evaluation's config bound.
    Returns ``{"draws", "source", "n_reference", "n_fake", "level", "metrics": {name: {"lo",
    "hi", "bad", "bad_set"}}}``: ``lo``/``hi`` are the band's quantiles at the joint
    ``level``; ``bad`` is the median bad-set value.
    """

    def fits(c: int, scale_down: bool = False) -> bool:
        return roles(sizes, len(unseen[c]), len(unseen[c]) + len(seen[c]), scale_down=scale_down) is not None

    scale_down = False
    if fits(own):
        donors, source = [own], "own"
    elif pooled := [c for c in range(len(unseen)) if fits(c)]:
        donors, source = pooled, "pooled"
    elif fits(own, scale_down=True):
        donors, source, scale_down = [own], "own, scaled down", True
    else:
        return None
    rng = np.random.default_rng(seed)
    # each donor's foil for the class test: every other class's real images, as in the evaluation
    foils = {d: _others(unseen, seen, d) for d in donors}
    drawn = {m.name: m for m in banded_metrics()}  # the registered metrics computed from features
    values: dict[str, list[float]] = {name: [] for name in drawn}
    bad: dict[str, list[float]] = {name: [] for name in drawn}
    m_used, n_reference = sizes.n_fake, 0
    for i in range(draws):
        donor = donors[int(rng.integers(len(donors)))]
        u = unseen[donor]
        n_ref, m, n_train = roles(sizes, len(u), len(u) + len(seen[donor]), scale_down=scale_down)  # type: ignore[misc]
        perm = rng.permutation(len(u))
        fake, reference = u[perm[:m]], u[perm[m : m + n_ref]]
        others = np.concatenate([seen[donor], u[perm[m:]]])
        train = others[rng.permutation(len(others))[:n_train]]
        m_used, n_reference = min(m_used, m), max(n_reference, n_ref)

        def score(samples: np.ndarray, reference=reference, train=train, foil=foils[donor]) -> dict[str, Any]:
            return metrics(reference=reference, train=train, holdout=reference[:0], fake=samples, others=foil)

        record = score(fake)
        for name in drawn:
            values[name].append(record[name])
        if i < POWER_DRAWS:
            scored = _bad_sets(unseen, donor, train, fake, score, rng)
            for name, m in drawn.items():
                if m.bad_set in scored:
                    bad[name].append(scored[m.bad_set][name])
    bands = {}
    kept = {name: np.array(v, dtype=float) for name, v in values.items() if None not in v}
    level = joint_level({n: -drawn[n].direction * v for n, v in kept.items()}, false_rejection)
    for name, v in kept.items():
        bad_values = [b for b in bad[name] if b is not None]
        bands[name] = {
            "lo": float(np.quantile(v, level, method="lower")),
            "hi": float(np.quantile(v, 1 - level, method="higher")),
            "bad": float(np.median(bad_values)) if bad_values else None,
            "bad_set": drawn[name].bad_set,
        }
    return {
        "draws": draws,
        "source": source,
        "n_reference": n_reference,
        "n_fake": int(m_used),
        "level": level,
        "metrics": bands,
    }


def _others(unseen: list[np.ndarray], seen: list[np.ndarray], own: int) -> np.ndarray | None:
    """Every real image of the classes other than ``own`` (None in a one-class dataset)."""
    parts = [x for c in range(len(unseen)) if c != own for x in (seen[c], unseen[c]) if len(x)]
    return np.concatenate(parts) if parts else None


def _bad_sets(
    by_class: list[np.ndarray],
    donor: int,
    train: np.ndarray,
    fake: np.ndarray,
    score: Callable[[np.ndarray], dict[str, Any]],
    rng: np.random.Generator,
) -> dict[str, dict[str, Any]]:
    """Every metric's record on each bad set (by the bad set's name), at the draw's sizes."""
    m = len(fake)
    jitter = JITTER * float(fake.std()) * rng.standard_normal(fake.shape)
    out = {}
    others = [c for c, x in enumerate(by_class) if c != donor and len(x) >= 2]
    if others:
        other = by_class[others[int(rng.integers(len(others)))]]
        out[ANOTHER_CLASS] = score(other[rng.permutation(len(other))[:m]])
    out[ONE_IMAGE] = score(fake[:1] + jitter)
    out[TRAINING_IMAGES] = score(train[rng.integers(0, len(train), m)] + jitter)
    return out


def consistency_band(predicted: np.ndarray, labels: np.ndarray, own: int, level: float) -> dict[str, Any] | None:
    """Class consistency's band: the judge's accuracy on real images of the class that it
    did not train on (``predicted``/``labels``: those images of every class), down to its
    Wilson lower bound at ``level``; ``bad`` is how often it calls another class's images
    this class. None without such images."""
    mine = labels == own
    n = int(mine.sum())
    if n == 0:
        return None
    p = float(np.mean(predicted[mine] == own))
    z = NormalDist().inv_cdf(1 - level)
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    others = ~mine
    bad = float(np.mean(predicted[others] == own)) if others.any() else None
    return {
        "lo": max(0.0, (centre - half) / (1 + z * z / n)),
        "hi": p,
        "bad": bad,
        "bad_set": ANOTHER_CLASS,
    }


def binomial_upper(p: float, m: int, level: float) -> float:
    """The share of m draws at rate p that at most ``level`` of sets exceed (normal approximation)."""
    z = NormalDist().inv_cdf(1 - level)
    return min(1.0, p + z * math.sqrt(p * (1 - p) / max(m, 1)))


def own_copy_rate(
    train: np.ndarray, holdout: np.ndarray, ratio: float, *, cap: int = 1000, seed: int = 0
) -> tuple[int, int]:
    """(k, n): how many of the class's n real images the ratio test calls copies of another
    training image. Training images are tested against the others (leave-one-out: their
    nearest other image's own nearest neighbour excludes them too), held-out ones against
    all. Some classes have near-duplicates of their own (MNIST's 1s): real images trip the
    test more often there than in a pooled band, and so may samples. At most ``cap``
    training images are used (a seeded subset)."""
    if len(train) > cap:
        train = train[np.random.default_rng(seed).permutation(len(train))[:cap]]
    if len(train) < 3:
        return 0, 0
    d = np.sqrt(np.maximum(((train[:, None, :] - train[None, :, :]) ** 2).sum(-1), 0.0))
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1)[:, :2]  # each image's two nearest others
    k = 0
    for i in range(len(train)):
        j = order[i, 0]
        own_j = d[j, order[j, 1]] if order[j, 0] == i else d[j, order[j, 0]]
        k += bool(own_j > 0 and d[i, j] < ratio * own_j)
    n = len(train)
    if len(holdout):
        dh = np.sqrt(np.maximum(((holdout[:, None, :] - train[None, :, :]) ** 2).sum(-1), 0.0))
        j = dh.argmin(1)
        own = d[np.arange(len(train)), order[:, 0]]
        k += int(np.sum((own[j] > 0) & (dh[np.arange(len(holdout)), j] < ratio * own[j])))
        n += len(holdout)
    return k, n


def joint_level(badness: dict[str, np.ndarray], false_rejection: float) -> float:
    """The per-metric tail level at which at most ``false_rejection`` of the draws exceed
    any metric's bound (``badness``: larger is worse, one array per metric)."""
    if not badness:
        return false_rejection
    k = len(badness)
    for level in np.linspace(false_rejection, false_rejection / k, 25):
        bounds = {n: np.quantile(b, 1 - level, method="higher") for n, b in badness.items()}
        rejected = np.mean(np.any([b > bounds[n] for n, b in badness.items()], axis=0))
        if rejected <= false_rejection:
            return float(level)
    return false_rejection / k
