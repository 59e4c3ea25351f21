"""augment and clean never write or delete outside the folder they were given, unless told
to: a class folder that is a symlink resolving elsewhere is skipped (and named in the plan)
without ``follow_links``."""

from __future__ import annotations

from pathlib import Path

from augment_gan.augment import Augmentation, SkipKind, augment_folder, clean_folder
from tests.augment.conftest import load, tree


def link_class(folder: Path, cls: str, shared: Path) -> Path:
    """Move ``folder/cls`` to ``shared/cls`` and leave a symlink in its place; the target."""
    shared.mkdir()
    target = shared / cls
    (folder / cls).rename(target)
    (folder / cls).symlink_to(target, target_is_directory=True)
    return target


def synthetic_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("synthetic-"))


def test_a_class_folder_linked_outside_is_not_written_by_default(tmp_path, digits_folder, model_dir) -> None:
    target = link_class(digits_folder, "2", tmp_path / "shared")
    before = tree(target)
    summary = augment_folder(digits_folder, load(model_dir), max_share=1)
    assert tree(target) == before
    assert summary.written == {"1": 4}


def test_the_plan_names_why_a_linked_class_is_skipped(tmp_path, digits_folder, model_dir) -> None:
    target = link_class(digits_folder, "2", tmp_path / "shared")
    by = {c.name: c for c in Augmentation.prepare(digits_folder, load(model_dir), max_share=1).plan.classes}
    assert by["2"].skip is SkipKind.LINK_OUTSIDE and by["2"].generate == 0
    assert by["2"].skipped == (
        f"class folder is a symlink: it resolves to {target.resolve()}, outside DATA_DIR; "
        "pass --follow-links to write there"
    )


def test_a_link_inside_the_folder_is_written(digits_folder, model_dir) -> None:
    (digits_folder / "2").rename(digits_folder / ".two")
    (digits_folder / "2").symlink_to(digits_folder / ".two", target_is_directory=True)
    assert augment_folder(digits_folder, load(model_dir), max_share=1).written == {"1": 4, "2": 6}


def test_follow_links_writes_into_the_target(tmp_path, digits_folder, model_dir) -> None:
    target = link_class(digits_folder, "2", tmp_path / "shared")
    summary = augment_folder(digits_folder, load(model_dir), follow_links=True, max_share=1)
    assert summary.written == {"1": 4, "2": 6} and len(synthetic_in(target)) == 6


def test_clean_keeps_files_behind_a_link_unless_follow_links(tmp_path, digits_folder, model_dir) -> None:
    target = link_class(digits_folder, "2", tmp_path / "shared")
    before = tree(target)
    augment_folder(digits_folder, load(model_dir), follow_links=True, max_share=1)
    linked = [f"2/{name}" for name in synthetic_in(target)]
    kept = clean_folder(digits_folder)
    assert kept.kept_other == linked and len(synthetic_in(target)) == 6
    cleaned = clean_folder(digits_folder, follow_links=True)
    assert cleaned.removed == linked and tree(target) == before


def test_out_checks_the_links_of_the_out_tree(tmp_path, digits_folder, model_dir) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (out / "2").symlink_to(target, target_is_directory=True)
    summary = augment_folder(digits_folder, load(model_dir), out=out, max_share=1)
    assert summary.written == {"1": 4} and list(target.iterdir()) == []
    assert summary.plan.classes[2].skip_detail == (
        f"it resolves to {target.resolve()}, outside --out; pass --follow-links to write there"
    )
