"""``augment``: fill the small classes of an image folder with gated synthetic images.

:meth:`Augmentation.prepare` reads everything (folder, model, manifest) and makes the
plan without writing; :meth:`Augmentation.run` carries it out. Guarantees:

- Real counts come from the scanner with generated files excluded (manifest-listed
  ones, and ``<class>/synthetic-*`` files it does not list), so augmenting never compounds.
- File index i of class c is generated from the latent
  ``np.random.default_rng([seed, c, i]).standard_normal((1, latent_dim))`` (c = the model's
  class index) -- the same sample as ``BalancedDataset``/``SyntheticDataset`` with that
  seed -- so a top-up continues the stream: a second run with the same target writes 0
  files, a higher target writes only the difference, and nothing is deleted.
- Every file is new (never overwrites), written whole then linked into place; the
  manifest is rewritten atomically after every batch, on Ctrl-C and on a write error.
- A ``synthetic-`` file of this run's stream found on disk but missing from the manifest
  (killed between writing it and the manifest) is adopted when its bytes equal what this
  run would write for its index; otherwise it is left as it is, its index skipped, and it
  is reported -- never counted as real, never overwritten.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from augment_gan.fileio import fsync_dir
from augment_gan.augment import writer
from augment_gan.augment.manifest import (
    SYNTHETIC_NAME,
    Manifest,
    StreamKey,
    folder_lock,
    index_in_stream,
    stream_prefix,
    synthetic_name,
    utc_now,
)
from augment_gan.augment.plan import (
    AugmentPlan,
    AugmentSummary,
    ClassPlan,
    parse_max_share,
    parse_target,
    plan_classes,
    plan_warnings,
)
from augment_gan.data.folder import read_manifest_paths, scan_folder
from augment_gan.errors import AugmentGanError, ConfigError
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.latents import sample_latents
from augment_gan.contracts.model_dir import require_gated, sha256_file

SIZES = ("native", "model")
SAVE_COST_RATIO = 20  # save the manifest when the time since the last save is >= 20x its cost


class AugmentWriteError(AugmentGanError):
    """The target folder could not be written (read-only, full, ...); what was written is recorded."""


class AugmentInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM via the CLI) during a run; the manifest matches the files written."""

    def __init__(self, written: int, manifest: Path) -> None:
        super().__init__(f"interrupted after {written} files; the manifest {manifest} lists them.")
        self.written = written
        self.manifest = manifest


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _load_generator(model: str | Path | OnnxGenerator, models_dir: str | Path) -> OnnxGenerator:
    if isinstance(model, OnnxGenerator):
        return model
    return OnnxGenerator.load(model, models_dir=models_dir, lazy=True)


class Augmentation:
    """A prepared augment run. ``prepare`` reads only; ``run`` writes.

    Example::

        job = Augmentation.prepare("data/train", "digits", target="max", max_share=0.25)
        print(job.plan.to_dict())
        summary = job.run()           # summary.total files written
    """

    def __init__(self, plan: AugmentPlan, generator: OnnxGenerator, manifest: Manifest,
                 specs: dict[str, tuple[str, tuple[int, int]]], adopt: list[dict[str, Any]],
                 batch_size: int, created_out: bool) -> None:
        self.plan = plan
        self.generator = generator
        self._manifest = manifest
        self._specs = specs
        self._adopt = adopt
        self._batch_size = batch_size
        self._created_out = created_out
        self._ran = False

    # --- planning ---------------------------------------------------------------------
    @classmethod
    def prepare(
        cls,
        data_dir: str | Path,
        model: str | Path | OnnxGenerator,
        *,
        models_dir: str | Path = "models",
        target: str | int = "max",
        classes: Iterable[str] | None = None,
        out: str | Path | None = None,
        fmt: str = "png",
        size: str = "native",
        seed: int = 0,
        max_share: float | None = None,
        allow_ungated: bool = False,
        batch_size: int = 64,
    ) -> Augmentation:
        """Scan, load the model, read the manifest and plan; nothing is written.

        Raises ConfigError (bad option), DataError (bad folder or manifest), ModelError
        (no such model, tampered, or ungated without ``allow_ungated``).
        """
        tgt = parse_target(target)
        share = parse_max_share(max_share)
        if fmt not in writer.FORMATS:
            raise ConfigError(f"--format must be png or jpg, got {fmt!r}.")
        if size not in SIZES:
            raise ConfigError(f"--size must be native or model, got {size!r}.")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"--seed must be a non-negative integer, got {seed!r}.")
        if batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, got {batch_size}.")
        scan = scan_folder(data_dir, include_synthetic=True)
        data_root = scan.root
        out_root = data_root if out is None else Path(out).expanduser().resolve()
        if out is not None and _overlaps(out_root, data_root):
            raise ConfigError(f"--out {out_root} must be outside {data_root} (and not contain it).")
        if out_root.exists() and not out_root.is_dir():
            raise ConfigError(f"--out {out_root} exists and is not a folder.")
        selected = None
        if isinstance(classes, str):
            classes = classes.split(",")
        if classes is not None:
            selected = [c.strip() for c in classes if c.strip()]
            unknown = sorted(set(selected) - set(scan.classes))
            if unknown or not selected:
                raise ConfigError(f"--classes names {unknown or 'no class'}, not classes of {data_root}; "
                                  f"its classes are {scan.classes}.")

        gen = _load_generator(model, models_dir)
        if not allow_ungated:
            require_gated(gen.model_dir, gen.card, "--allow-ungated")
        card = gen.card
        model_name, model_version = str(card.get("name", gen.model_dir.parent.name)), card.get("version", "0")
        prefix = stream_prefix(model_name, model_version, int(seed))

        # real files: the scanner's, minus generated ones (listed, or synthetic-named at <class>/)
        listed_in_data = read_manifest_paths(data_root)
        real: dict[str, list[Path]] = {c: [] for c in scan.classes}
        on_disk_unlisted: list[str] = []
        for f in scan.files:
            if f.rel in listed_in_data:
                continue
            if f.path.parent == data_root / f.class_name and SYNTHETIC_NAME.match(f.path.name):
                if out is None:
                    on_disk_unlisted.append(f.rel)
                continue
            real[f.class_name].append(f.path)
        manifest = Manifest.load(out_root)
        if out is not None:
            on_disk_unlisted = cls._unlisted_in(out_root, scan.classes, manifest)

        live, gone = [], []
        for entry in manifest.files:
            (live if os.path.lexists(out_root / entry["path"]) else gone).append(entry)
        synthetic = Counter(e["class"] for e in live if e["class"] in real)

        specs: dict[str, tuple[str, tuple[int, int]]] = {}

        def spec(name: str) -> tuple[str, tuple[int, int]]:
            if name not in specs:
                found = writer.real_format(real[name])
                model_mode = "L" if gen.channels == 1 else "RGB"
                mode, native = found if found else (model_mode, (gen.resolution, gen.resolution))
                specs[name] = (mode, native if size == "native" else (gen.resolution, gen.resolution))
            return specs[name]

        # adopt files of this very stream that a killed run wrote but did not record
        adopt, unrecorded = cls._adoptable(gen, out_root, on_disk_unlisted, prefix, fmt, int(seed), spec, model_name,
                                           model_version, batch_size)
        for entry in adopt:
            synthetic[entry["class"]] += 1

        def gate_failure(name: str) -> str | None:
            if not gen.gate_ran or gen.gate_passed(name):
                return None
            return "; ".join(gen.gate_reasons(name))

        plans = plan_classes({c: len(p) for c, p in real.items()}, dict(synthetic), tgt,
                             model_classes=gen.classes, gate_failure=gate_failure, selected=selected, max_share=share)
        for p in plans:
            if p.generate:
                p.mode, p.size = spec(p.name)
        plan = AugmentPlan(
            data_dir=data_root, out_dir=out_root, model_dir=gen.model_dir, model=model_name,
            model_version=model_version, gate_ran=gen.gate_ran, target=tgt.text,
            target_count=plans[0].target if plans else 0, seed=int(seed), format=fmt, size=size,
            max_share=None if share is None else float(share), classes=plans,
            model_classes_not_in_folder=[c for c in gen.classes if c not in real],
            gone=[e["path"] for e in gone], unrecorded=unrecorded, adoptable=[e["path"] for e in adopt],
        )
        plan.warnings = plan_warnings(plan)
        return cls(plan, gen, manifest, specs, adopt, batch_size, out is not None and not out_root.exists())

    @staticmethod
    def _unlisted_in(root: Path, classes: list[str], manifest: Manifest) -> list[str]:
        listed = {e["path"] for e in manifest.files}
        found = []
        for name in classes:
            try:
                entries = sorted(os.listdir(root / name))
            except OSError:
                continue
            found += [f"{name}/{f}" for f in entries if SYNTHETIC_NAME.match(f) and f"{name}/{f}" not in listed]
        return found

    @staticmethod
    def _adoptable(gen, root, unlisted, prefix, fmt, seed, spec, model_name, model_version, batch_size):
        """Split unlisted synthetic files into (entries to adopt, paths left as they are)."""
        adopt, unrecorded = [], []
        candidates: dict[str, list[tuple[int, str]]] = {}
        for rel in unlisted:
            cls_name, fname = rel.split("/", 1)
            hit = index_in_stream(fname, prefix)
            if hit is None or hit[1] != fmt or cls_name not in gen.classes:
                unrecorded.append(rel)
            else:
                candidates.setdefault(cls_name, []).append((hit[0], rel))
        for cls_name, items in candidates.items():
            c = gen.classes.index(cls_name)
            mode, size = spec(cls_name)
            for start in range(0, len(items), batch_size):
                chunk = items[start:start + batch_size]
                arrays = gen.generate_from_latents(sample_latents(seed, c, [i for i, _ in chunk], gen.latent_dim),
                                                   np.full(len(chunk), c), batch_size=batch_size)
                for (index, rel), array in zip(chunk, arrays):
                    digest = writer.sha256_bytes(writer.encode(writer.to_output(array, mode, size), fmt))
                    try:
                        same = sha256_file(root / rel) == digest
                    except OSError:
                        same = False
                    if not same:
                        unrecorded.append(rel)
                        continue
                    adopt.append({"path": rel, "sha256": digest, "class": cls_name, "model": model_name,
                                  "model_version": model_version, "seed": seed, "index": index,
                                  "created": utc_now(), "adopted": True})
        return adopt, unrecorded

    # --- running ----------------------------------------------------------------------
    def run(self, on_file: Callable[[str, Path], None] | None = None) -> AugmentSummary:
        """Write the planned files; ``on_file(class, path)`` after each one.

        Raises AugmentInterrupted on Ctrl-C and AugmentWriteError on a write error, both
        after writing a manifest that lists exactly the files on disk.
        """
        if self._ran:
            raise RuntimeError("an Augmentation runs once; prepare a new one (its plan is out of date).")
        self._ran = True
        plan, m = self.plan, self._manifest
        root = plan.out_dir
        t0 = time.perf_counter()
        self._written = {c.name: 0 for c in plan.classes if c.generate}
        self._collisions = 0
        self._current: Path = m.path
        self._unsynced: list[Path] = []
        self._saved_at, self._save_cost = 0.0, 0.0
        if not (plan.to_generate or plan.gone or self._adopt):
            return AugmentSummary(plan, self._written, time.perf_counter() - t0)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise AugmentWriteError(f"cannot create {root}: {e.strerror or e}.") from None
        with folder_lock(root):
            if m.changed_on_disk():
                raise AugmentGanError(f"{m.path} changed since the plan was made (another run?); run again.")
            temp_removed = self._remove_stale_temps()
            gone = set(plan.gone)
            m.files = [e for e in m.files if e["path"] not in gone] + self._adopt
            if self._created_out and "." not in m.dirs:
                m.dirs.append(".")
            try:
                if gone or self._adopt or self._created_out:
                    m.save()
                for cp in plan.classes:
                    if cp.generate:
                        self._fill(cp, on_file)
            except BaseException as e:
                note = self._flush_after_failure()
                written = sum(self._written.values())
                if isinstance(e, KeyboardInterrupt):
                    raise AugmentInterrupted(written, m.path) from None
                if isinstance(e, OSError):
                    raise AugmentWriteError(
                        f"cannot write {self._current}: {e.strerror or e}; the {written} file(s) "
                        f"written before that are recorded in {m.path}{note}."
                    ) from None
                raise
        return AugmentSummary(plan, self._written, time.perf_counter() - t0, adopted=len(self._adopt),
                              dropped_gone=len(gone), temp_removed=temp_removed, collisions=self._collisions)

    def _flush_after_failure(self) -> str:
        """Write the manifest listing only files that exist; '' or why it could not be written."""
        m = self._manifest
        m.files = [e for e in m.files if os.path.lexists(m.root / e["path"])]
        try:
            self._save(force=True)
        except BaseException as e:  # noqa: BLE001 - a full disk can fail this too
            return (f" -- except that the manifest could not be updated either ({getattr(e, 'strerror', None) or e}); "
                    "the next run adopts the files it misses")
        return ""

    def _remove_stale_temps(self) -> int:
        """Hidden temp files of a killed run (we hold the lock, so no live run owns them)."""
        root, removed = self.plan.out_dir, 0
        folders = [(root, f".{Manifest(root).path.name}.")] + [(root / c.name, ".synthetic-") for c in self.plan.classes]
        for folder, prefix in folders:
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                if name.startswith(prefix) and name.endswith(".tmp"):
                    (folder / name).unlink(missing_ok=True)
                    removed += 1
        return removed

    def _fill(self, cp: ClassPlan, on_file: Callable[[str, Path], None] | None) -> None:
        plan, m, gen = self.plan, self._manifest, self.generator
        folder = plan.out_dir / cp.name
        if not folder.is_dir():
            self._current = folder
            folder.mkdir()
            if cp.name not in m.dirs:
                m.dirs.append(cp.name)
        key: StreamKey = (cp.name, plan.model, str(plan.model_version), plan.seed)
        prefix = stream_prefix(plan.model, plan.model_version, plan.seed)
        used = [e["index"] for e in m.files if (e["class"], e.get("model"), str(e.get("model_version")), e["seed"]) == key]
        used += [hit[0] for name in os.listdir(folder) if (hit := index_in_stream(name, prefix))]
        index = max([m.stream_next(key), *(i + 1 for i in used)])
        mode, size = self._specs[cp.name]
        remaining = cp.generate
        while remaining > 0:
            batch: list[Path] = []
            indices = list(range(index, index + min(self._batch_size, remaining)))
            index += len(indices)
            arrays = gen.generate_from_latents(sample_latents(plan.seed, cp.model_index, indices, gen.latent_dim),
                                               np.full(len(indices), cp.model_index), batch_size=self._batch_size)
            for i, array in zip(indices, arrays):
                data = writer.encode(writer.to_output(array, mode, size), plan.format)
                rel = f"{cp.name}/{synthetic_name(plan.model, plan.model_version, plan.seed, i, plan.format)}"
                m.files.append({"path": rel, "sha256": writer.sha256_bytes(data), "class": cp.name,
                                "model": plan.model, "model_version": plan.model_version, "seed": plan.seed,
                                "index": i, "created": utc_now()})
                self._current = plan.out_dir / rel
                try:
                    writer.write_exclusive(self._current, data, fsync=False)
                except FileExistsError:  # appeared since the plan: never replaced, index skipped
                    m.files.pop()
                    m.streams[key] = i + 1
                    self._collisions += 1
                    continue
                m.streams[key] = i + 1
                batch.append(self._current)
                self._written[cp.name] += 1
                remaining -= 1
                if on_file is not None:
                    on_file(cp.name, self._current)
            self._unsynced += batch
            self._save(force=remaining == 0)

    def _save(self, force: bool) -> None:
        """fsync the new files, then save the manifest: after every batch while saving is cheap,
        less often once the manifest is big (at most ~5 % of the run's time goes to it). Files
        written but not yet listed when the process is killed are adopted by the next run."""
        start = time.perf_counter()
        if not force and start - self._saved_at < SAVE_COST_RATIO * self._save_cost:
            return
        # Durable before the manifest names them: after a power loss the manifest only lists
        # complete files (an unlisted damaged one is reported, never adopted or counted).
        writer.fsync_paths(self._unsynced)
        for folder in {p.parent for p in self._unsynced}:
            fsync_dir(folder)
        self._unsynced = []
        self._current = self._manifest.path
        self._manifest.save()
        self._saved_at = time.perf_counter()
        self._save_cost = self._saved_at - start


def augment_folder(
    data_dir: str | Path,
    model: str | Path | OnnxGenerator,
    *,
    models_dir: str | Path = "models",
    target: str | int = "max",
    classes: Iterable[str] | None = None,
    out: str | Path | None = None,
    fmt: str = "png",
    size: str = "native",
    seed: int = 0,
    max_share: float | None = None,
    allow_ungated: bool = False,
    batch_size: int = 64,
    on_file: Callable[[str, Path], None] | None = None,
) -> AugmentSummary:
    """Plan and run in one call (see :meth:`Augmentation.prepare` for the options).

    Example::

        augment_folder("data/train", "models/digits/v3", target="ratio:0.5", out="data/synthetic").written
    """
    job = Augmentation.prepare(data_dir, model, models_dir=models_dir, target=target, classes=classes, out=out,
                               fmt=fmt, size=size, seed=seed, max_share=max_share, allow_ungated=allow_ungated,
                               batch_size=batch_size)
    return job.run(on_file=on_file)
