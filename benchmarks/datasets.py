"""The downstream benchmark's datasets, as data: each splits its images per class into
disjoint train / validation / test parts and writes only the train part as a PNG folder.

mnist   MNIST t10k (28x28 gray, read from ``--mnist``): 8 digits with ``n_major`` training
        images, the minority digits 3 and 8 with ``n_minor``; ``n_val`` and ``n_test`` held
        out per class (``mnist.make_split``).
digits  scikit-learn's ``load_digits`` (8x8 gray, 1,797 images), converted to PNG exactly as
        ``augment_gan.data.digits.write_digits_folder`` does (ink 0..16 -> 0..255). Per class
        (seeded) ``n_val`` and ``n_test`` images are held out, the rest (97-103) trains, except
        the minority digits 7, 8, 9, cut to 20, 15 and 10 (half of the demo folder's 40/30/20).
rgb     64x64 RGB crops of ``load_sample_images``' two photographs (china.jpg, flower.jpg,
        427x640). Each photo is cut into 3 vertical bands -> 6 classes (china-left ...
        flower-right), each band into 5 horizontal strips of ~85 rows. Train crops come from
        strips 0, 2, 4, validation crops from strip 1, test crops from strip 3, every crop
        inside one strip: the splits never share a pixel, and each spans the band from top to
        bottom. Random (seeded) crops: ``train_major`` per class, ``train_minor`` for the
        minority classes china-right and flower-left (each has a look-alike majority class:
        china-left's trees, flower-right's blurred leaves); ``val`` and ``test`` per class.
        The GAN trains at 32x32 to fit the budget; the classifier works at 32x32 too (real
        and synthetic images through the same ``Resize(32)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import Input
from .mnist import MINORITY, load_mnist, make_split, write_folder


@dataclass
class Prepared:
    """A dataset written for one run: the held-out parts and what the JSON says of the split."""

    held: dict[str, dict[int, np.ndarray]]  # "val" / "test" -> class index -> uint8 images
    train_images: dict[int, np.ndarray]  # class index -> its uint8 training images (sample grids)
    split: dict[str, Any]


@dataclass(frozen=True)
class Dataset:
    """One dataset: its classifier input, how it is prepared, and which recipes suit it."""

    input: Input
    prepare: Callable[[dict[str, Any], int, Path, Path], Prepared]  # (sizes, seed, train dir, mnist dir)
    classic: tuple[str, ...]  # the classic recipes run (classifier.py's recipes, downstream.RECIPES)
    c_plus_from: tuple[str, ...]  # (c+) is the best of these on validation


# --- mnist --------------------------------------------------------------------------------
def prepare_mnist(sizes: dict[str, Any], seed: int, train_dir: Path, mnist: Path) -> Prepared:
    images, labels = load_mnist(mnist)
    split = make_split(labels, sizes["n_major"], sizes["n_minor"], sizes["n_val"], sizes["n_test"], seed)
    write_folder(train_dir, images, split["train"])
    held = {part: {d: images[split[part][d]] for d in range(10)} for part in ("val", "test")}
    return Prepared(
        held,
        {d: images[split["train"][d]] for d in range(10)},
        {
            "source": "MNIST t10k",
            "seed": seed,
            "minority_digits": list(MINORITY),
            "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
            "val_per_class": sizes["n_val"],
            "test_per_class": sizes["n_test"],
        },
    )


# --- digits -------------------------------------------------------------------------------
DIGITS_MINORITY = {7: 20, 8: 15, 9: 10}  # training images kept; half of write_digits_folder's 40/30/20


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """load_digits as uint8 8x8 images with ink bright, converted as write_digits_folder does."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return np.round(digits.images * (255.0 / 16.0)).astype(np.uint8), digits.target.astype(np.int64)


def make_digits_split(
    labels: np.ndarray, n_val: int = 30, n_test: int = 50, minority: dict[int, int] | None = None, seed: int = 0
) -> dict:
    """Disjoint train / val / test indices per digit (seeded): val and test held out first, the
    rest trains, cut to ``minority[d]`` images for a minority digit."""
    minority = DIGITS_MINORITY if minority is None else minority
    rng = np.random.default_rng(seed)
    split: dict = {"train": {}, "val": {}, "test": {}}
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        rest = idx[n_val + n_test :]
        if d in minority:
            rest = rest[: minority[d]]
        if len(rest) < 2:
            raise SystemExit(f"digit {d} has {len(idx)} images: too few for {n_val} + {n_test} held out")
        split["val"][d] = sorted(idx[:n_val].tolist())
        split["test"][d] = sorted(idx[n_val : n_val + n_test].tolist())
        split["train"][d] = sorted(rest.tolist())
    return split


def write_digits_split(root: Path, images: np.ndarray, train: dict) -> None:
    """The train split as ``root/<digit>/digit-XXXX.png``, the files write_digits_folder writes."""
    write_folder(root, images, train, name="digit-{:04d}.png")


def prepare_digits(sizes: dict[str, Any], seed: int, train_dir: Path, mnist: Path) -> Prepared:
    images, labels = digits_images()
    split = make_digits_split(labels, sizes["n_val"], sizes["n_test"], seed=seed)
    write_digits_split(train_dir, images, split["train"])
    held = {part: {d: images[split[part][d]] for d in range(10)} for part in ("val", "test")}
    return Prepared(
        held,
        {d: images[split["train"][d]] for d in range(10)},
        {
            "source": "sklearn load_digits (8x8), converted as write_digits_folder",
            "seed": seed,
            "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
            "val_per_class": sizes["n_val"],
            "test_per_class": sizes["n_test"],
        },
    )


# --- rgb ----------------------------------------------------------------------------------
PHOTOS = ("china", "flower")  # load_sample_images' order (china.jpg, flower.jpg)
BANDS = ("left", "middle", "right")
RGB_CLASSES = tuple(f"{p}-{b}" for p in PHOTOS for b in BANDS)  # sorted, as ImageFolder orders them
RGB_MINORITY = ("china-right", "flower-left")
CROP = 64
N_STRIPS = 5
STRIPS = {"train": (0, 2, 4), "val": (1,), "test": (3,)}  # horizontal strips of a band, per split


def strip_rows(height: int) -> list[tuple[int, int]]:
    """[top, bottom) of each of the N_STRIPS horizontal strips of a band."""
    edges = np.linspace(0, height, N_STRIPS + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def band_cols(width: int) -> list[tuple[int, int]]:
    """[left, right) of each vertical band (a class) of a photo."""
    edges = np.linspace(0, width, len(BANDS) + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def split_areas(shape: tuple[int, ...]) -> dict[str, list[tuple[int, int, int, int]]]:
    """Per split, the (top, bottom, left, right) areas of class 0 ... 5 a crop is taken from;
    an area is one strip of one band, and a split's crops of a class come from its strips."""
    rows, cols = strip_rows(shape[0]), band_cols(shape[1])
    return {part: [(*rows[s], *cols[b]) for b in range(len(BANDS)) for s in strips] for part, strips in STRIPS.items()}


def make_rgb_crops(photos: list[np.ndarray], counts: dict[str, int], seed: int = 0) -> dict:
    """{"train" | "val" | "test": {class index: (crops uint8 (n, 64, 64, 3), boxes (n, 2) top-left)}}.

    ``counts``: ``train_major``, ``train_minor``, ``val``, ``test`` crops per class. A crop lies
    inside one strip of its band (the strip drawn uniformly among the split's, then a uniform
    position in it); the generator is seeded by (seed, split, class), so changing one split's
    counts does not redraw another's."""
    if any(p.shape[0] // N_STRIPS < CROP or p.shape[1] // len(BANDS) < CROP for p in photos):
        raise ValueError(f"photos of {[p.shape for p in photos]} are too small for {CROP}x{CROP} crops in strips")
    out: dict = {}
    for part_id, part in enumerate(("train", "val", "test")):
        out[part] = {}
        for c, name in enumerate(RGB_CLASSES):
            photo = photos[c // len(BANDS)]
            band = c % len(BANDS)
            areas = split_areas(photo.shape)[part][band * len(STRIPS[part]) : (band + 1) * len(STRIPS[part])]
            n = counts[part] if part != "train" else counts["train_minor" if name in RGB_MINORITY else "train_major"]
            rng = np.random.default_rng([seed, part_id, c])
            crops, boxes = np.empty((n, CROP, CROP, 3), np.uint8), np.empty((n, 2), np.int64)
            for k in range(n):
                top, bottom, left, right = areas[rng.integers(len(areas))]
                y, x = int(rng.integers(top, bottom - CROP + 1)), int(rng.integers(left, right - CROP + 1))
                crops[k], boxes[k] = photo[y : y + CROP, x : x + CROP], (y, x)
            out[part][c] = (crops, boxes)
    return out


def write_rgb_split(root: Path, train: dict) -> None:
    from PIL import Image

    for c, (crops, boxes) in train.items():
        folder = root / RGB_CLASSES[c]
        folder.mkdir(parents=True, exist_ok=True)
        for k, (crop, (y, x)) in enumerate(zip(crops, boxes)):
            Image.fromarray(crop, mode="RGB").save(folder / f"crop-{k:04d}-y{y:03d}-x{x:03d}.png")


def prepare_rgb(sizes: dict[str, Any], seed: int, train_dir: Path, mnist: Path) -> Prepared:
    from sklearn.datasets import load_sample_images

    photos = list(load_sample_images().images)
    crops = make_rgb_crops(photos, sizes, seed=seed)
    write_rgb_split(train_dir, crops["train"])
    held = {part: {c: crops[part][c][0] for c in crops[part]} for part in ("val", "test")}
    return Prepared(
        held,
        {c: crops["train"][c][0] for c in crops["train"]},
        {
            "source": "sklearn load_sample_images (china.jpg, flower.jpg), 64x64 crops",
            "seed": seed,
            "train_per_class": {RGB_CLASSES[c]: len(crops["train"][c][0]) for c in crops["train"]},
            "val_per_class": sizes["val"],
            "test_per_class": sizes["test"],
            "areas": {
                "bands": "3 vertical bands per photo = the classes",
                "strips": f"{N_STRIPS} horizontal strips per band, rows {strip_rows(photos[0].shape[0])}",
                "strips_per_split": {k: list(v) for k, v in STRIPS.items()},
            },
        },
    )


DIGIT_CLASSES = tuple(str(d) for d in range(10))
DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        Input(DIGIT_CLASSES, tuple(str(d) for d in MINORITY), channels=1, image_size=28, clf_size=28, clf_width=32),
        prepare_mnist,
        classic=("a", "b", "c", "c-elastic", "la", "la-elastic"),
        c_plus_from=("c", "c-elastic", "la", "la-elastic"),
    ),
    "digits": Dataset(
        Input(
            DIGIT_CLASSES, tuple(str(d) for d in DIGITS_MINORITY), channels=1, image_size=8, clf_size=8, clf_width=32
        ),
        prepare_digits,
        classic=("c", "c-elastic", "la"),
        c_plus_from=("c", "c-elastic", "la"),
    ),
    # clf_width 16: a quarter of the compute of 32 at 32x32, so both small datasets fit in about 25 minutes
    "rgb": Dataset(
        Input(RGB_CLASSES, RGB_MINORITY, channels=3, image_size=CROP, clf_size=32, clf_width=16),
        prepare_rgb,
        classic=("c", "c-trivial", "la"),
        c_plus_from=("c", "c-trivial", "la"),
    ),
}
