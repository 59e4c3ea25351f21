"""Reading a folder, its model and its manifest into an :class:`AugmentPlan`; nothing is written.

- Real counts come from the scanner with generated files excluded (recorded or intended
  in the manifest, and ``<class>/synthetic-*`` files it does not list), so augmenting
  never compounds.
- What the folder already holds: the manifest's files that still exist (a killed augment's
  journal folded in); the ones deleted by hand are ``gone`` (dropped by apply, their
  indices not generated again); unlisted ``synthetic-`` files of this very stream are
  adopted when their bytes match (:mod:`augment_gan.augment.adopt`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from augment_gan.augment import writer
from augment_gan.augment.adopt import adoptable, unlisted_in
from augment_gan.augment.options import Options, Stream
from augment_gan.augment.plan import plan_classes
from augment_gan.augment.report import AugmentPlan, plan_warnings
from augment_gan.contracts.manifest import SYNTHETIC_NAME, Entry, Manifest, generated_paths
from augment_gan.contracts.model_dir import require_gated
from augment_gan.data.folder import FolderScan, scan_folder
from augment_gan.errors import ConfigError
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.plan import gate_failure


@dataclass
class FolderFiles:
    """What the folder (and the output folder's manifest) holds."""

    data_root: Path
    out_root: Path  # where the files and the manifest go: data_root, or --out
    real: dict[str, list[Path]]  # class -> its real images
    unlisted: list[str]  # <class>/synthetic-* files in the output folder the manifest does not know
    manifest: Manifest  # of the output folder
    live: list[Entry]  # its files that exist
    gone: list[Entry]  # its files deleted since


class OutputSpecs:
    """(mode, (width, height)) of the files written for each class, from its real images."""

    def __init__(self, gen: OnnxGenerator, real: dict[str, list[Path]], size: str) -> None:
        self._gen, self._real, self._size = gen, real, size
        self._known: dict[str, tuple[str, tuple[int, int]]] = {}

    def __call__(self, name: str) -> tuple[str, tuple[int, int]]:
        if name not in self._known:
            model_size = (self._gen.resolution, self._gen.resolution)
            found = writer.real_format(self._real[name])
            mode, native = found if found else ("L" if self._gen.channels == 1 else "RGB", model_size)
            self._known[name] = (mode, native if self._size == "native" else model_size)
        return self._known[name]


@dataclass
class Prepared:
    """Everything applying the plan needs, read before anything is written."""

    plan: AugmentPlan
    generator: OnnxGenerator
    manifest: Manifest
    stream: Stream
    specs: OutputSpecs
    adopt: list[Entry]  # unrecorded files of this stream that apply records
    batch_size: int
    created_out: bool  # apply creates the output folder (clean removes it once empty)
    follow_links: bool = False  # class folders resolving outside out_root may be written


def prepare_augmentation(
    data_dir: str | Path,
    model: str | Path | OnnxGenerator,
    models_dir: str | Path,
    classes: Iterable[str] | str | None,
    out: str | Path | None,
    opts: Options,
) -> Prepared:
    """Scan, load the model, read the manifest and plan (see :meth:`Augmentation.prepare`)."""
    scan = scan_folder(data_dir, include_synthetic=True)
    out_root = output_root(scan.root, out)
    selected = selected_classes(classes, scan)
    gen = load_generator(model, models_dir, opts.allow_ungated, opts.select)
    card = gen.card
    stream = Stream(str(card.get("name", gen.model_dir.parent.name)), card.get("version", "0"), opts.seed, opts.fmt)
    found = read_folder(scan, out_root, in_place=out is None)
    specs = OutputSpecs(gen, found.real, opts.size)
    adopt, unrecorded = adoptable(gen, out_root, found.unlisted, stream, specs, opts.batch_size)
    plan = make_plan(gen, opts, stream, selected, found, specs, adopt, unrecorded)
    created_out = out is not None and not out_root.exists()
    return Prepared(plan, gen, found.manifest, stream, specs, adopt, opts.batch_size, created_out, opts.follow_links)


def output_root(data_root: Path, out: str | Path | None) -> Path:
    """Where files and manifest go: the data folder, or ``--out`` (outside it)."""
    if out is None:
        return data_root
    out_root = Path(out).expanduser().resolve()
    if out_root == data_root or out_root in data_root.parents or data_root in out_root.parents:
        raise ConfigError(f"--out {out_root} must be outside {data_root} (and not contain it).")
    if out_root.exists() and not out_root.is_dir():
        raise ConfigError(f"--out {out_root} exists and is not a folder.")
    return out_root


def resolves_outside(root: Path, name: str) -> Path | None:
    """Where ``root/name`` really is when that is outside ``root`` (a symlink, or under one); else None."""
    where = (root / name).resolve()
    return None if root in where.parents else where


def selected_classes(classes: Iterable[str] | str | None, scan: FolderScan) -> list[str] | None:
    """``--classes`` (a list, or one comma-separated string) checked against the folder; None = all."""
    if classes is None:
        return None
    names = classes.split(",") if isinstance(classes, str) else classes
    selected = [c.strip() for c in names if c.strip()]
    unknown = sorted(set(selected) - set(scan.classes))
    if unknown or not selected:
        raise ConfigError(
            f"--classes names {unknown or 'no class'}, not classes of {scan.root}; its classes are {scan.classes}."
        )
    return selected


def load_generator(
    model: str | Path | OnnxGenerator, models_dir: str | Path, allow_ungated: bool, select: bool = True
) -> OnnxGenerator:
    """The model; a given OnnxGenerator keeps its own ``select``."""
    gen = (
        model
        if isinstance(model, OnnxGenerator)
        else OnnxGenerator.load(model, models_dir=models_dir, lazy=True, select=select)
    )
    if not allow_ungated:
        require_gated(gen.model_dir, gen.card, "--allow-ungated")
    return gen


def read_folder(scan: FolderScan, out_root: Path, *, in_place: bool) -> FolderFiles:
    """Split the scan into real and generated files, and read the output folder's manifest."""
    generated = generated_paths(scan.root)
    real: dict[str, list[Path]] = {c: [] for c in scan.classes}
    unlisted: list[str] = []
    for f in scan.files:
        if f.rel in generated:
            continue
        if f.path.parent == scan.root / f.class_name and SYNTHETIC_NAME.match(f.path.name):
            unlisted.append(f.rel)  # generated-looking: never real
            continue
        real[f.class_name].append(f.path)
    manifest = Manifest.load(out_root)
    if not in_place:
        unlisted = unlisted_in(out_root, scan.classes, manifest)
    live, gone = [], []
    for entry in manifest.files:
        (live if os.path.lexists(out_root / entry["path"]) else gone).append(entry)
    return FolderFiles(scan.root, out_root, real, unlisted, manifest, live, gone)


def make_plan(
    gen: OnnxGenerator,
    opts: Options,
    stream: Stream,
    selected: list[str] | None,
    found: FolderFiles,
    specs: OutputSpecs,
    adopt: list[Entry],
    unrecorded: list[str],
) -> AugmentPlan:
    """The plan for what the folder holds, with its warnings."""
    synthetic = Counter(e["class"] for e in found.live + adopt if e["class"] in found.real)

    root_name = "DATA_DIR" if found.out_root == found.data_root else "--out"

    def outside(name: str) -> str | None:
        if opts.follow_links or (where := resolves_outside(found.out_root, name)) is None:
            return None
        return f"it resolves to {where}, outside {root_name}; pass --follow-links to write there"

    plans = plan_classes(
        {c: len(p) for c, p in found.real.items()},
        dict(synthetic),
        opts.target,
        model_classes=gen.classes,
        gate_failure=partial(gate_failure, gen.card),
        outside=outside,
        selected=selected,
        max_share=opts.max_share,
    )
    for p in plans:
        if p.generate:
            p.mode, p.size = specs(p.name)
    plan = AugmentPlan(
        data_dir=found.data_root,
        out_dir=found.out_root,
        model_dir=gen.model_dir,
        model=stream.model,
        model_version=stream.version,
        gate_ran=gen.gate_ran,
        target=opts.target.text,
        target_count=plans[0].target if plans else 0,
        seed=opts.seed,
        format=opts.fmt,
        size=opts.size,
        max_share=None if opts.max_share is None else float(opts.max_share),
        classes=plans,
        model_classes_not_in_folder=[c for c in gen.classes if c not in found.real],
        gone=[e["path"] for e in found.gone],
        unrecorded=unrecorded,
        adoptable=[e["path"] for e in adopt],
    )
    plan.warnings = plan_warnings(plan)
    return plan
