"""The ``inception`` extractor: parity with pytorch-fid, and the local-weights contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from augment_gan.errors import WeightsNotFoundError
from augment_gan.evaluation.extractors import extract_features, get_extractor
from augment_gan.evaluation.inception import (
    WEIGHTS_ENV_VAR,
    WEIGHTS_FILENAME,
    WEIGHTS_URL,
    InceptionV3Features,
    build_fid_inception_v3,
    load_inception,
)


def _random_fid_state_dict(seed: int) -> dict[str, torch.Tensor]:
    """A random state dict with the reference file's keys and shapes, and sane activations.

    He-normal convolutions and random (not identity) batch-norm statistics, so every layer,
    including the running statistics, influences the features, and the pool3 features keep
    an O(1) scale through the 94 layers instead of vanishing.
    """
    generator = torch.Generator().manual_seed(seed)
    state = build_fid_inception_v3().state_dict()
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not value.is_floating_point():
            out[key] = value.clone()
        elif key.endswith("conv.weight"):
            fan_in = value[0].numel()
            out[key] = torch.randn(value.shape, generator=generator) * (2.0 / fan_in) ** 0.5
        elif key.endswith("bn.weight") or key.endswith("bn.running_var"):
            out[key] = torch.rand(value.shape, generator=generator) + 0.5
        else:  # bn.bias, bn.running_mean, fc.*
            out[key] = torch.randn(value.shape, generator=generator) * 0.1
    return out


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, torch.Tensor], Path]:
    """A random stand-in for the reference weights, saved under the reference file name."""
    state = _random_fid_state_dict(seed=0)
    path = tmp_path_factory.mktemp("weights") / WEIGHTS_FILENAME
    torch.save(state, path)
    return state, path


def _pytorch_fid_model(monkeypatch: pytest.MonkeyPatch, state: dict[str, torch.Tensor]):
    import pytorch_fid.inception as pfi

    def no_download(url: str, *args: object, **kwargs: object) -> dict[str, torch.Tensor]:
        assert url == WEIGHTS_URL  # pytorch-fid asks for the file we tell users to fetch
        return {k: v.clone() for k, v in state.items()}

    monkeypatch.setattr(pfi, "load_state_dict_from_url", no_download)
    return pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()


def test_features_match_pytorch_fid(monkeypatch: pytest.MonkeyPatch, random_weights) -> None:
    state, path = random_weights
    theirs = _pytorch_fid_model(monkeypatch, state)
    ours = load_inception(path)

    generator = torch.Generator().manual_seed(1)
    rgb = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8, generator=generator)
    gray = torch.randint(0, 256, (1, 1, 32, 32), dtype=torch.uint8, generator=generator)

    with torch.inference_mode():
        # pytorch-fid's own loader feeds ToTensor() images: float in [0, 1].
        expected_rgb = theirs(rgb.float().div(255))[0].flatten(1)
        expected_gray = theirs(gray.repeat(1, 3, 1, 1).float().div(255))[0].flatten(1)
    got_rgb = torch.from_numpy(extract_features(ours, rgb, batch_size=2))
    got_gray = torch.from_numpy(extract_features(ours, gray))

    assert got_rgb.shape == (2, 2048) and got_gray.shape == (1, 2048)
    scale = expected_rgb.abs().max().item()
    assert scale > 1e-2  # the random weights did not make the features vanish
    max_diff = max((got_rgb - expected_rgb).abs().max().item(), (got_gray - expected_gray).abs().max().item())
    print(f"inception parity: max |ours - pytorch-fid| = {max_diff:.3g} (feature scale {scale:.3g})")
    assert max_diff <= 1e-4 * scale


def test_registered_as_inception(random_weights) -> None:
    _, path = random_weights
    extractor = get_extractor("inception", weights_path=path)
    assert isinstance(extractor, InceptionV3Features)
    assert extractor.feature_dim == 2048 and extractor.needs_rgb
    assert not any(p.requires_grad for p in extractor.parameters())


def test_weights_from_env_var_file_or_directory(monkeypatch: pytest.MonkeyPatch, random_weights) -> None:
    state, path = random_weights
    for value in (str(path), str(path.parent)):
        monkeypatch.setenv(WEIGHTS_ENV_VAR, value)
        loaded = load_inception()
        assert torch.equal(loaded.net.Conv2d_1a_3x3.conv.weight, state["Conv2d_1a_3x3.conv.weight"])


def test_missing_weights_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(WEIGHTS_ENV_VAR, raising=False)
    with pytest.raises(WeightsNotFoundError) as no_path:
        load_inception()
    monkeypatch.setenv(WEIGHTS_ENV_VAR, str(tmp_path / "nowhere.pth"))
    with pytest.raises(WeightsNotFoundError) as bad_env:
        load_inception()
    with pytest.raises(WeightsNotFoundError) as bad_arg:
        get_extractor("inception", weights_path=tmp_path)  # a directory without the file
    for error in (no_path, bad_env, bad_arg):
        message = str(error.value)
        assert WEIGHTS_FILENAME in message
        assert WEIGHTS_ENV_VAR in message
        assert "--inception-weights" in message
        assert WEIGHTS_URL in message
    assert str(tmp_path / "nowhere.pth") in str(bad_env.value)
    assert str(tmp_path / WEIGHTS_FILENAME) in str(bad_arg.value)


def test_wrong_weights_file_is_reported(tmp_path: Path) -> None:
    not_inception = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(3)}, not_inception)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    for path in (not_inception, garbage):
        with pytest.raises(WeightsNotFoundError, match=WEIGHTS_FILENAME):
            load_inception(path)


def test_forward_rejects_non_uint8_rgb(random_weights) -> None:
    extractor = load_inception(random_weights[1])
    with pytest.raises(ValueError, match="uint8"):
        extractor(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="N×3×H×W"):
        extractor(torch.zeros(1, 1, 8, 8, dtype=torch.uint8))
