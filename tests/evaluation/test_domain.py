import torch

from augment_gan.evaluation.domain import JudgeConfig, load_or_train_judge, per_class_accuracy


def _stripes(n: int, horizontal: bool, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 32, 32, dtype=torch.uint8)
    for i in range(n):
        k = int(torch.randint(4, 28, (1,), generator=g))
        if horizontal:
            x[i, 0, k - 2 : k + 2, :] = 255
        else:
            x[i, 0, :, k - 2 : k + 2] = 255
    return x


def test_judge_learns_two_easy_classes_and_is_cached(tmp_path) -> None:
    images = torch.cat([_stripes(20, True, 0), _stripes(20, False, 1)])
    labels = torch.tensor([0] * 20 + [1] * 20)
    cfg = JudgeConfig(steps=60, batch_size=16, width=8)
    judge = load_or_train_judge(images, labels, 2, dataset_key="k", train_paths=["a"], cfg=cfg, cache_dir=tmp_path)
    test = torch.cat([_stripes(10, True, 2), _stripes(10, False, 3)])
    report = per_class_accuracy(judge, test, torch.tensor([0] * 10 + [1] * 10), 2)
    assert report["accuracy"] >= 0.9 and report["n"] == 20
    assert report["per_class"][1]["n"] == 10
    assert judge(images[:3]).shape == (3, judge.feature_dim)
    (cached,) = tmp_path.glob("judge-*.pt")
    again = load_or_train_judge(images, labels, 2, dataset_key="k", train_paths=["a"], cfg=cfg, cache_dir=tmp_path)
    assert all(torch.equal(a, b) for a, b in zip(judge.state_dict().values(), again.state_dict().values()))
    # a different split is a different judge
    load_or_train_judge(images, labels, 2, dataset_key="k", train_paths=["b"], cfg=cfg, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("judge-*.pt"))) == 2
