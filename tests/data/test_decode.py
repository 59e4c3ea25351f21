from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from augment_gan.data.decode import (
    ImageSkip,
    SkipKind,
    is_grayscale,
    open_image,
    resize_center_crop,
    to_channels,
)


def luma(r: int, g: int, b: int) -> int:
    """Pillow's fixed-point ITU-R 601-2 luma (what convert("L") computes)."""
    return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16


def pixels(img: Image.Image) -> list:
    return [img.getpixel((x, 0)) for x in range(img.width)]


def palette_image(colors: list[tuple[int, int, int]], indices: list[int], **info) -> Image.Image:
    img = Image.new("P", (len(indices), 1))
    img.putpalette([c for rgb in colors for c in rgb])
    img.putdata(indices)
    img.info.update(info)
    return img


# ---------------------------------------------------------------- open_image


def test_faulty_files_are_skipped_with_reasons(tmp_path: Path, faulty_files) -> None:
    expected = faulty_files(tmp_path)
    for name, reason in expected.items():
        with pytest.raises(ImageSkip) as info:
            open_image(tmp_path / name)
        assert info.value.reason.startswith(reason), (name, info.value.reason)
        assert str(info.value) == info.value.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageSkip, match=r"^cannot read file: No such file or directory$") as info:
        open_image(tmp_path / "nope.png")
    assert info.value.kind is SkipKind.UNREADABLE


def test_pixel_limit(tmp_path: Path, solid) -> None:
    path = solid(tmp_path / "big.png", size=(20, 10))
    with pytest.raises(ImageSkip) as info:
        open_image(path, max_pixels=199)
    assert info.value.reason == ("image has 20×10 = 200 pixels, over the limit of 199 (possible decompression bomb)")
    assert open_image(path, max_pixels=200).size == (20, 10)


def test_pixel_limit_checked_before_decoding(tmp_path: Path, noise_bytes) -> None:
    data = noise_bytes("PNG", size=(48, 40))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])  # header intact, pixel data truncated
    with pytest.raises(ImageSkip, match="over the limit of 100"):
        open_image(path, max_pixels=100)


def test_pillow_bomb_limit_is_reported_and_not_changed(tmp_path: Path, solid, monkeypatch: pytest.MonkeyPatch) -> None:
    path = solid(tmp_path / "x.png", size=(20, 10))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 150)  # 200 px: warning zone
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert open_image(path).size == (20, 10)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # over 2x: Pillow raises
    with pytest.raises(ImageSkip, match=r"exceeds limit .*\(possible decompression bomb\)$"):
        open_image(path)
    assert Image.MAX_IMAGE_PIXELS == 50


def test_truncated_is_skipped_even_if_pillow_is_set_to_pad(
    tmp_path: Path, noise_bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    for fmt in ("PNG", "JPEG"):
        data = noise_bytes(fmt)
        path = tmp_path / f"cut.{fmt.lower()}"
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(ImageSkip, match="^truncated or corrupt image data: "):
            open_image(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


def test_fully_loaded_first_frame(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # Noise, and big enough not to sit in Python's read buffer, so a lazy decode shows.
    frames = [(rng.random((128, 128, 3)) * 255).astype(np.uint8) for _ in range(2)]
    path = tmp_path / "anim.png"
    Image.fromarray(frames[0]).save(path, save_all=True, append_images=[Image.fromarray(frames[1])])
    with Image.open(path) as check:
        assert check.n_frames == 2
    img = open_image(path)
    path.write_bytes(b"\0" * path.stat().st_size)  # same inode: a lazy decode would fail now
    assert np.array_equal(np.asarray(img.convert("RGB")), frames[0])


# ---------------------------------------------------------------- to_channels

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _cases():
    """(name, image, expected L pixels, expected RGB pixels) for every supported mode."""
    rgb_row = [(10, 200, 30), (255, 255, 255), (0, 0, 0)]
    yield "1", Image.frombytes("1", (2, 1), bytes([0b01000000])), [0, 255], [(0,) * 3, (255,) * 3]
    yield "L", Image.new("L", (1, 1), 77), [77], [(77, 77, 77)]
    yield "LA", Image.new("LA", (1, 1), (100, 7)), [100], [(100, 100, 100)]
    yield (
        "P",
        palette_image([RED, BLUE], [0, 1]),
        [luma(*RED), luma(*BLUE)],
        [RED, BLUE],
    )
    # Transparent index 1 keeps its palette colour: alpha is dropped, not composited.
    yield (
        "P+transparency",
        palette_image([RED, GREEN], [0, 1], transparency=1),
        [luma(*RED), luma(*GREEN)],
        [RED, GREEN],
    )
    rgb = Image.new("RGB", (3, 1))
    rgb.putdata(rgb_row)
    yield "RGB", rgb, [luma(*p) for p in rgb_row], rgb_row
    rgba = Image.new("RGBA", (2, 1))
    rgba.putdata([(10, 200, 30, 0), (90, 80, 70, 255)])
    yield "RGBA", rgba, [luma(10, 200, 30), luma(90, 80, 70)], [(10, 200, 30), (90, 80, 70)]
    cmyk = Image.new("CMYK", (3, 1))
    cmyk.putdata([(0, 0, 0, 0), (255, 0, 0, 0), (0, 0, 0, 100)])
    yield (
        "CMYK",
        cmyk,
        [255, luma(0, 255, 255), 155],
        [(255, 255, 255), (0, 255, 255), (155, 155, 155)],
    )
    values16 = [65535, 32896, 0, 257, 128]
    expected16 = [255, 128, 0, 1, 0]
    i16 = Image.fromarray(np.array([values16], dtype=np.uint16))
    assert i16.mode == "I;16"
    yield "I;16", i16, expected16, [(v,) * 3 for v in expected16]
    i16b = Image.frombytes("I;16B", (5, 1), np.array(values16, dtype=">u2").tobytes())
    yield "I;16B", i16b, expected16, [(v,) * 3 for v in expected16]
    i32 = Image.fromarray(np.array([[65535, 32896, 70000, -5]], dtype=np.int32))
    assert i32.mode == "I"
    yield "I", i32, [255, 128, 255, 0], [(255,) * 3, (128,) * 3, (255,) * 3, (0,) * 3]
    f = Image.fromarray(np.array([[1.4, 300.0, -5.0, 127.6]], dtype=np.float32))
    yield "F", f, [1, 255, 0, 128], [(1,) * 3, (255,) * 3, (0,) * 3, (128,) * 3]


CASES = list(_cases())


@pytest.mark.parametrize("name, img, gray, colour", CASES, ids=[c[0] for c in CASES])
def test_to_channels_every_mode(name: str, img: Image.Image, gray: list, colour: list) -> None:
    one = to_channels(img, 1)
    three = to_channels(img, 3)
    assert (one.mode, one.size) == ("L", img.size)
    assert (three.mode, three.size) == ("RGB", img.size)
    assert pixels(one) == gray
    assert pixels(three) == colour


@pytest.mark.parametrize("mode", ["LA", "P", "RGBA", "CMYK", "RGB", "L"])
def test_three_channels_match_torchvision_loader(mode: str) -> None:
    img = next(c[1] for c in CASES if c[0].startswith(mode))
    assert to_channels(img, 3).tobytes() == img.convert("RGB").tobytes()


def test_to_channels_rejects_bad_count() -> None:
    with pytest.raises(ValueError):
        to_channels(Image.new("L", (1, 1)), 2)


# ---------------------------------------------------------------- is_grayscale


def _rgb(mode: str, data: list) -> Image.Image:
    img = Image.new(mode, (len(data), 1))
    img.putdata(data)
    return img


@pytest.mark.parametrize(
    "img, expected",
    [
        (Image.new("1", (2, 2)), True),
        (Image.new("L", (2, 2), 9), True),
        (Image.new("LA", (2, 2), (9, 0)), True),
        (Image.new("I;16", (2, 2)), True),
        (Image.new("I", (2, 2)), True),
        (Image.new("F", (2, 2)), True),
        (_rgb("RGB", [(5, 5, 5), (200, 200, 200)]), True),
        (_rgb("RGB", [(5, 5, 5), (200, 200, 201)]), False),
        (_rgb("RGBA", [(5, 5, 5, 0), (7, 7, 7, 255)]), True),
        (_rgb("RGBA", [(5, 5, 6, 255)]), False),
        (_rgb("CMYK", [(0, 0, 0, 100), (0, 0, 0, 0)]), True),
        (_rgb("CMYK", [(255, 0, 0, 0)]), False),
        (palette_image([(3, 3, 3), (90, 90, 90)], [0, 1]), True),
        # Unused colourful palette entries do not make an image colour.
        (palette_image([(3, 3, 3), RED], [0, 0]), True),
        (palette_image([(3, 3, 3), RED], [0, 1]), False),
    ],
)
def test_is_grayscale(img: Image.Image, expected: bool) -> None:
    assert is_grayscale(img) is expected


# ---------------------------------------------------------------- resize_center_crop


def _stripes(width: int, height: int, cuts: tuple[int, int], vertical: bool) -> Image.Image:
    """Red | green | blue bands, split at ``cuts`` along the long axis."""
    length = width if vertical else height
    bands = np.zeros((length, 3), np.uint8)
    bands[: cuts[0]] = RED
    bands[cuts[0] : cuts[1]] = GREEN
    bands[cuts[1] :] = BLUE
    arr = (
        np.broadcast_to(bands[None], (height, width, 3))
        if vertical
        else np.broadcast_to(bands[:, None], (height, width, 3))
    )
    return Image.fromarray(np.ascontiguousarray(arr))


@pytest.mark.parametrize("vertical", [True, False], ids=["wide", "tall"])
def test_center_crop_keeps_only_the_middle(vertical: bool) -> None:
    size = (96, 32) if vertical else (32, 96)
    out = resize_center_crop(_stripes(*size, (32, 64), vertical), 32)
    assert (out.mode, out.size) == ("RGB", (32, 32))
    assert (np.asarray(out) == GREEN).all()


def test_downscale_preserves_aspect() -> None:
    # 128×64 -> short side 64 becomes 32 (factor 2); the centre 64×64 is green.
    out = np.asarray(resize_center_crop(_stripes(128, 64, (32, 96), True), 32))
    assert out.shape == (32, 32, 3)
    # Away from the crop edges (filter support: 3 output pixels) only green survives.
    assert (out[:, 3:-3] == GREEN).all()
    # Near the edges the red/blue bands outside the crop only bleed in faintly.
    assert out[..., 0].max() < 32 and out[..., 2].max() < 32
    assert out[..., 1].min() > 224


def test_upscale_small_image() -> None:
    img = Image.new("L", (16, 8), 40)
    out = resize_center_crop(img, 64)
    assert (out.mode, out.size) == ("L", (64, 64))
    assert set(np.asarray(out).ravel().tolist()) == {40}
