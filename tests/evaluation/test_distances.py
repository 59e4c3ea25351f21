"""Chunked k-NN distances: equal to brute-force exact distances, ties included."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from augment_gan.evaluation.metrics import distances
from augment_gan.evaluation.metrics.distances import (
    knn_radii,
    kth_neighbour_distances,
    nearest_neighbours,
    squared_distance_blocks,
    strictly_within,
)


def _brute_force(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Equal to ours up to float64 summation order (last bit); exact on integer data.
    return np.sqrt(((x[:, None, :].astype(np.float64) - y[None, :, :].astype(np.float64)) ** 2).sum(-1))


def _grid_with_duplicates() -> np.ndarray:
    """Integer points: most distances are tied with many others; plus 8 copies of one point."""
    grid = np.array(list(itertools.product(range(5), range(5), range(3))), dtype=np.float32) * 3.0 + 50.0
    return np.vstack([grid, np.repeat(grid[:1], 8, axis=0)])


@pytest.mark.parametrize("chunk_size", [7, 1024])
def test_radii_equal_brute_force_on_random_and_tied_data(chunk_size: int) -> None:
    random = np.random.default_rng(0).normal(size=(150, 24)).astype(np.float32)
    for x in (random, _grid_with_duplicates()):
        exact = _brute_force(x, x)
        np.fill_diagonal(exact, np.inf)
        expected = np.sort(exact, axis=1)
        got, index = kth_neighbour_distances(torch.from_numpy(x), None, ks=(1, 3, 5, 9), chunk_size=chunk_size)
        for position, k in enumerate((1, 3, 5, 9)):
            np.testing.assert_allclose(got[:, position].numpy(), expected[:, k - 1], rtol=1e-14, atol=0)
            # The index points at a neighbour at that distance (never the point itself).
            chosen = exact[np.arange(len(x)), index[:, position].numpy()]
            np.testing.assert_allclose(chosen, expected[:, k - 1], rtol=1e-14, atol=0)


def test_many_ties_use_the_whole_row(monkeypatch: pytest.MonkeyPatch) -> None:
    widths: list[int] = []
    original = distances._exact_kth

    def spy(values: torch.Tensor, *args: object) -> object:
        widths.append(values.shape[1])
        return original(values, *args)

    monkeypatch.setattr(distances, "_exact_kth", spy)
    x = torch.from_numpy(_grid_with_duplicates())
    radii = knn_radii(x, 5)
    assert max(widths) == len(x)  # the full-row path ran
    copies = [0, *range(len(x) - 8, len(x))]  # grid[0] and its 8 copies: radius 0 for k ≤ 8
    assert torch.equal(radii[copies], torch.zeros(9, dtype=torch.float64))
    # Every other point's 5th neighbour is an axis (3) or a diagonal (3√2) grid neighbour.
    assert set(radii[1:-8].tolist()) == {3.0, float(np.sqrt(np.float64(18.0)))}


def test_nearest_neighbours_between_sets() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(200, 16)).astype(np.float32) + 10.0
    queries = np.vstack([reference[:5], rng.normal(size=(40, 16)).astype(np.float32) + 10.0])
    dist, index = nearest_neighbours(torch.from_numpy(queries), torch.from_numpy(reference), chunk_size=9)
    exact = _brute_force(queries, reference)
    np.testing.assert_allclose(dist.numpy(), exact.min(axis=1), rtol=1e-14, atol=0)
    np.testing.assert_array_equal(index[:5].numpy(), np.arange(5))
    assert (dist[:5] == 0).all()


def test_strictly_within_equals_exact_comparisons_on_ties() -> None:
    x = _grid_with_duplicates()
    y = x[::2] + np.float32(3.0)  # shifted grid: many distances equal the radii exactly
    radii_x = torch.from_numpy(np.sort(np.where(np.eye(len(x)) > 0, np.inf, _brute_force(x, x)), axis=1)[:, 2].copy())
    radii_y = torch.from_numpy(np.sort(np.where(np.eye(len(y)) > 0, np.inf, _brute_force(y, y)), axis=1)[:, 2].copy())
    exact = _brute_force(x, y)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for block in squared_distance_blocks(xt, yt, chunk_size=16):
        rows = slice(block.start, block.stop)
        by_rows = strictly_within(block, xt, yt, radii_x, radius_of_rows=True)
        by_cols = strictly_within(block, xt, yt, radii_y, radius_of_rows=False)
        np.testing.assert_array_equal(by_rows.numpy(), exact[rows] < radii_x[rows, None].numpy())
        np.testing.assert_array_equal(by_cols.numpy(), exact[rows] < radii_y[None, :].numpy())


def test_too_few_neighbours() -> None:
    with pytest.raises(ValueError, match="k=5 nearest neighbours requested but only 4"):
        knn_radii(torch.zeros(5, 2), 5)
