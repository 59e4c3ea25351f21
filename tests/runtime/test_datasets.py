"""SyntheticDataset and BalancedDataset: ImageFolder-like output, determinism, class mapping,
gate, sampler masses, and DataLoader workers."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import ImageFolder

from augment_gan.contracts.model_dir import ModelError
from augment_gan.errors import AugmentGanError
from augment_gan.runtime.augmenter import Augmenter
from augment_gan.runtime.balanced import BalancedDataset
from augment_gan.runtime.datasets import SyntheticDataset
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.latents import sample_latent
from tests.export.helpers import CLASSES, export_tiny, gate, tiny_config, write_tiny_model

CPU = ["CPUExecutionProvider"]


@pytest.fixture(scope="module")
def exported():
    torch.set_num_threads(1)
    cfg = tiny_config()
    return (cfg, *export_tiny(cfg, CLASSES))


@pytest.fixture
def write_model(tmp_path: Path, exported):
    cfg, _, data, _ = exported

    def write(gate_block=None, name="tiny") -> Path:
        return write_tiny_model(tmp_path / "models", data, cfg, CLASSES, gate_block=gate_block, name=name)

    return write


@pytest.fixture
def gen(write_model) -> OnnxGenerator:
    return OnnxGenerator.load(write_model(), providers=CPU, intra_op_threads=1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Folder classes ant (unknown to the model), cat, dog; the model's eel is missing.

    So folder indices (ant 0, cat 1, dog 2) differ from the model's (cat 0, dog 1, eel 2).
    28x28 grayscale PNGs: ImageFolder's loader returns them as RGB.
    """
    rng = np.random.default_rng(0)
    for name, n in {"ant": 3, "cat": 6, "dog": 2}.items():
        (tmp_path / "real" / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(tmp_path / "real" / name / f"{i}.png")
    return tmp_path / "real"


def test_synthetic_dataset_is_imagefolder_like_and_deterministic(gen: OnnxGenerator) -> None:
    ds = SyntheticDataset(gen, per_class={"cat": 2, 2: 3})
    assert len(ds) == 5 and ds.classes == CLASSES and ds.targets == [0, 0, 2, 2, 2]
    image, label = ds[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (32, 32)
    assert type(label) is int and label == 2
    # sample i depends only on (seed, class, ordinal): same image again, and from a new dataset
    again = SyntheticDataset(gen, per_class={"eel": 3, "cat": 2})
    assert np.array_equal(np.asarray(image), np.asarray(again[3][0]))
    assert np.array_equal(np.asarray(ds[-1][0]), np.asarray(ds[4][0]))
    expected = gen.generate_from_latents(sample_latent(0, 2, 1, gen.latent_dim), [2])[0, :, :, 0]
    assert np.array_equal(np.asarray(image), expected)
    assert not np.array_equal(np.asarray(ds[2][0]), np.asarray(ds[3][0]))
    other_seed = SyntheticDataset(gen, per_class={"cat": 2, 2: 3}, seed=1)
    assert not np.array_equal(np.asarray(other_seed[3][0]), np.asarray(image))
    with pytest.raises(IndexError):
        ds[5]


def test_synthetic_dataset_transforms_and_tensor(gen: OnnxGenerator) -> None:
    ds = SyntheticDataset(gen, n_per_class=2, transform=T.ToTensor(), target_transform=lambda t: t + 10)
    image, label = ds[5]
    assert image.shape == (1, 32, 32) and image.dtype == torch.float32 and label == 12
    raw = SyntheticDataset(gen, n_per_class=2, as_tensor=True)
    tensor, _ = raw[5]
    assert tensor.dtype == torch.uint8 and tensor.shape == (1, 32, 32)
    assert torch.allclose(tensor.float() / 255, image)


def test_synthetic_dataset_argument_errors(gen: OnnxGenerator) -> None:
    with pytest.raises(AugmentGanError, match="exactly one"):
        SyntheticDataset(gen)
    with pytest.raises(ValueError, match="cat"):
        SyntheticDataset(gen, per_class={"bird": 1})
    with pytest.raises(AugmentGanError, match="non-negative"):
        SyntheticDataset(gen, n_per_class=-1)


def test_synthetic_dataset_warns_for_gated_out_class(write_model) -> None:
    model = write_model(gate(CLASSES, {"dog": ["fid too high"]}))
    with pytest.warns(UserWarning, match="'dog' failed the quality gate"):
        SyntheticDataset(model, per_class={"dog": 1}, providers=CPU, intra_op_threads=1)


def test_worker_sessions_default_to_cpu_and_one_thread(write_model, monkeypatch) -> None:
    ds = SyntheticDataset(write_model(), n_per_class=1)
    assert ds.generator.requested_providers == "auto" and ds.generator.intra_op_threads is None
    monkeypatch.setattr("augment_gan.runtime.datasets.get_worker_info", lambda: object())
    ds[0]
    assert ds.generator.requested_providers == CPU and ds.generator.intra_op_threads == 1


def test_synthetic_dataset_in_two_workers(write_model) -> None:
    ds = SyntheticDataset(write_model(), n_per_class=4, transform=T.ToTensor(), providers=CPU)
    assert not ds.generator.session_open  # loaded lazily from a path
    batches = list(DataLoader(ds, batch_size=3, num_workers=2, timeout=60))
    images = torch.cat([b[0] for b in batches])
    labels = torch.cat([b[1] for b in batches])
    assert labels.tolist() == ds.targets
    assert torch.equal(images, torch.stack([ds[i][0] for i in range(len(ds))]))


def test_balanced_class_mapping_follows_the_folder(folder: Path, gen: OnnxGenerator) -> None:
    real = ImageFolder(folder)
    ds = BalancedDataset(real, gen, target="max", synthetic_share=0.25)
    assert ds.class_to_idx == real.class_to_idx == {"ant": 0, "cat": 1, "dog": 2}
    assert ds.classes == real.classes and ds.target == 6
    assert ds.synthetic_counts == {"dog": math.ceil(6 * 0.25)}
    assert set(ds.skipped_classes) == {"ant", "eel"}
    assert "not a class of the model" in ds.skipped_classes["ant"]
    assert "not in the folder" in ds.skipped_classes["eel"]
    assert len(ds) == len(real) + 2
    # real part is exactly ImageFolder's
    for i in range(len(real)):
        assert not ds.is_synthetic(i)
        image, label = ds[i]
        ref_image, ref_label = real[i]
        assert label == ref_label and np.array_equal(np.asarray(image), np.asarray(ref_image))
    # synthetic dog samples: folder label 2, drawn as the model's class 1 ("dog")
    image, label = ds[len(real) + 1]
    assert ds.is_synthetic(len(real) + 1) and label == 2 == real.class_to_idx["dog"]
    assert image.mode == "RGB" and image.size == (28, 28)  # what ImageFolder's loader returns
    drawn = gen.generate_from_latents(sample_latent(0, 1, 1, gen.latent_dim), [1])[0, :, :, 0]
    expected = Image.fromarray(drawn).convert("RGB").resize((28, 28), Image.Resampling.BICUBIC)
    assert np.array_equal(np.asarray(image), np.asarray(expected))
    assert ds.targets == real.targets + [2, 2]


def test_balanced_uses_the_real_transforms(folder: Path, gen: OnnxGenerator) -> None:
    real = ImageFolder(folder, transform=T.ToTensor(), target_transform=lambda t: -t)
    ds = BalancedDataset(real, gen)
    for i in (0, len(ds) - 1):
        image, label = ds[i]
        assert image.shape == (3, 28, 28) and image.dtype == torch.float32
    assert ds[len(ds) - 1][1] == -2


def test_gated_out_class_gets_no_synthetic_samples(folder: Path, write_model) -> None:
    model = write_model(gate(CLASSES, {"dog": ["class consistency 0.2 < 0.5"]}))
    ds = BalancedDataset(ImageFolder(folder), model, providers=CPU, intra_op_threads=1)
    assert ds.synthetic_counts == {} and len(ds) == 11
    assert ds.skipped_classes["dog"] == "failed the quality gate: class consistency 0.2 < 0.5"
    assert not any(ds.is_synthetic(i) for i in range(len(ds)))


def test_ungated_model_is_refused_unless_allowed(folder: Path, write_model) -> None:
    model = write_model({"ran": False}, name="ungated")
    with pytest.raises(ModelError, match="allow_ungated=True"):
        BalancedDataset(ImageFolder(folder), model, providers=CPU)
    ds = BalancedDataset(ImageFolder(folder), model, allow_ungated=True, providers=CPU)
    assert ds.synthetic_counts == {"dog": 2}


def test_sampler_masses(folder: Path, gen: OnnxGenerator) -> None:
    real = ImageFolder(folder)
    ds = BalancedDataset(real, gen, target=8, synthetic_share=0.25)
    # cat (6) is below 8 too now; ant is unknown to the model
    assert ds.synthetic_counts == {"cat": 2, "dog": 2}
    w = ds.sample_weights()
    targets = torch.tensor(ds.targets)
    synthetic = torch.tensor([ds.is_synthetic(i) for i in range(len(ds))])
    total = w.sum()
    for name, c in real.class_to_idx.items():
        mass = w[targets == c].sum() / total
        assert mass.item() == pytest.approx(1 / 3)
        syn_share = (w[(targets == c) & synthetic].sum() / w[targets == c].sum()).item()
        assert syn_share == pytest.approx(0.25 if name in ("cat", "dog") else 0.0)
    # exact per-sample weights: real dog = 1/3 * 0.75 / 2, synthetic dog = 1/3 * 0.25 / 2
    dog_real = w[(targets == 2) & ~synthetic]
    assert torch.allclose(dog_real, torch.full_like(dog_real, 0.75 / 6))
    assert torch.allclose(w[(targets == 2) & synthetic], torch.full((2,), 0.25 / 6, dtype=w.dtype))
    sampler = ds.sampler(generator=torch.Generator().manual_seed(0))
    assert sampler.num_samples == 3 * 8 and len(list(sampler)) == 24
    assert ds.sampler(num_samples=5).num_samples == 5


def test_mark_synthetic_flags_items_and_the_weighted_loss(folder: Path, gen: OnnxGenerator) -> None:
    from augment_gan.runtime.balanced import synthetic_weighted_loss

    plain = BalancedDataset(ImageFolder(folder, transform=T.ToTensor()), gen)
    marked = BalancedDataset(ImageFolder(folder, transform=T.ToTensor()), gen, mark_synthetic=True)
    for i in (0, len(marked) - 1):
        image, label, synthetic = marked[i]
        assert synthetic is marked.is_synthetic(i) and synthetic == (i == len(marked) - 1)
        assert torch.equal(image, plain[i][0]) and label == plain[i][1]
    batch = next(iter(DataLoader(marked, batch_size=len(marked))))
    assert batch[2].tolist() == [marked.is_synthetic(i) for i in range(len(marked))]
    # real losses 1 and 3, synthetic 10 at weight 0.5: (1 + 3 + 5) / 2.5
    loss = synthetic_weighted_loss(torch.tensor([1.0, 3.0, 10.0]), torch.tensor([False, False, True]), 0.5)
    assert loss.item() == pytest.approx(9 / 2.5)
    assert synthetic_weighted_loss(torch.tensor([1.0, 10.0]), torch.tensor([False, True]), 0.0).item() == 1.0
    with pytest.raises(AugmentGanError, match="synthetic_weight"):
        synthetic_weighted_loss(torch.tensor([1.0]), torch.tensor([True]), -1.0)


def test_balanced_takes_augments_targets(folder: Path, gen: OnnxGenerator) -> None:
    ds = BalancedDataset(ImageFolder(folder), gen, target="ratio:1.5", synthetic_share=0.25)
    assert ds.target == 9 and ds.synthetic_counts == {"cat": 3, "dog": 3}  # ceil(1.5 x 6), ceil(9 x 0.25)


def test_balanced_argument_errors(folder: Path, gen: OnnxGenerator) -> None:
    with pytest.raises(AugmentGanError, match="synthetic_share"):
        BalancedDataset(ImageFolder(folder), gen, synthetic_share=1.0)
    with pytest.raises(AugmentGanError, match="target"):
        BalancedDataset(ImageFolder(folder), gen, target=0)
    zero = BalancedDataset(ImageFolder(folder), gen, synthetic_share=0.0)
    assert zero.synthetic_counts == {} and len(zero) == 11


@pytest.mark.timeout(120)
def test_balanced_in_two_workers_with_a_session_open_in_the_parent(folder: Path, write_model) -> None:
    # The parent opens a multi-threaded session first: forked workers must open their own and
    # never destroy the inherited one (that joins threads the child lacks: a hang).
    aug = Augmenter.load(write_model(), providers=CPU, intra_op_threads=2)
    aug.generate("dog", 64)
    ds = aug.balanced(ImageFolder(folder, transform=T.ToTensor()), target=8)
    indices = list(ds.sampler(num_samples=20, generator=torch.Generator().manual_seed(1)))
    indices += [len(ds) - 1, len(ds) - 3]  # make sure synthetic samples are in there
    loader = DataLoader(ds, batch_size=4, sampler=indices, num_workers=2, timeout=60)
    images = torch.cat([b[0] for b in loader])
    labels = torch.cat([b[1] for b in loader])
    assert labels.tolist() == [ds.targets[i] for i in indices]
    assert torch.equal(images, torch.stack([ds[i][0] for i in indices]))


def test_datasets_pickle_without_the_session(folder: Path, write_model) -> None:
    # What spawned DataLoader workers receive (checked directly: spawning costs ~20 s here).
    aug = Augmenter.load(write_model(), providers=CPU, intra_op_threads=1)
    for ds in (aug.balanced(ImageFolder(folder, transform=T.ToTensor())), aug.dataset(n_per_class=2, as_tensor=True)):
        assert ds.generator.session_open
        copy = pickle.loads(pickle.dumps(ds))
        assert copy.generator._session is None
        assert torch.equal(copy[len(ds) - 1][0], ds[len(ds) - 1][0]) and copy.generator.session_open
