from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from augment_gan.data import images as images_mod
from augment_gan.data.cache import cache_path, default_cache_dir
from augment_gan.data.images import load_image_folder
from augment_gan.errors import ConfigError


@pytest.fixture
def dataset(tmp_path: Path, solid, faulty_files) -> Path:
    root = tmp_path / "ds"
    for rel in ["a/1.png", "a/2.jpg", "b/1.png", "b/2.bmp"]:
        solid(root / rel, size=(12, 9))
    (root / "b" / "broken.png").write_bytes(b"")
    return root


@pytest.fixture
def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real = images_mod.open_image

    def counting(path, max_pixels):
        opened.append(Path(path).name)
        return real(path, max_pixels)

    monkeypatch.setattr(images_mod, "open_image", counting)
    return opened


def _forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args, **_kwargs):
        raise AssertionError("decoded although the cache should have been used")

    monkeypatch.setattr(images_mod, "open_image", fail)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_second_load_comes_from_cache(dataset: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_image_folder(dataset, progress=False)
    assert not first.from_cache
    assert [p.name for p in cache_dir.iterdir()] == [f"{first.key}.pt"]

    _forbid_decoding(monkeypatch)
    second = load_image_folder(dataset, progress=False)

    assert second.from_cache
    assert torch.equal(second.images, first.images)
    assert torch.equal(second.labels, first.labels)
    for name in ("classes", "paths", "sizes", "modes", "skipped", "channels", "resolution", "key"):
        assert getattr(second, name) == getattr(first, name), name
    assert second.root == first.root and second.synthetic_excluded == 0
    assert second.skipped[0].path == "b/broken.png"


def test_cache_file_is_weights_only_loadable(dataset: Path, cache_dir: Path) -> None:
    data = load_image_folder(dataset, progress=False)
    entry = torch.load(cache_path(cache_dir, data.key), weights_only=True)
    assert torch.equal(entry["images"], data.images)
    assert entry["paths"] == data.paths


def test_nothing_written_into_data_folder(dataset: Path) -> None:
    before = _snapshot(dataset)
    load_image_folder(dataset, progress=False)
    load_image_folder(dataset, progress=False)
    assert _snapshot(dataset) == before


@pytest.mark.parametrize("change", ["mtime", "size", "added", "removed"])
def test_cache_invalidated_when_files_change(dataset: Path, solid, count_decodes: list[str], change: str) -> None:
    first = load_image_folder(dataset, progress=False)
    assert len(count_decodes) == 5
    target = dataset / "a" / "1.png"
    if change == "mtime":
        st = target.stat()
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    elif change == "size":
        solid(target, size=(14, 9))
    elif change == "added":
        solid(dataset / "a" / "3.png")
    else:
        (dataset / "b" / "broken.png").unlink()
    count_decodes.clear()

    second = load_image_folder(dataset, progress=False)

    assert second.key != first.key and not second.from_cache
    assert len(count_decodes) == {"added": 6, "removed": 4}.get(change, 5)
    if change == "size":
        assert second.sizes[0] == (14, 9)


def test_options_are_part_of_the_key(dataset: Path, count_decodes: list[str]) -> None:
    keys = {
        load_image_folder(dataset, progress=False).key,
        load_image_folder(dataset, resolution=64, progress=False).key,
        load_image_folder(dataset, channels=3, progress=False).key,
        load_image_folder(dataset, max_pixels=10_000, progress=False).key,
        load_image_folder(dataset, include_synthetic=True, progress=False).key,
    }
    assert len(keys) == 5 and len(count_decodes) == 25


@pytest.mark.parametrize("garbage", [b"", b"not a torch file", None], ids=["empty", "junk", "wrong"])
def test_corrupt_cache_is_rebuilt(
    dataset: Path, cache_dir: Path, count_decodes: list[str], garbage: bytes | None
) -> None:
    first = load_image_folder(dataset, progress=False)
    path = cache_path(cache_dir, first.key)
    if garbage is None:
        # Loads fine but does not describe this folder (e.g. written by a buggy version).
        torch.save({"format": 1, "key": first.key, "images": torch.zeros(1)}, path)
    else:
        path.write_bytes(garbage)
    count_decodes.clear()

    rebuilt = load_image_folder(dataset, progress=False)

    assert not rebuilt.from_cache and len(count_decodes) == 5
    assert torch.equal(rebuilt.images, first.images)
    count_decodes.clear()
    assert load_image_folder(dataset, progress=False).from_cache and count_decodes == []


def test_explicit_cache_dir_and_env_default(
    dataset: Path, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_cache_dir() == cache_dir
    explicit = tmp_path / "elsewhere" / "cache"
    data = load_image_folder(dataset, cache_dir=explicit, progress=False)
    assert cache_path(explicit, data.key).is_file()
    assert list(cache_dir.iterdir()) == []

    monkeypatch.delenv("AUGMENT_GAN_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "augment-gan" / "decoded"


def test_cache_dir_inside_data_folder_is_refused(dataset: Path) -> None:
    with pytest.raises(ConfigError, match="inside the data folder"):
        load_image_folder(dataset, cache_dir=dataset / "a" / "cache", progress=False)
    assert not (dataset / "a" / "cache").exists()


def test_unwritable_cache_does_not_fail(dataset: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache dir should be")
    data = load_image_folder(dataset, cache_dir=blocker / "cache", progress=False)
    assert data.images.shape[0] == 4


def test_strict_applies_to_cached_results(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from augment_gan.errors import DataError

    load_image_folder(dataset, progress=False)
    _forbid_decoding(monkeypatch)
    with pytest.raises(DataError, match="^1 files could not be used"):
        load_image_folder(dataset, strict=True, progress=False)
