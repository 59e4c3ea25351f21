"""Per-sample selection's contract: what ``selection.npz`` holds and what a verdict means (numpy only).

A generated sample of class c is **accepted** when all three hold:

1. **class**: the domain judge (``judge.onnx``) assigns it to c (argmax of its logits);
2. **not a copy**: it passes the nearest-neighbour ratio test against c's GAN-training
   images, in pixels (downsampled to at most 32 px a side) *and* in the judge's features:
   with j its nearest training image, ``d(sample, j) / d(j, j's nearest other training
   image)`` is at least the class's bar. The bar is ``COPY_RATIO`` (0.5), lowered to the 1st
   percentile of what c's real images score when left out of the training set (only those
   the judge never trained on; a log-normal fit, since a 20-image class cannot show its 1st
   percentile), and never below ``MIN_COPY_RATIO``: an isolated training image makes a new
   real image near it look like a copy (5-10 % of held-out digits at 0.5 in judge
   features), and rejecting those would thin out exactly the sparse regions;
3. **in the real data's support**: its realism score (Kynkäänniemi et al. 2019),
   ``max_j r_j / d(sample, j)`` over c's real images the judge never trained on (``r_j``:
   j's distance to its k-th nearest neighbour there), is at least ``tau_c``, where
   ``tau_c`` is the 5th percentile of the same score for those real images themselves
   (leave-one-out). So a kept sample is at least as typical as 95 % of real images of its
   class. The judge's own training images are left out because its features pull them
   together (see ``evaluation/evaluate.py``'s ``judge_split``); samples are new to it.

Acceptance is decided per sample and nothing is ranked: keeping the *first* passing
candidate (not the most confident) leaves the generator's diversity alone. The
candidates of sample j are tried in a fixed order (attempt 0 is the unselected sample, see
:func:`~augment_gan.runtime.latents.retry_latent`), so the same seed keeps the same
samples (``runtime/selection.py``).

``promote`` builds the arrays (:func:`build_reference`, in ``export/selection_export.py``)
and the consumers read them (:func:`read_reference`, in ``runtime/selection.py``); both
decide with :func:`verdicts`, given the judge's logits and features. Per class ``c``:
``pixels_c``/``pixels_nn_c`` and ``features_c``/``features_nn_c`` (training images and
each one's nearest-other distance), ``support_c``/``radius_c`` (judge features of the real
images the judge never saw, their k-NN radii); and ``tau`` (per class) and ``copy_bar``
(per class: pixels, features).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from augment_gan.contracts.model_dir import SELECTION_NAME, ModelError

SUPPORT_K = 3  # k of the k-NN radius (Kynkäänniemi et al. 2019 use 3)
SUPPORT_QUANTILE = 0.05  # tau_c: this quantile of the real images' own (leave-one-out) realism
COPY_RATIO = 0.5  # the ratio test's bar, as in the gate's copy check ...
COPY_QUANTILE = 0.01  # ... lowered to this quantile of real images' leave-one-out ratios ...
MIN_COPY_RATIO = 0.1  # ... but never below this
PIXEL_SIDE = 32  # pixel copies are compared at most this many pixels a side
MAX_ATTEMPTS = 16  # candidates a consumer tries per sample before it uses the least-bad one
MAX_REFERENCE = 2000  # real images kept per class for each test (evenly spread)


# --- the arithmetic (numpy only) --------------------------------------------------------
def pixel_vectors(images_nhwc: np.ndarray) -> np.ndarray:
    """float32 (N, P): images block-averaged down to at most :data:`PIXEL_SIDE` a side."""
    x = np.asarray(images_nhwc, dtype=np.float32)
    n, h, w, c = x.shape
    f = max(1, h // PIXEL_SIDE)
    if f > 1:
        x = x[:, : h - h % f, : w - w % f].reshape(n, h // f, f, w // f, f, c).mean(axis=(2, 4))
    return x.reshape(n, -1)


def sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared euclidean distances (len(a), len(b)), float64, never negative."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def nearest_other(x: np.ndarray) -> np.ndarray:
    """Each row's distance to its nearest other row (inf when there is no other row)."""
    if len(x) < 2:
        return np.full(len(x), np.inf)
    d = sq_distances(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sqrt(d.min(1))


def copy_ratios(fake: np.ndarray, train: np.ndarray, train_nn: np.ndarray) -> np.ndarray:
    """d(fake, nearest training image j) / d(j, j's nearest other training image), per fake."""
    if len(train) == 0:
        return np.full(len(fake), np.inf)
    d = sq_distances(fake, train)
    j = d.argmin(1)
    near = np.sqrt(d[np.arange(len(fake)), j])
    scale = train_nn[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, near / np.where(scale > 0, scale, 1.0), np.where(near > 0, np.inf, 0.0))


def loo_copy_ratios(train: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The copy ratio each training image ``rows[i]`` gets when it is left out of the training
    set: what a new real image of the class scores."""
    if len(train) < 3 or not len(rows):
        return np.full(len(rows), np.inf)
    d = np.sqrt(sq_distances(train, train))
    np.fill_diagonal(d, np.inf)
    two = np.sort(d, axis=1)[:, :2]  # each row's two nearest others
    second_of = np.argsort(d, axis=1)[:, 0]
    out = np.empty(len(rows))
    for k, i in enumerate(rows):
        j = int(np.argmin(d[i]))
        scale = two[j, 1] if second_of[j] == i else two[j, 0]  # j's nearest other, i left out
        out[k] = d[i, j] / scale if scale > 0 else np.inf
    return out


_Z_COPY = 2.326  # the standard normal's 1st percentile is -2.326 (COPY_QUANTILE)


def copy_bar(train: np.ndarray, unseen_rows: np.ndarray) -> float:
    """The class's copy bar: COPY_RATIO, lowered to the COPY_QUANTILE of real images' leave-one-out
    ratios (log-normal fit; needs 3 finite, positive ratios), at least MIN_COPY_RATIO."""
    real = loo_copy_ratios(train, unseen_rows)
    logs = np.log(real[np.isfinite(real) & (real > 0)])
    if len(logs) < 3:
        return COPY_RATIO
    low = float(np.exp(logs.mean() - _Z_COPY * logs.std(ddof=1)))
    return max(MIN_COPY_RATIO, min(COPY_RATIO, low))


def realism(fake: np.ndarray, support: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """max_j radius_j / d(fake, support_j) per fake (inf on an exact match)."""
    if len(support) == 0:
        return np.full(len(fake), np.inf)
    d = np.sqrt(sq_distances(fake, support))
    with np.errstate(divide="ignore"):
        return (radius[None, :] / d).max(1)


def support_radii(support: np.ndarray, k: int = SUPPORT_K) -> tuple[np.ndarray, float]:
    """(k-NN radius per support row, tau): tau is :data:`SUPPORT_QUANTILE` of the rows' own
    leave-one-out realism (each row scored against the others, their radii recomputed
    without it). Needs k + 2 rows; with fewer, radii are inf and tau 0 (the test is off)."""
    m = len(support)
    if m < k + 2:
        return np.full(m, np.inf), 0.0
    d = np.sqrt(sq_distances(support, support))
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1)[:, : k + 1]  # each row's k+1 nearest others
    near = np.take_along_axis(d, order, axis=1)
    radius = near[:, k - 1]
    loo = np.empty(m)
    for i in range(m):
        # row j's radius without row i: its (k+1)-th neighbour when i is among its k nearest
        without = np.where((order[:, :k] == i).any(1), near[:, k], radius)
        with np.errstate(divide="ignore"):
            score = without / d[i]
        score[i] = -np.inf
        loo[i] = score.max()
    return radius, float(np.quantile(loo, SUPPORT_QUANTILE))


def _spread(n: int, limit: int) -> np.ndarray:
    return np.arange(n) if n <= limit else np.linspace(0, n - 1, limit).round().astype(np.int64)


def build_reference(per_class: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays of ``selection.npz`` from, per class: ``train_images`` (uint8 NHWC, the
    GAN's training images), ``train_features`` and ``support_features`` (judge features of
    the training images and of the real images the judge never trained on) and
    ``train_unseen`` (bool per training image: the judge never trained on it)."""
    out: dict[str, np.ndarray] = {}
    taus, bars = [], []
    for c, ref in enumerate(per_class):
        keep = _spread(len(ref["train_images"]), MAX_REFERENCE)
        pixels = pixel_vectors(ref["train_images"][keep])
        features = np.asarray(ref["train_features"], np.float32)[keep]
        unseen = np.flatnonzero(np.asarray(ref["train_unseen"], bool)[keep])[: MAX_REFERENCE // 4]
        bars.append((copy_bar(pixels, unseen), copy_bar(features, unseen)))
        support = np.asarray(ref["support_features"], np.float32)[_spread(len(ref["support_features"]), MAX_REFERENCE)]
        radius, tau = support_radii(support)
        pixels = pixels.round().astype(np.uint8)  # block means to the nearest level: 4x smaller on disk
        out |= {
            f"pixels_{c}": pixels,
            f"pixels_nn_{c}": nearest_other(pixels),
            f"features_{c}": features,
            f"features_nn_{c}": nearest_other(features),
            f"support_{c}": support,
            f"radius_{c}": radius,
        }
        taus.append(tau)
    out["tau"] = np.asarray(taus, np.float64)
    out["copy_bar"] = np.asarray(bars, np.float64).reshape(-1, 2)  # per class: (pixels, features)
    return out


def reference_bytes(reference: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **reference)
    return buffer.getvalue()


# --- the verdicts ----------------------------------------------------------------------
@dataclass
class Checks:
    """Per-sample verdicts for one batch (arrays of one entry per sample)."""

    class_ok: np.ndarray
    copy_pixels: np.ndarray  # True: a near-copy in pixels
    copy_features: np.ndarray  # True: a near-copy in judge features
    realism: np.ndarray
    in_support: np.ndarray

    @property
    def accepted(self) -> np.ndarray:
        return self.class_ok & ~self.copy_pixels & ~self.copy_features & self.in_support

    @property
    def score(self) -> np.ndarray:
        """For the fallback only: right class first, then no copy, then realism."""
        return 4.0 * self.class_ok + 2.0 * ~(self.copy_pixels | self.copy_features) + np.tanh(self.realism)

    def reasons(self) -> list[list[str]]:
        """Why each sample was rejected ([] when accepted)."""
        out = []
        for i in range(len(self.class_ok)):
            r = []
            if not self.class_ok[i]:
                r.append("judged another class")
            if self.copy_pixels[i] or self.copy_features[i]:
                r.append("near-copy of a training image")
            if not self.in_support[i]:
                r.append("outside the real images' support")
            out.append(r)
        return out


def verdicts(
    logits: np.ndarray, features: np.ndarray, pixels: np.ndarray, labels: np.ndarray, reference: dict[str, np.ndarray]
) -> Checks:
    """The three tests for each sample, from the judge's ``logits`` and ``features``, its
    :func:`pixel_vectors` and the class it was generated for (``labels``)."""
    labels = np.asarray(labels, np.int64).reshape(-1)
    n = len(labels)
    tau = np.asarray(reference["tau"], np.float64)
    bars = np.asarray(reference["copy_bar"], np.float64)
    checks = Checks(
        class_ok=(np.asarray(logits).argmax(1) == labels) if n else np.zeros(0, bool),
        copy_pixels=np.zeros(n, bool),
        copy_features=np.zeros(n, bool),
        realism=np.zeros(n),
        in_support=np.zeros(n, bool),
    )
    for c in np.unique(labels):
        rows = labels == c
        checks.copy_pixels[rows] = (
            copy_ratios(pixels[rows], reference[f"pixels_{c}"], reference[f"pixels_nn_{c}"]) < bars[c][0]
        )
        checks.copy_features[rows] = (
            copy_ratios(features[rows], reference[f"features_{c}"], reference[f"features_nn_{c}"]) < bars[c][1]
        )
        score = realism(features[rows], reference[f"support_{c}"], reference[f"radius_{c}"])
        checks.realism[rows] = score
        checks.in_support[rows] = score >= tau[c]
    return checks


def read_reference(model_dir: Path, card: dict[str, Any]) -> dict[str, np.ndarray]:
    """``selection.npz`` of a model dir, checked against the card's sha256 (ModelError if not)."""
    data = (Path(model_dir) / SELECTION_NAME).read_bytes()
    if hashlib.sha256(data).hexdigest() != card.get("files", {}).get(SELECTION_NAME, {}).get("sha256"):
        raise ModelError(f"{model_dir}/{SELECTION_NAME} does not match the sha256 in card.json.")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}
