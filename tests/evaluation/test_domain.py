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


def test_a_judge_reads_images_over_64_px_average_pooled_to_64_px_and_exports_so() -> None:
    """At 128 px the judge sees what a 64 px judge sees of the 2x2-averaged image (the cost of a
    64 px judge), inside the module, so judge.onnx does the same; 32 and 64 px are untouched."""
    from torch.nn import functional as F

    from augment_gan.evaluation.domain import DomainJudge, train_judge
    from augment_gan.export.judge_export import export_judge_onnx
    from augment_gan.export.onnx_export import cpu_session

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (12, 3, 128, 128), dtype=torch.uint8, generator=g)
    labels = torch.arange(12) % 2
    judge = train_judge(images, labels, 2, JudgeConfig(steps=3, batch_size=4)).eval()
    with torch.no_grad():
        pooled = F.avg_pool2d(images.float(), 2)
        assert torch.allclose(judge(images), judge(pooled), atol=1e-5)
        small = images[:, :, :64, :64]
        assert torch.equal(DomainJudge.shrink(small), small)  # 64 px: as it was
    onnx_features = cpu_session(export_judge_onnx(judge, images[:4])).run(None, {"images": images[:4].numpy()})[1]
    assert torch.allclose(torch.from_numpy(onnx_features), judge(images[:4]).detach(), atol=1e-3)
