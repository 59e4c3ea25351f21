"""SIGKILL a real ``augment`` process at many points: ``clean`` alone restores the exact tree.

Issue 12: a ``kill -9`` mid-run left synthetic files the manifest did not list (and a
hidden temp file); ``clean`` then deleted the manifest and left them in the class folders,
where ImageFolder reads them as real images. The kill points are observed from outside
(no hook in the product): after k files have their names, when the journal or a staged
temp file first appears, when the manifest appears, and after a few random delays.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from augment_gan.augment import augment_folder, clean_folder
from tests.augment.conftest import load, tree

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TARGET = 400  # the digits folder (12, 8, 6 real) gets 1174 files: about a second of writing
SCRIPT = """
import sys
from augment_gan.augment import augment_folder
from augment_gan.runtime.generator import OnnxGenerator
gen = OnnxGenerator.load(sys.argv[2], providers=["CPUExecutionProvider"], intra_op_threads=1)
print("ready", flush=True)
augment_folder(sys.argv[1], gen, target=int(sys.argv[3]), batch_size=int(sys.argv[4]), out=sys.argv[5] or None, max_share=1)
"""


def named_files(root: Path) -> int:
    """How many generated files have their final name (what a user sees in the class folders)."""
    n = 0
    for entry in os.scandir(root):
        if entry.is_dir() and not entry.name.startswith("."):
            n += sum(name.startswith("synthetic-") for name in os.listdir(entry.path))
    return n


def any_temp(root: Path) -> bool:
    return any(
        name.startswith(".synthetic-")
        for entry in os.scandir(root)
        if entry.is_dir() and not entry.name.startswith(".")
        for name in os.listdir(entry.path)
    )


def kill_when(
    folder: Path, model: Path, when: Callable[[float], bool], *, batch_size: int = 64, out: Path | None = None
) -> bool:
    """Start augment in a subprocess, SIGKILL it once ``when(seconds since it started)`` holds;
    whether it was still running then."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(folder), str(model), str(TARGET), str(batch_size), str(out or "")],
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        start = time.monotonic()
        while not when(time.monotonic() - start) and proc.poll() is None and time.monotonic() < start + 60:
            time.sleep(0.0005)
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    return running


def files_named(root: Path, k: int) -> Callable[[float], bool]:
    return lambda _: named_files(root) >= k


def kill_points(folder: Path, seed: int) -> list[tuple[str, Callable[[float], bool]]]:
    points = [(f"{k} files named", files_named(folder, k)) for k in (1, 63, 64, 65, 130, 600, 1100)]
    points += [
        ("journal appears", lambda _: (folder / ".augment-gan-manifest.journal").exists()),
        ("first temp file", lambda _: any_temp(folder)),
        ("manifest appears", lambda _: (folder / ".augment-gan-manifest.json").exists()),
    ]
    rng = random.Random(seed)
    for delay in sorted(rng.uniform(0.0, 1.0) for _ in range(3)):
        points.append((f"after {delay:.3f} s", lambda elapsed, end=delay: elapsed >= end))
    return points


def test_clean_alone_restores_the_exact_tree_after_a_kill_anywhere(digits_folder, model_dir) -> None:
    before = tree(digits_folder)
    killed_mid_run = 0
    for name, when in kill_points(digits_folder, seed=12):
        killed_mid_run += kill_when(digits_folder, model_dir, when)
        result = clean_folder(digits_folder)
        assert tree(digits_folder) == before, f"killed at {name}: clean left {result.to_dict()}"
    assert killed_mid_run >= 8  # the file-count points at least land mid-run


def test_a_run_after_a_kill_completes_and_clean_restores_the_tree(digits_folder, model_dir, tmp_path) -> None:
    before = tree(digits_folder)
    reference = tmp_path / "reference"
    augment_folder(digits_folder, load(model_dir), target=TARGET, out=reference, max_share=1)  # uninterrupted
    expected = {k: v for k, v in tree(reference).items() if "/synthetic-" in k}
    for k in (1, 100, 700):
        assert kill_when(digits_folder, model_dir, files_named(digits_folder, k))
        # a second kill, of the run that picks up the pieces
        kill_when(digits_folder, model_dir, files_named(digits_folder, k + 70), batch_size=32)
        summary = augment_folder(digits_folder, load(model_dir), target=TARGET, max_share=1)
        got = {k: v for k, v in tree(digits_folder).items() if "/synthetic-" in k}
        assert got == expected, f"kill at {k}: the resumed run differs from an uninterrupted one ({summary.to_dict()})"
        assert not [p for p in tree(digits_folder) if p.endswith((".tmp", ".journal"))]
        clean_folder(digits_folder)
        assert tree(digits_folder) == before


def test_out_folder_clean_after_a_kill(digits_folder, model_dir, tmp_path) -> None:
    before = tree(digits_folder)
    out = tmp_path / "synthetic"
    for k in (1, 300):
        assert kill_when(digits_folder, model_dir, lambda _, k=k: out.is_dir() and named_files(out) >= k, out=out)
        clean_folder(out)
        assert not out.exists() and tree(digits_folder) == before
