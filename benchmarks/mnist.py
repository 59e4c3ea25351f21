"""The MNIST test set (t10k) as the benchmarks use it: read, split per class, written as a folder.

The files are read from ``--mnist`` (default: ``../shared/datasets/mnist-t10k``), never
copied into the repository.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

MINORITY = (3, 8)  # the small classes of every imbalanced MNIST split here


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (10000, 28, 28), int64 labels)."""
    images = read_idx(Path(folder) / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(Path(folder) / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise SystemExit(f"unexpected MNIST files in {folder}: images {images.shape}, labels {labels.shape}")
    return images, labels


def make_split(
    labels: np.ndarray, n_major: int, n_minor: int, n_val: int, n_test: int, seed: int, minority=MINORITY
) -> dict[str, dict[int, list[int]]]:
    """Disjoint train / val / test indices per class (seeded): ``n_minor`` training images for
    a minority digit, ``n_major`` for the others."""
    rng = np.random.default_rng(seed)
    split: dict[str, dict[int, list[int]]] = {"train": {}, "val": {}, "test": {}}
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        n_train = n_minor if d in minority else n_major
        need = n_train + n_val + n_test
        if need > len(idx):
            raise SystemExit(f"digit {d} has {len(idx)} images, the split needs {need}")
        split["train"][d] = idx[:n_train].tolist()
        split["val"][d] = idx[n_train : n_train + n_val].tolist()
        split["test"][d] = idx[n_train + n_val : need].tolist()
    return split


def write_folder(root: Path, images: np.ndarray, split_part: dict, name: str = "t10k-{:05d}.png") -> None:
    """Gray images ``images[i]`` as ``root/<class>/<name.format(i)>``, for each class's indices.
    A file already there is image ``i`` (the name says which), so it is left alone: another
    benchmark process sharing a kept work dir may be reading the folder."""
    from PIL import Image

    for d, indices in split_part.items():
        (root / str(d)).mkdir(parents=True, exist_ok=True)
        for i in indices:
            path = root / str(d) / name.format(i)
            if not path.exists():
                Image.fromarray(images[i], mode="L").save(path)
