"""The embedded default dataset: scikit-learn's ``load_digits`` as an imbalanced folder.

1,797 real 8x8 handwritten digits ship inside scikit-learn, so the demo and the tests need
no download. Three classes are cut to a few dozen images to make the folder imbalanced the
way user folders are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from augment_gan.errors import DataError

# class -> images kept; the other classes keep all of theirs (about 180 each).
DEFAULT_MINORITY = {7: 40, 8: 30, 9: 20}


def write_digits_folder(out_dir: Path, minority: dict[int, int] | None = None, seed: int = 0) -> dict[str, int]:
    """Write ``out_dir/<digit>/digit-XXXX.png`` (8x8, white ink on black) and return counts.

    Refuses a non-empty ``out_dir`` that is not already such a folder, so it can never mix
    into (or overwrite) a user's data. Deterministic for a given ``seed``.
    """
    from sklearn.datasets import load_digits

    minority = DEFAULT_MINORITY if minority is None else minority
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / ".digits-folder").exists():
            raise DataError(f"{out_dir} is not empty; choose an empty or new folder for the digits.")
        return {p.name: len(list(p.glob("*.png"))) for p in sorted(out_dir.iterdir()) if p.is_dir()}

    digits = load_digits()
    # sklearn stores ink as 0..16; scale to 0..255 with ink bright, as in MNIST.
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    rng = np.random.default_rng(seed)
    counts = {}
    for label in range(10):
        idx = np.flatnonzero(digits.target == label)
        if label in minority:
            idx = np.sort(rng.choice(idx, size=min(minority[label], len(idx)), replace=False))
        folder = out_dir / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        for i in idx:
            Image.fromarray(images[i], mode="L").save(folder / f"digit-{i:04d}.png")
        counts[str(label)] = len(idx)
    (out_dir / ".digits-folder").write_text("written by augment-gan's write_digits_folder\n")
    return counts
