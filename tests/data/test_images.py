from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from augment_gan.contracts.manifest import MANIFEST_NAME
from augment_gan.data import images as images_mod
from augment_gan.data.decode import SkipKind
from augment_gan.data.images import ImageData, Skipped, load_image_folder
from augment_gan.errors import ConfigError, DataError


def _gray_folder(root: Path, solid, write_image) -> None:
    solid(root / "a" / "l.png", 10, size=(40, 30))
    solid(root / "a" / "rgb_gray.png", (50, 50, 50), size=(30, 40))
    write_image(root / "b" / "i16.png", Image.fromarray(np.full((32, 32), 32896, np.uint16)))
    solid(root / "b" / "la.png", (70, 3), size=(64, 64), mode="LA")


def test_load_basic(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "b" / "x.png", (0, 0, 255), size=(10, 20))
    solid(root / "b" / "w.tif", (1, 2, 3), size=(32, 32), mode="RGBA")
    solid(root / "a" / "y.jpg", 128, size=(33, 31))
    solid(root / "a" / "sub" / "z.bmp", (255, 0, 0), size=(64, 64))

    data = load_image_folder(root, resolution=32, channels=3, progress=False)

    assert isinstance(data, ImageData)
    assert data.classes == ["a", "b"]
    assert data.paths == ["a/sub/z.bmp", "a/y.jpg", "b/w.tif", "b/x.png"]
    assert data.labels.tolist() == [0, 0, 1, 1] and data.labels.dtype == torch.int64
    assert data.images.dtype == torch.uint8 and data.images.shape == (4, 3, 32, 32)
    assert data.sizes == [(64, 64), (33, 31), (32, 32), (10, 20)]
    assert data.modes == ["RGB", "L", "RGBA", "RGB"]
    assert (data.channels, data.resolution) == (3, 32)
    assert data.skipped == [] and data.synthetic_excluded == 0
    assert data.root == str(root.resolve())
    assert data.class_counts() == {"a": 2, "b": 2}
    # Pixel values: solid colours survive the resize exactly.
    assert data.images[0, :, 5, 5].tolist() == [255, 0, 0]
    assert (data.images[1] == 128).all()
    assert (data.images[2] == torch.tensor([1, 2, 3])[:, None, None]).all()
    assert data.images[3, :, 0, 0].tolist() == [0, 0, 255]
    assert len(data.key) == 64


def test_class_counts_and_resolution_64(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    for i in range(3):
        solid(root / "a" / f"{i}.png")
    for i in range(2):
        solid(root / "b" / f"{i}.png")
    data = load_image_folder(root, resolution=64, channels=1, progress=False)
    assert data.class_counts() == {"a": 3, "b": 2}
    assert data.images.shape == (5, 1, 64, 64)
    assert (data.images == (200 * 19595 + 30 * 38470 + 60 * 7471 + 0x8000) >> 16).all()


def test_auto_channels_all_gray_gives_one(tmp_path: Path, solid, write_image) -> None:
    root = tmp_path / "ds"
    _gray_folder(root, solid, write_image)
    data = load_image_folder(root, progress=False)
    assert data.channels == 1 and data.images.shape == (4, 1, 32, 32)
    assert data.modes == ["L", "RGB", "I;16", "LA"]
    assert [int(img.unique()) for img in data.images] == [10, 50, 128, 70]
    # Same pixels as asking for one channel explicitly.
    explicit = load_image_folder(root, channels=1, progress=False)
    assert torch.equal(explicit.images, data.images)


def test_auto_channels_one_colour_image_gives_three(tmp_path: Path, solid, write_image) -> None:
    root = tmp_path / "ds"
    _gray_folder(root, solid, write_image)
    solid(root / "b" / "colour.png", (50, 50, 51))
    data = load_image_folder(root, progress=False)
    assert data.channels == 3 and data.images.shape == (5, 3, 32, 32)
    explicit = load_image_folder(root, channels=3, progress=False)
    assert torch.equal(explicit.images, data.images)
    # Gray images are replicated into all three channels.
    assert data.paths == ["a/l.png", "a/rgb_gray.png", "b/colour.png", "b/i16.png", "b/la.png"]
    assert data.images[0, :, 0, 0].tolist() == [10, 10, 10]
    assert data.images[2, :, 0, 0].tolist() == [50, 50, 51]
    assert data.images[3, :, 0, 0].tolist() == [128, 128, 128]


def test_faulty_files_reported_not_fatal(tmp_path: Path, solid, faulty_files) -> None:
    root = tmp_path / "ds"
    expected = faulty_files(root / "a")
    solid(root / "a" / "good1.png")
    solid(root / "a" / "good2.png")
    solid(root / "b" / "good.png")
    solid(root / "b" / "big.png", size=(100, 100))
    solid(root / "b" / "fine.png", size=(10, 10))

    data = load_image_folder(root, max_pixels=5000, channels=3, progress=False)

    assert data.paths == ["a/good1.png", "a/good2.png", "b/fine.png", "b/good.png"]
    assert data.labels.tolist() == [0, 0, 1, 1]
    reasons = {s.path: s.reason for s in data.skipped}
    assert set(reasons) == {f"a/{name}" for name in expected} | {"b/big.png"}
    for name, prefix in expected.items():
        assert reasons[f"a/{name}"].startswith(prefix)
    assert reasons["b/big.png"] == (
        "image has 100×100 = 10000 pixels, over the limit of 5000 (possible decompression bomb)"
    )
    assert all(isinstance(s, Skipped) for s in data.skipped)
    assert {s.path: s.kind for s in data.skipped}["b/big.png"] is SkipKind.TOO_LARGE
    assert data.images.shape[0] == 4


def test_strict_mode_lists_skips(tmp_path: Path, solid, faulty_files) -> None:
    root = tmp_path / "ds"
    faulty_files(root / "a")
    (root / "a" / "more.png").write_bytes(b"")
    for i in range(2):
        solid(root / "a" / f"ok{i}.png")
        solid(root / "b" / f"ok{i}.png")
    with pytest.raises(DataError) as info:
        load_image_folder(root, strict=True, progress=False)
    msg = str(info.value)
    assert msg.startswith("6 files could not be used (a/cut.jpg: truncated or corrupt image data")
    assert "a/empty.png: zero-byte file" in msg
    assert "; and 1 more)" in msg and "without strict mode" in msg
    # The same folder loads fine when not strict.
    assert len(load_image_folder(root, progress=False).skipped) == 6


def test_class_with_one_usable_image(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "a" / "x.png")
    solid(root / "a" / "y.png")
    solid(root / "b" / "x.png")
    (root / "b" / "bad.png").write_bytes(b"")
    (root / "b" / "bad2.jpg").write_text("nope")
    with pytest.raises(DataError, match=r"^class 'b' has 1 usable images after skipping 2 unusable files; "):
        load_image_folder(root, progress=False)
    (root / "b" / "bad.png").unlink()
    (root / "b" / "bad2.jpg").unlink()
    with pytest.raises(DataError, match=r"^class 'b' has 1 usable images; every class needs"):
        load_image_folder(root, progress=False)


def test_empty_class_error_from_scan(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "a" / "x.png")
    (root / "b").mkdir()
    with pytest.raises(DataError, match=r"^class 'b' has no images"):
        load_image_folder(root, progress=False)


def test_manifest_files_not_loaded(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    for rel in ["a/1.png", "a/2.png", "b/1.png", "b/2.png", "b/gen.png"]:
        solid(root / rel)
    entry = {"path": "b/gen.png", "sha256": "0" * 64, "class": "b", "seed": 0, "index": 0}
    (root / MANIFEST_NAME).write_text(json.dumps({"version": 1, "files": [entry]}))
    data = load_image_folder(root, progress=False)
    assert "b/gen.png" not in data.paths and data.synthetic_excluded == 1
    everything = load_image_folder(root, include_synthetic=True, progress=False)
    assert "b/gen.png" in everything.paths and everything.synthetic_excluded == 0
    assert everything.key != data.key


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"resolution": 48}, "Resolution must be one of 32, 64, 128, 256"),
        ({"resolution": True}, "Resolution must be one of 32, 64, 128, 256"),
        ({"channels": 2}, "Channels must be 'auto', 1 or 3"),
        ({"channels": True}, "Channels must be 'auto', 1 or 3"),
        ({"channels": "rgb"}, "Channels must be 'auto', 1 or 3"),
        ({"max_pixels": 0}, "max_pixels must be a positive integer"),
    ],
)
def test_bad_options(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_image_folder(tmp_path, progress=False, **kwargs)


def test_progress_bar_without_tty(tmp_path: Path, solid, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "ds"
    for rel in ["a/1.png", "a/2.png", "b/1.png", "b/2.png"]:
        solid(root / rel)
    load_image_folder(root, progress=True)
    assert capsys.readouterr() == ("", "")


def test_each_file_decoded_once(tmp_path: Path, solid, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ds"
    for rel in ["a/1.png", "a/2.png", "b/1.png", "b/2.png"]:
        solid(root / rel)
    opened: list[str] = []
    real = images_mod.open_image

    def counting(path, max_pixels):
        opened.append(Path(path).relative_to(root.resolve()).as_posix())
        return real(path, max_pixels)

    monkeypatch.setattr(images_mod, "open_image", counting)
    load_image_folder(root, progress=False)
    assert opened == ["a/1.png", "a/2.png", "b/1.png", "b/2.png"]
