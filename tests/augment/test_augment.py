"""augment on real folders: top-ups, streams, interruption, orphans, --out, gate, channels, sizes."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from PIL import Image

from augment_gan.augment import Augmentation, AugmentInterrupted, AugmentWriteError, SkipKind, augment_folder, writer
from augment_gan.contracts.manifest import JOURNAL_NAME, MANIFEST_NAME, SYNTHETIC_TEMP, Journal, Manifest
from augment_gan.contracts.model_dir import ModelError
from augment_gan.data.folder import scan_folder
from augment_gan.errors import ConfigError
from tests.augment.conftest import load, synthetic_files, tree, write_images


def real_counts(folder: Path) -> dict[str, int]:
    scan = scan_folder(folder)
    return {c: sum(f.class_name == c for f in scan.files) for c in scan.classes}


def manifest_paths(root: Path) -> set[str]:
    return {e["path"] for e in json.loads((root / MANIFEST_NAME).read_text())["files"]}


def test_by_default_synthetic_files_are_at_most_a_quarter_of_a_class(digits_folder, model_dir) -> None:
    """The measured use: filling small classes to the top lowered minority recall, a 25 % share
    did not (docs/methodology.md); ``max_share=1`` (or None) is the old fill to the top."""
    assert Augmentation.prepare(digits_folder, load(model_dir)).plan.max_share == 0.25
    summary = augment_folder(digits_folder, load(model_dir))
    assert summary.written == {"1": 2, "2": 2}  # 2 of 10 and 2 of 8: at most 25 % each, the most that fits
    assert augment_folder(digits_folder, load(model_dir)).total == 0
    assert augment_folder(digits_folder, load(model_dir), max_share=None).written == {"1": 2, "2": 4}  # to the top


def test_fills_to_max_then_a_rerun_writes_nothing(digits_folder, model_dir) -> None:
    gen = load(model_dir)
    summary = augment_folder(digits_folder, gen, max_share=1)
    assert summary.written == {"1": 4, "2": 6}
    files = synthetic_files(digits_folder)
    assert sorted(files) == [f"1/synthetic-tiny0-v1-s0-{i:06d}.png" for i in range(4)] + [
        f"2/synthetic-tiny0-v1-s0-{i:06d}.png" for i in range(6)
    ]
    doc = json.loads((digits_folder / MANIFEST_NAME).read_text())
    entry = doc["files"][0]
    assert {k: entry[k] for k in ("path", "class", "model", "model_version", "seed", "index")} == {
        "path": "1/synthetic-tiny0-v1-s0-000000.png",
        "class": "1",
        "model": "tiny0",
        "model_version": 1,
        "seed": 0,
        "index": 0,
    }
    assert all(files[e["path"]] == e["sha256"] for e in doc["files"]) and entry["created"].endswith("Z")
    assert real_counts(digits_folder) == {"0": 12, "1": 8, "2": 6}  # the scanner never counts them as real
    with Image.open(digits_folder / entry["path"]) as img:
        assert (img.mode, img.size) == ("L", (8, 8))  # native: the class's median real size and mode

    before = tree(digits_folder)
    job = Augmentation.prepare(digits_folder, gen, max_share=1)
    assert [(c.synthetic, c.generate) for c in job.plan.classes] == [(0, 0), (4, 0), (6, 0)]
    assert job.apply().total == 0
    assert tree(digits_folder) == before  # not even the manifest is rewritten


def test_higher_target_adds_only_the_difference(digits_folder, model_dir) -> None:
    gen = load(model_dir)
    augment_folder(digits_folder, gen, target="max", max_share=1)
    first = synthetic_files(digits_folder)
    assert augment_folder(digits_folder, gen, target=15, max_share=1).written == {"0": 3, "1": 3, "2": 3}
    after = synthetic_files(digits_folder)
    assert {k: after[k] for k in first} == first  # nothing changed or removed
    assert len(set(v for k, v in after.items() if k.startswith("2/"))) == 9  # no duplicate images
    assert real_counts(digits_folder) == {"0": 12, "1": 8, "2": 6}


def test_a_top_up_continues_the_noise_stream(digits_folder, model_dir, tmp_path) -> None:
    """10 then 15 gives the same files (names and bytes) as 15 at once."""
    gen = load(model_dir)
    a, b = tmp_path / "a", tmp_path / "b"
    augment_folder(digits_folder, gen, target=10, out=a, max_share=1)
    augment_folder(digits_folder, gen, target=15, out=a, max_share=1)
    augment_folder(digits_folder, gen, target=15, out=b, max_share=1)
    assert synthetic_files(a) == synthetic_files(b) and len(synthetic_files(a)) == 3 + 7 + 9


def test_out_leaves_data_dir_byte_identical(digits_folder, model_dir, tmp_path) -> None:
    gen = load(model_dir)
    before = tree(digits_folder)
    out = tmp_path / "synthetic"
    assert augment_folder(digits_folder, gen, out=out, max_share=1).written == {"1": 4, "2": 6}
    assert tree(digits_folder) == before
    assert (out / MANIFEST_NAME).is_file() and sorted(p.name for p in out.iterdir() if p.is_dir()) == ["1", "2"]
    assert augment_folder(digits_folder, gen, out=out, max_share=1).total == 0  # counts come from OUT's manifest
    assert augment_folder(digits_folder, gen, out=out, target=13, max_share=1).written == {"0": 1, "1": 1, "2": 1}
    assert tree(digits_folder) == before
    with pytest.raises(ConfigError, match="outside"):
        Augmentation.prepare(digits_folder, gen, out=digits_folder / "aug", max_share=1)


def test_interrupted_run_leaves_a_consistent_manifest_and_resumes(
    digits_folder, model_dir, tmp_path, monkeypatch
) -> None:
    gen = load(model_dir)
    reference = tmp_path / "reference"
    augment_folder(digits_folder, gen, target=14, out=reference, max_share=1)  # 2 + 6 + 8 uninterrupted

    real_publish, calls = writer.publish, []

    def flaky(tmp, path):
        calls.append(path)
        if len(calls) == 7:
            raise KeyboardInterrupt
        real_publish(tmp, path)

    monkeypatch.setattr(writer, "publish", flaky)
    with pytest.raises(AugmentInterrupted) as info:
        augment_folder(digits_folder, gen, target=14, batch_size=4, max_share=1)
    assert info.value.written == 6
    on_disk = synthetic_files(digits_folder)
    assert len(on_disk) == 6 and set(on_disk) == manifest_paths(digits_folder)
    assert not [p for p in digits_folder.rglob("*") if p.name.endswith(".tmp")]

    monkeypatch.setattr(writer, "publish", real_publish)
    assert augment_folder(digits_folder, gen, target=14, max_share=1).total == 10
    assert synthetic_files(digits_folder) == synthetic_files(reference)  # same names, same bytes, no duplicates


def test_full_disk_is_a_clear_error_and_written_files_stay_recorded(digits_folder, model_dir, monkeypatch) -> None:
    real_publish, calls = writer.publish, []

    def full(tmp, path):
        calls.append(path)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_publish(tmp, path)

    monkeypatch.setattr(writer, "publish", full)
    with pytest.raises(AugmentWriteError, match="No space left on device") as info:
        augment_folder(digits_folder, load(model_dir), batch_size=2, max_share=1)
    assert "3 file(s)" in str(info.value) and "\n" not in str(info.value)
    assert len(manifest_paths(digits_folder)) == 3 and set(synthetic_files(digits_folder)) == manifest_paths(
        digits_folder
    )


def test_unrecorded_synthetic_files_are_adopted_or_left(digits_folder, model_dir) -> None:
    gen = load(model_dir)
    augment_folder(digits_folder, gen, max_share=1)
    # a crash between writing files and the manifest: the last 2 entries are missing
    manifest = Manifest.load(digits_folder)
    dropped = manifest.files[-2:]
    manifest.files = manifest.files[:-2]
    manifest.save()
    # a synthetic-named file that is not what this augment would write (other bytes)
    foreign = digits_folder / "2" / "synthetic-tiny0-v1-s0-000006.png"
    foreign.write_bytes((digits_folder / dropped[0]["path"]).read_bytes()[:-1] + b"x")
    other_seed = digits_folder / "1" / "synthetic-tiny0-v1-s9-000000.png"
    other_seed.write_bytes(foreign.read_bytes())
    before = {
        p: (digits_folder / p).read_bytes()
        for p in (foreign.relative_to(digits_folder).as_posix(), other_seed.relative_to(digits_folder).as_posix())
    }

    job = Augmentation.prepare(digits_folder, gen, max_share=1)
    assert sorted(job.plan.adoptable) == sorted(e["path"] for e in dropped)
    assert sorted(job.plan.unrecorded) == sorted(before)
    assert [c.real for c in job.plan.classes] == [12, 8, 6]  # never counted as real
    assert any("not in the manifest" in w for w in job.plan.warnings)
    summary = job.apply()
    assert summary.adopted == 2 and summary.total == 0
    assert manifest_paths(digits_folder) == {e["path"] for e in Manifest.load(digits_folder).files}
    assert {e["path"] for e in dropped} <= manifest_paths(digits_folder)
    assert all((digits_folder / p).read_bytes() == b for p, b in before.items())  # never overwritten
    # a top-up skips the foreign file's index instead of overwriting it
    assert augment_folder(digits_folder, gen, target=13, max_share=1).written["2"] == 1
    assert "2/synthetic-tiny0-v1-s0-000007.png" in manifest_paths(digits_folder)
    assert "2/synthetic-tiny0-v1-s0-000006.png" not in manifest_paths(digits_folder)
    assert foreign.read_bytes() == before["2/synthetic-tiny0-v1-s0-000006.png"]


def kill_before_the_manifest(root: Path, last: int) -> list[dict]:
    """The state a SIGKILL leaves between linking the last files and saving the manifest:
    their entries only in the journal, plus a staged temp file of the next batch."""
    manifest = Manifest.load(root)
    tail = manifest.files[-last:]
    manifest.files = manifest.files[:-last]
    manifest.save()
    with Journal(root) as journal:
        journal.append([Journal.intent(e) for e in tail])
        never_linked = {**tail[-1], "path": tail[-1]["path"].replace(".png", "9.png")}
        journal.append([Journal.intent(never_linked)])
    writer.stage(root / never_linked["path"], b"half")
    return tail


def test_a_killed_runs_journal_is_folded_by_the_next_run(digits_folder, model_dir) -> None:
    gen = load(model_dir)
    augment_folder(digits_folder, gen, max_share=1)
    written = synthetic_files(digits_folder)
    tail = kill_before_the_manifest(digits_folder, 3)
    job = Augmentation.prepare(digits_folder, gen, max_share=1)
    assert [(c.synthetic, c.generate) for c in job.plan.classes] == [(0, 0), (4, 0), (6, 0)]
    assert job.plan.adoptable == [] and job.plan.unrecorded == []  # no regeneration needed: the journal says
    summary = job.apply()
    assert summary.total == 0 and summary.temp_removed == 1
    assert manifest_paths(digits_folder) == set(written) and not (digits_folder / JOURNAL_NAME).exists()
    assert {e["path"] for e in tail} <= manifest_paths(digits_folder)
    assert synthetic_files(digits_folder) == written and not [p for p in tree(digits_folder) if p.endswith(".tmp")]


def test_staged_temp_names_are_the_contracts(tmp_path) -> None:
    staged = writer.stage(tmp_path / "synthetic-m-v1-s0-000001.png", b"x")
    assert SYNTHETIC_TEMP.match(staged.name) and staged.read_bytes() == b"x"


def test_gate_failed_class_is_skipped_naming_the_metric(digits_folder, make_model) -> None:
    model = make_model(failed={"2": ["kid 0.08 > 0.05 (n=6)", "precision 0.3 < 0.5 (n=6)"]})
    job = Augmentation.prepare(digits_folder, load(model), max_share=1)
    two = job.plan.classes[2]
    assert two.generate == 0 and "kid 0.08 > 0.05" in two.skipped and two.skip is SkipKind.GATE_FAILED
    assert any("'2'" in w and "kid" in w and "precision" in w for w in job.plan.warnings)
    assert job.apply().written == {"1": 4}


def test_unknown_classes_are_reported_not_guessed(digits_folder, make_model) -> None:
    model = make_model(classes=["0", "1", "9"])
    job = Augmentation.prepare(digits_folder, load(model), max_share=1)
    assert job.plan.classes[2].skipped == "not a class of the model"
    assert job.plan.model_classes_not_in_folder == ["9"]
    assert any("'2' is not a class of the model" in w for w in job.plan.warnings)
    assert job.apply().written == {"1": 4}
    assert not (digits_folder / "9").exists()


def test_ungated_model_is_refused_unless_allowed(digits_folder, make_model) -> None:
    model = make_model(ungated=True)
    with pytest.raises(ModelError, match="without the quality gate.*--allow-ungated"):
        Augmentation.prepare(digits_folder, load(model), max_share=1)
    job = Augmentation.prepare(digits_folder, load(model), allow_ungated=True, target=10, max_share=1)
    assert [c.generate for c in job.plan.classes] == [0, 2, 4]
    assert any("without the quality gate" in w for w in job.plan.warnings)


def test_channels_follow_each_class_and_native_size_is_the_median(tmp_path, make_model) -> None:
    folder = write_images(
        tmp_path / "mixed",
        {
            "0": [("RGB", (10, 6))] * 3 + [("RGB", (12, 12))] * 2,  # RGB; median 10x6
            "1": [("L", (9, 9)), ("L", (5, 7)), ("L", (20, 16))],  # gray; median_low 9x9
            "2": [("RGB", (4, 4))] * 2 + [("L", (4, 4))],  # mostly RGB
        },
    )
    gray_model, rgb_model = make_model(channels=1), make_model(channels=3)
    expect = {"0": ("RGB", (10, 6)), "1": ("L", (9, 9)), "2": ("RGB", (4, 4))}
    for model in (gray_model, rgb_model):
        out = tmp_path / f"out-{model.parent.name}"
        augment_folder(folder, load(model), target=6, out=out, max_share=1)
        for cls, (mode, size) in expect.items():
            for path in (out / cls).iterdir():
                with Image.open(path) as img:
                    assert (img.mode, img.size) == (mode, size), (model, path)
    out = tmp_path / "model-size"
    augment_folder(folder, load(rgb_model), target=6, out=out, size="model", fmt="jpg", max_share=1)
    with Image.open(next((out / "1").glob("*.jpg"))) as img:
        assert (img.format, img.mode, img.size) == ("JPEG", "L", (32, 32))


def test_bad_options_are_config_errors(digits_folder, model_dir) -> None:
    gen = load(model_dir)
    for kwargs in ({"fmt": "gif"}, {"size": "big"}, {"seed": -1}, {"classes": ["7"]}, {"target": "ratio:"}):
        with pytest.raises(ConfigError):
            Augmentation.prepare(digits_folder, gen, **kwargs)


def test_never_overwrites_a_file_that_appears_meanwhile(digits_folder, model_dir, monkeypatch) -> None:
    target = digits_folder / "1" / "notes.txt"  # not an image: no effect on counts
    target.write_bytes(b"user")
    staged = writer.stage(target, b"new")
    with pytest.raises(FileExistsError):
        writer.publish(staged, target)
    writer.discard([staged])
    assert target.read_bytes() == b"user" and [p.name for p in target.parent.glob(".*")] == []

    real_publish = writer.publish

    def racing(tmp, path):  # another process creates index 1 just before we link it
        if path.name.endswith("-000001.png") and path.parent.name == "2":
            path.write_bytes(b"someone else's")
        real_publish(tmp, path)

    monkeypatch.setattr(writer, "publish", racing)
    summary = augment_folder(digits_folder, load(model_dir), max_share=1)
    assert summary.written == {"1": 4, "2": 6} and summary.collisions == 1
    assert (digits_folder / "2" / "synthetic-tiny0-v1-s0-000001.png").read_bytes() == b"someone else's"
    assert "2/synthetic-tiny0-v1-s0-000006.png" in manifest_paths(digits_folder)


def test_files_deleted_by_hand_are_dropped_not_regenerated(digits_folder, model_dir) -> None:
    gen = load(model_dir)
    augment_folder(digits_folder, gen, max_share=1)
    (digits_folder / "2" / "synthetic-tiny0-v1-s0-000002.png").unlink()
    job = Augmentation.prepare(digits_folder, gen, max_share=1)
    assert job.plan.gone == ["2/synthetic-tiny0-v1-s0-000002.png"] and job.plan.classes[2].generate == 1
    assert job.apply().dropped_gone == 1
    assert "2/synthetic-tiny0-v1-s0-000006.png" in manifest_paths(digits_folder)
    assert not (digits_folder / "2" / "synthetic-tiny0-v1-s0-000002.png").exists()


def test_a_second_run_on_the_same_folder_is_refused_while_one_holds_it(digits_folder, model_dir) -> None:
    from augment_gan.augment import FolderBusyError
    from augment_gan.augment.lock import folder_lock

    job = Augmentation.prepare(digits_folder, load(model_dir), max_share=1)
    with folder_lock(digits_folder), pytest.raises(FolderBusyError, match="another augment-gan"):
        job.apply()
    assert synthetic_files(digits_folder) == {}


def test_file_i_of_class_c_is_the_datasets_sample_i(digits_folder, model_dir, tmp_path) -> None:
    """The noise of file i of class c is default_rng([seed, c, i]): BalancedDataset's sample i."""
    import numpy as np

    from augment_gan.runtime.latents import sample_latent

    gen = load(model_dir)
    augment_folder(digits_folder, gen, out=tmp_path / "o", size="model", seed=5, max_share=1)
    with Image.open(tmp_path / "o" / "2" / "synthetic-tiny0-v1-s5-000003.png") as img:
        pixels = np.asarray(img)
    expected = gen.generate_from_latents(sample_latent(5, 2, 3, gen.latent_dim), [2])[0, :, :, 0]
    assert np.array_equal(pixels, expected)


def test_read_only_folder_is_a_clear_error(digits_folder, model_dir) -> None:
    import os

    folder = digits_folder / "2"
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: chmod does not make the folder read-only (ENOSPC test covers this)")
        with pytest.raises(AugmentWriteError, match="Permission denied") as info:
            augment_folder(digits_folder, load(model_dir), max_share=1)
        assert "4 file(s)" in str(info.value)  # class 1's files went through and are recorded
        assert len(manifest_paths(digits_folder)) == 4
    finally:
        folder.chmod(0o755)


def test_augment_shows_the_plan_and_a_dry_run_writes_nothing(digits_folder, model_dir) -> None:
    from augment_gan.augment import augment
    from augment_gan.events import Events

    class Seen(Events):
        def __init__(self) -> None:
            self.plans, self.files = [], []

        def planned(self, plan) -> None:
            self.plans.append(plan)

        def wrote(self, cls: str, path) -> None:
            self.files.append((cls, path))

    before = sorted(p.relative_to(digits_folder).as_posix() for p in digits_folder.rglob("*"))
    seen = Seen()
    assert augment(digits_folder, model_dir, dry_run=True, events=seen) is None
    assert sorted(p.relative_to(digits_folder).as_posix() for p in digits_folder.rglob("*")) == before
    assert seen.files == []
    summary = augment(digits_folder, model_dir, events=seen)
    assert len(seen.plans) == 2 and seen.plans[0].to_generate == seen.plans[1].to_generate == summary.total > 0
    assert len(seen.files) == summary.total and all(path.is_file() for _, path in seen.files)


def test_selection_is_on_by_default_and_no_select_writes_the_unselected_stream(digits_folder, tmp_path) -> None:
    """With a judge in the model dir, file i of class c is selected sample i (the Datasets'
    sample i); ``select=False`` writes the raw stream."""
    import numpy as np

    from augment_gan.runtime.generator import OnnxGenerator
    from augment_gan.runtime.latents import sample_latents
    from tests.export.helpers import write_selecting_model

    model = write_selecting_model(tmp_path / "models", ["0", "1", "2"])
    gen = OnnxGenerator.load(model, providers=["CPUExecutionProvider"], intra_op_threads=1)

    def written(out: Path, select: bool) -> np.ndarray:
        summary = augment_folder(
            digits_folder,
            model,
            models_dir=tmp_path / "models",
            out=out,
            size="model",
            seed=5,
            select=select,
            max_share=1,
        )
        if select:  # what selection did is in the summary: more candidates than files, some rejected
            s = summary.selection
            assert s["candidates"] > s["accepted"] >= summary.total - s["fallbacks"] > 0
        else:
            assert summary.selection is None
        files = sorted((out / "2").glob("synthetic-*.png"))
        return np.stack([np.asarray(Image.open(f)) for f in files])

    on, off = written(tmp_path / "on", True), written(tmp_path / "off", False)
    n = len(on)
    assert n == len(off) == 6  # class 2 has 6 real images, filled to 12
    assert np.array_equal(on, gen.samples(2, 5, range(n))[..., 0])
    raw = gen.generate_from_latents(sample_latents(5, 2, list(range(n)), gen.latent_dim), np.full(n, 2))[..., 0]
    assert np.array_equal(off, raw)
    kept = gen.selector.check(raw[..., None], np.full(n, 2)).accepted
    assert np.array_equal(on[kept], raw[kept]) and not np.array_equal(on[~kept], raw[~kept])
