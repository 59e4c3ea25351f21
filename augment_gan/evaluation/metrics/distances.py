"""Chunked euclidean distances between feature sets, and k-nearest-neighbour distances.

Everything the k-NN metrics (precision/recall, density/coverage, copy check) need is built
from :func:`squared_distance_blocks`, which never holds more than ``chunk_size`` rows of a
distance matrix, so 10,000 × 10,000 × 2048-d needs a few hundred MB, not gigabytes.

Precision, and why results are exact where it matters: a block is one float32 matrix
product, ``|x - y|² = |x|² + |y|² - 2 x·y``, on features shifted by the reference set's
mean (the shift changes no distance but shrinks ``|x|²``, and with it the cancellation
error, for features such as Inception's whose mean is far from the origin). Each block row
comes with a rigorous bound on the rounding error of its entries. Whenever a decision
depends on a block value — is this point nearer than that radius, which neighbour is the
k-th — and the value is within that bound of the threshold, the decision is redone on the
distance recomputed from the differences in float64 (:func:`exact_distances`). Reported
distances and ball radii are always such recomputations. So every result is that of exact
arithmetic (to float64 rounding): an exact duplicate is at distance exactly 0 and a point
exactly on a ball's boundary is outside it, at the speed of float32 matrix products.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

#: Rows per distance block: 1024 × 10,000 float32 distances is 40 MB, and blocks this tall
#: keep the matrix product efficient.
DEFAULT_CHUNK_SIZE = 1024

# Neighbours kept per row beyond the largest k. Rows whose k-th distance is within rounding
# of the last kept one (many near-equal distances, e.g. duplicates) are redone on the
# whole row, so this only trades a little top-k work against how often that happens.
_CANDIDATE_MARGIN = 3

# Pairs per exact float64 recompute: 256 × 2048 × 8 B = 4 MB stays in cache and the
# allocator reuses it, where one large buffer per call would be page-faulted afresh.
_EXACT_PAIRS_PER_BATCH = 256

_FLOAT32_UNIT_ROUNDOFF = 2.0**-24


@dataclass(frozen=True)
class DistanceBlock:
    """Approximate squared distances from rows ``start : start + len(sq)`` of ``x`` to all of ``y``.

    ``sq`` is float32; ``error[i]`` bounds ``|sq[i, j] - exact_distance²|`` for every ``j``.
    """

    start: int
    sq: torch.Tensor
    error: torch.Tensor

    @property
    def stop(self) -> int:
        return self.start + self.sq.shape[0]


def _relative_error_bound(dim: int) -> float:
    """Bound on (block entry error) / (|x|² + |y|²) for float32 products of length ``dim``."""
    # |fl(x·y) - x·y| ≤ γ_D |x||y| and likewise for |x|², |y|² (Higham, "Accuracy and
    # Stability of Numerical Algorithms", §3.1), so |x|² + |y|² - 2x·y is off by at most
    # 2γ_D (|x|² + |y|²) plus a few roundings. Doubled to also cover the float32 rounding
    # of the shifted features and of the squared radius the entry is compared with.
    gamma = dim * _FLOAT32_UNIT_ROUNDOFF / (1.0 - dim * _FLOAT32_UNIT_ROUNDOFF)
    return 2.0 * (2.0 * gamma + 8.0 * _FLOAT32_UNIT_ROUNDOFF)


def _shift_to_float32(t: torch.Tensor, centre: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Return ``t - centre`` as float32, subtracting in float64 (chunked, to bound memory).

    Subtracting in float64 makes the float32 rounding relative to the *shifted* values,
    which is what the error bound assumes.
    """
    out = torch.empty(t.shape, dtype=torch.float32)
    for start in range(0, t.shape[0], chunk_size):
        out[start : start + chunk_size] = t[start : start + chunk_size].to(torch.float64) - centre
    return out


def squared_distance_blocks(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    exclude_self: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[DistanceBlock]:
    """Yield blocks of approximate squared distances from ``x``'s rows to all of ``y``'s rows.

    With ``exclude_self`` (``x`` is ``y``) the self-distances are set to ``+inf``, so that
    a point is never its own neighbour.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}.")
    centre = y.mean(dim=0, dtype=torch.float64)
    x32 = _shift_to_float32(x, centre, chunk_size)
    y32 = x32 if exclude_self else _shift_to_float32(y, centre, chunk_size)
    x_sq = (x32 * x32).sum(dim=1)
    y_sq = x_sq if exclude_self else (y32 * y32).sum(dim=1)
    y32_t = y32.t()
    y_sq_row = y_sq.unsqueeze(0)
    # One bound per row, using the largest |y|², keeps every later check a cheap broadcast.
    error = (x_sq + y_sq.max()) * _relative_error_bound(x.shape[1])
    for start in range(0, x32.shape[0], chunk_size):
        stop = min(start + chunk_size, x32.shape[0])
        # |y|² - 2 x·y in one fused call, then + |x|²; clamp because rounding can make an
        # exact duplicate come out slightly negative.
        sq = torch.addmm(y_sq_row, x32[start:stop], y32_t, alpha=-2.0)
        sq.add_(x_sq[start:stop].unsqueeze(1)).clamp_(min=0.0)
        if exclude_self:
            rows = torch.arange(stop - start)
            sq[rows, rows + start] = float("inf")
        yield DistanceBlock(start, sq, error[start:stop])


def exact_distances(x: torch.Tensor, rows: torch.Tensor, y: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """Return float64 ``|x[rows[i]] - y[columns[i]]|``, computed from the differences.

    Every exact distance in this package goes through here, and the result for a pair
    depends only on the two vectors — not on which other pairs share the batch — so two
    computations of the same distance (a radius, and a later comparison against it) are
    bit-identical and an exact tie stays a tie. That is why the sum is numpy's: its
    pairwise summation along a row is single-threaded and fixed, whereas torch may split a
    long row's reduction across threads depending on the batch shape.
    """
    x_np, y_np = x.numpy(), y.numpy()
    rows_np, columns_np = rows.numpy(), columns.numpy()
    out = np.empty(rows_np.shape[0], dtype=np.float64)
    for start in range(0, rows_np.shape[0], _EXACT_PAIRS_PER_BATCH):
        stop = start + _EXACT_PAIRS_PER_BATCH
        diff = x_np[rows_np[start:stop]].astype(np.float64)
        diff -= y_np[columns_np[start:stop]]
        np.multiply(diff, diff, out=diff)
        out[start:stop] = np.sqrt(diff.sum(axis=1))
    return torch.from_numpy(out)


def strictly_within(
    block: DistanceBlock,
    x: torch.Tensor,
    y: torch.Tensor,
    radii: torch.Tensor,
    *,
    radius_of_rows: bool,
) -> torch.Tensor:
    """Return the boolean mask ``distance(x[i], y[j]) < radius`` for the block's entries.

    ``radii`` are exact float64 radii, one per row of ``x`` (``radius_of_rows=True``: balls
    around ``x``'s points) or one per row of ``y`` (balls around ``y``'s points). The
    comparison is strict, as in the ``prdc`` package: a point on the boundary is outside.
    Entries too close to the boundary for float32 to decide are recomputed exactly.
    """
    r = radii[block.start : block.stop].unsqueeze(1) if radius_of_rows else radii.unsqueeze(0)
    margin = block.sq - r.square().to(torch.float32)
    inside = margin < 0
    undecided = margin.abs_() <= block.error.unsqueeze(1)
    if bool(undecided.any()):
        rows, cols = undecided.nonzero(as_tuple=True)
        exact = exact_distances(x, rows + block.start, y, cols)
        r_exact = radii[rows + block.start] if radius_of_rows else radii[cols]
        inside[rows, cols] = exact < r_exact
    return inside


def _exact_kth(
    values: torch.Tensor,
    columns: torch.Tensor,
    k: int,
    kth_value: torch.Tensor,
    error: torch.Tensor,
    x_rows: torch.Tensor,
    y: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the exact k-th smallest distance of each row and its column in ``y``.

    ``values`` (R×c approximate squared distances to ``y[columns]``) must include every
    entry of the row within ``2 · error`` of the approximate k-th value ``kth_value``.
    Entries below that band are certainly nearer than the true k-th neighbour and entries
    above it certainly farther (each is within ``error`` of its exact value), so only the
    entries in the band are recomputed exactly and ranked.
    """
    band = 2.0 * error.unsqueeze(1)
    n_certainly_nearer = (values < kth_value.unsqueeze(1) - band).sum(dim=1)
    rows, slots = ((values - kth_value.unsqueeze(1)).abs() <= band).nonzero(as_tuple=True)
    exact = torch.full(values.shape, float("inf"), dtype=torch.float64)
    exact[rows, slots] = exact_distances(x_rows, rows, y, columns[rows, slots])
    # Stable, so that equal distances keep their approximate order: deterministic ties.
    order = torch.argsort(exact, dim=1, stable=True)
    rank = (k - 1 - n_certainly_nearer).unsqueeze(1)
    slot = torch.gather(order, 1, rank)
    return torch.gather(exact, 1, slot).squeeze(1), torch.gather(columns, 1, slot).squeeze(1)


def kth_neighbour_distances(
    queries: torch.Tensor,
    reference: torch.Tensor | None = None,
    *,
    ks: Sequence[int],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return each query's exact k-th nearest-neighbour distance and index, for each k in ``ks``.

    Distances are float64 and indices int64, both N×len(ks). With ``reference=None`` the neighbours are searched in
    ``queries`` itself excluding each point itself (but not its exact duplicates, which are
    at distance 0): the ``prdc`` package's convention of taking the (k+1)-th smallest
    distance counting self.
    """
    within = reference is None
    ref = queries if reference is None else reference
    available = ref.shape[0] - (1 if within else 0)
    if not ks or not all(1 <= k <= available for k in ks):
        raise ValueError(
            f"k={max(ks, default=0)} nearest neighbours requested but only {available} candidate "
            f"neighbours exist; use a smaller k or more samples."
        )
    n_candidates = min(max(ks) + _CANDIDATE_MARGIN, available)
    distances = torch.empty(queries.shape[0], len(ks), dtype=torch.float64)
    indices = torch.empty(queries.shape[0], len(ks), dtype=torch.long)
    for block in squared_distance_blocks(queries, ref, exclude_self=within, chunk_size=chunk_size):
        x_rows = queries[block.start : block.stop]
        values, columns = torch.topk(block.sq, n_candidates, dim=1, largest=False, sorted=True)
        for position, k in enumerate(ks):
            kth_value = values[:, k - 1]
            dist, index = _exact_kth(values, columns, k, kth_value, block.error, x_rows, ref)
            if n_candidates < available:
                # Rows where the band around the k-th value reaches past the kept
                # candidates: redo them on the whole row.
                partial = (values[:, -1] <= kth_value + 2.0 * block.error).nonzero().squeeze(1)
                if partial.numel():
                    all_columns = torch.arange(ref.shape[0]).expand(partial.numel(), -1)
                    dist[partial], index[partial] = _exact_kth(
                        block.sq[partial], all_columns, k, kth_value[partial],
                        block.error[partial], x_rows[partial], ref,
                    )  # fmt: skip
            distances[block.start : block.stop, position] = dist
            indices[block.start : block.stop, position] = index
    return distances, indices


def knn_radii(features: torch.Tensor, k: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> torch.Tensor:
    """Return each point's exact distance to its k-th nearest neighbour in the set, not itself."""
    return kth_neighbour_distances(features, None, ks=(k,), chunk_size=chunk_size)[0][:, 0]


def nearest_neighbours(
    queries: torch.Tensor, reference: torch.Tensor, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return each query row's exact distance (float64) to its nearest reference row, and its index."""
    distances, indices = kth_neighbour_distances(queries, reference, ks=(1,), chunk_size=chunk_size)
    return distances[:, 0], indices[:, 0]
