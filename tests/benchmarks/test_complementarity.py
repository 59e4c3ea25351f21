"""The complementarity indicator's pieces, on known answers: the split is disjoint, Δcov is 0
for more of the same classic draws, positive for new real images, and at most 0 for copies."""

import numpy as np
import pytest

from tests.benchmarks.helpers import load_benchmark

comp = load_benchmark("complementarity")
P = dict(n_minor=5, n_major=30, n_r=40, n_extra=20, n_eval=25)


def test_a_replicate_split_is_disjoint_and_draws_its_own_minority() -> None:
    labels = np.repeat(np.arange(10), 200)
    a, b = comp.replicate_split(labels, 1000, P), comp.replicate_split(labels, 1001, P)
    assert len(a["minority"]) == 2 and a["minority"] != b["minority"]
    for d in range(10):
        parts = [a[k][d] for k in ("train", "val", "oracle", "eval")]
        flat = [i for part in parts for i in part]
        assert len(flat) == len(set(flat)) and all(labels[i] == d for i in flat)
        assert len(a["train"][d]) == (5 if d in a["minority"] else 30) and len(a["val"][d]) == 40
        assert len(a["oracle"][d]) == (20 if d in a["minority"] else 0)
        assert len(flat) == 200  # the evaluation net gets every image left (at least n_eval), as documented


def test_delta_cov_reads_zero_for_more_classic_draws_and_positive_for_new_reals() -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 4))
    r, extra = real[:100], real[100:]
    near = [r[:3] + 0.01 * rng.normal(size=(3, 4)) for _ in range(2)]  # "classic draws": close to 3 images
    a, a2 = [np.repeat(x, 10, axis=0) for x in near], [np.repeat(x, 3, axis=0) for x in near]
    assert comp.delta_cov(r, a, a2, a2) == pytest.approx(0.0)
    assert comp.delta_cov(r, a, a2, [extra, extra]) > 0.3
    copies = np.repeat(r[:3], 3, axis=0)
    assert comp.delta_cov(r, a, a2, [copies, copies]) <= 0.0


def test_classic_draws_use_every_training_image_equally_often() -> None:
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    for i in range(4):
        images[i, 10:18, 4 * i : 4 * i + 8] = 255  # a bar at a different place per image
    draws = comp.classic_draws(images, 40, np.random.default_rng(0))
    assert draws.shape == (40, 28, 28) and draws.dtype == np.uint8
    assert not any((draws == img).all(axis=(1, 2)).any() for img in images)  # transformed, not copied
    morph = comp.classic_draws(images, 8, np.random.default_rng(0), morph=True)
    assert morph.shape == (8, 28, 28)


def test_the_summary_pairs_each_candidate_with_the_baseline_and_scores_the_picked_step() -> None:
    def curve(covs, deltas):
        return [
            {"step": 250 * (k + 1), "coverage": c, "delta_cov": d, "copy_rate": 0.1, "class_consistency": 1.0}
            for k, (c, d) in enumerate(zip(covs, deltas))
        ]

    reps = []
    for i in range(3):
        base = curve([0.4, 0.5, 0.2], [0.02, 0.05 + 0.01 * i, 0.0])
        cand = curve([0.4, 0.5, 0.45], [0.02, 0.06, 0.04 + 0.01 * i])
        reps.append(
            {
                "classes": {"3": {"anchors": {"oracle": 0.2, "copies": -0.02, "morph": 0.0}}},
                "generators": {
                    comp.BASELINE: {
                        "curves": {"3": base},
                        "train_seconds": 10.0,
                        "gate": {"3": {"step": 500, "passed_at": [500]}},
                    },
                    "other": {"curves": {"3": cand}, "train_seconds": 12.0},
                },
            }
        )
    s = comp.summarise(reps, [comp.BASELINE, "other"])
    assert (
        s["other"]["minus_baseline"]["mean"] == pytest.approx(0.05)
        and s["other"]["minus_baseline"]["effect"] == "helps"
    )
    picked = s[comp.BASELINE]["picked_step"]
    assert picked["steps"] == [500, 500, 500] and picked["passes_somewhere"] == 3
    assert picked["coverage_share_of_best"]["mean"] == pytest.approx(1.0)  # 0.5 is the peak
    assert "picked_step" not in s["other"]  # not gated


def test_extend_carries_earlier_runs_of_the_same_budget_and_refuses_others(tmp_path) -> None:
    import json

    budget = {"replicates": 2, "gan_steps": 10, "every": 5}
    rep = {"replicate": 0, "split_seed": 1000, "gan_seed": 0, "minority": [1, 5], "classes": {"1": {"a": 0.1}}}
    trained = {"train": comp.train_config("no-daug", {**budget, "every": 5}, 0).to_dict()}
    old = {"budget": budget, "gate": False, "replicates": [{**rep, "generators": {"no-daug": trained, "other": {}}}]}
    (tmp_path / "old.json").write_text(json.dumps(old))
    carried = comp.carried_replicates([tmp_path / "old.json"], {**budget, "replicates": 6}, ["no-daug"], gate=False)
    assert list(carried) == [0] and list(carried[0]["generators"]) == ["no-daug"]  # only what was asked for
    merged = comp.merge_replicate(carried[0], {**rep, "generators": {"small-daug": {"x": 2}}})
    assert merged["generators"] == {"no-daug": trained, "small-daug": {"x": 2}}
    with pytest.raises(SystemExit, match="classes differs"):  # the code changed: the replicate is not the same
        comp.merge_replicate(carried[0], {**rep, "classes": {"1": {"a": 0.2}}, "generators": {}})
    # main() measures the carried generators anew in that case, instead of merging
    assert comp.same_replicate(carried[0], {**rep, "generators": {}})
    assert not comp.same_replicate(carried[0], {**rep, "classes": {"1": {"a": 0.2}}})
    assert comp.same_replicate({"generators": {}}, {**rep, "classes": {"1": {"a": 0.2}}})  # nothing carried
    with pytest.raises(SystemExit, match="another budget"):
        comp.carried_replicates(
            [tmp_path / "old.json"], {"replicates": 6, "gan_steps": 20, "every": 5}, ["no-daug"], gate=False
        )
    with pytest.raises(SystemExit, match="another budget"):
        comp.carried_replicates([tmp_path / "old.json"], budget, ["no-daug"], gate=True)
    # a name that trained otherwise then (a default changed under it) is refused
    (tmp_path / "small.json").write_text(
        json.dumps({**old, "replicates": [{**rep, "generators": {"small-daug": trained}}]})
    )
    with pytest.raises(SystemExit, match="other settings"):
        comp.carried_replicates([tmp_path / "small.json"], budget, ["small-daug"], gate=False)


def test_retained_is_the_worst_running_mean_against_its_earlier_peak() -> None:
    assert comp.retained([0.1, 0.2, 0.3, 0.4]) == 1.0  # never falls
    assert comp.retained([0.6, 0.6, 0.6, 0.0, 0.0, 0.0]) == pytest.approx(0.0)
    # one bad checkpoint is smoothed by the window of 3: (0.6 + 0.6 + 0.3) / 3 = 0.5 of 0.6
    assert comp.retained([0.6, 0.6, 0.6, 0.3, 0.6, 0.6]) == pytest.approx(0.5 / 0.6)
    assert comp.retained([0.6, 0.6, 0.6, 0.3, 0.6, 0.6], window=1) == pytest.approx(0.5)


def test_the_curves_plot_draws_every_replicate_and_class(tmp_path) -> None:
    curve = [{"step": 250 * (t + 1), "coverage": c} for t, c in enumerate([0.2, 0.5, 0.4, 0.1])]
    rep = {"replicate": 0, "classes": {"3": {}, "8": {}}}
    rep["generators"] = {
        "small-daug": {"curves": {"3": curve, "8": curve}, "gate": {"3": {"step": 500}, "8": {"step": 750}}}
    }
    comp.plot_curves({"replicates": [rep]}, tmp_path / "curves.png")
    from PIL import Image

    assert Image.open(tmp_path / "curves.png").size == (640, 320)
