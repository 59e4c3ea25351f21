import pytest
import torch


@pytest.fixture
def toy_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (24, 1, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.tensor([0] * 12 + [1] * 8 + [2] * 4)
    return images, labels
