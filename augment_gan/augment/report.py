"""What ``augment`` prints before and after writing (table or ``--json``): the plan, the summary, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augment_gan.augment.plan import ClassPlan, SkipKind
from augment_gan.contracts.manifest import MANIFEST_NAME

SHARE_WARNING = 0.5
SHARE_ADVICE = (
    "training on a folder that is mostly synthetic, without reweighting, can make a classifier worse "
    "(measured: a 12-image class filled to 400 with GAN samples lowered minority recall from 0.68 to 0.61, "
    "while a 25 % synthetic share with oversampling raised it); keep --max-share at its default 0.25, or use "
    "BalancedDataset (Python API), which reweights real and synthetic samples."
)


@dataclass
class AugmentPlan:
    """What a run will do (also the ``--dry-run`` output)."""

    data_dir: Path
    out_dir: Path  # where files and manifest go (data_dir unless --out)
    model_dir: Path
    model: str
    model_version: Any
    gate_ran: bool
    target: str
    target_count: int
    seed: int
    format: str
    size: str
    max_share: float | None
    classes: list[ClassPlan]
    model_classes_not_in_folder: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # manifest entries whose file is missing
    unrecorded: list[str] = field(default_factory=list)  # synthetic-named files not in the manifest
    adoptable: list[str] = field(default_factory=list)  # ... of which apply will adopt
    warnings: list[str] = field(default_factory=list)

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / MANIFEST_NAME

    @property
    def to_generate(self) -> int:
        return sum(c.generate for c in self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "out_dir": str(self.out_dir),
            "manifest": str(self.manifest_path),
            "model": {
                "dir": str(self.model_dir),
                "name": self.model,
                "version": self.model_version,
                "gate_ran": self.gate_ran,
            },
            "target": {"spec": self.target, "count": self.target_count},
            "seed": self.seed,
            "format": self.format,
            "size": self.size,
            "max_share": self.max_share,
            "classes": [c.to_dict() for c in self.classes],
            "to_generate": self.to_generate,
            "model_classes_not_in_folder": self.model_classes_not_in_folder,
            "manifest_files_gone": self.gone,
            "unrecorded_synthetic_files": self.unrecorded,
            "adopted": self.adoptable,
            "warnings": self.warnings,
        }


@dataclass
class AugmentSummary:
    plan: AugmentPlan
    written: dict[str, int]
    seconds: float
    adopted: int = 0
    dropped_gone: int = 0
    temp_removed: int = 0
    collisions: int = 0  # indices skipped because a file of that name appeared meanwhile
    selection: dict[str, int] | None = None  # per-sample selection: candidates, accepted, fallbacks (None: off)

    @property
    def total(self) -> int:
        return sum(self.written.values())

    def to_dict(self) -> dict[str, Any]:
        per_class = {}
        for c in self.plan.classes:
            n_syn = c.synthetic + self.written.get(c.name, 0)
            total = c.real + n_syn
            per_class[c.name] = {
                "real": c.real,
                "written": self.written.get(c.name, 0),
                "synthetic": n_syn,
                "share": round(n_syn / total, 4) if total else 0.0,
            }
        return {
            "written": self.total,
            "seconds": round(self.seconds, 3),
            "manifest": str(self.plan.manifest_path),
            "adopted": self.adopted,
            "manifest_files_dropped": self.dropped_gone,
            "temp_files_removed": self.temp_removed,
            "collisions": self.collisions,
            "selection": self.selection,
            "classes": per_class,
        }


def plan_warnings(plan: AugmentPlan) -> list[str]:
    """The warnings the CLI prints before writing (gate, unknown classes, synthetic share, manifest)."""
    out = []
    if not plan.gate_ran:
        out.append(
            f"model {plan.model_dir} was exported without the quality gate (--allow-ungated): "
            "every class is generated, none was checked."
        )
    for c in plan.classes:
        if c.skip is SkipKind.GATE_FAILED:
            out.append(f"class {c.name!r} skipped, the quality gate failed it: {c.skip_detail}")
        elif c.skip is SkipKind.LINK_OUTSIDE:
            out.append(f"class {c.name!r} skipped, its folder is a symlink: {c.skip_detail}.")
        elif c.skip is SkipKind.NOT_IN_MODEL:
            out.append(f"class {c.name!r} is not a class of the model ({plan.model}): left as it is, not guessed.")
    if plan.model_classes_not_in_folder:
        out.append(f"model classes {plan.model_classes_not_in_folder} are not folders of {plan.data_dir}: not created.")
    high = [f"{c.name!r} ({c.share_after:.0%})" for c in plan.classes if c.share_after > SHARE_WARNING]
    if high:
        out.append(f"classes {', '.join(high)} will be more than half synthetic: {SHARE_ADVICE}")
    if plan.gone:
        out.append(
            f"{len(plan.gone)} file(s) the manifest lists are gone (deleted by hand?): augment drops "
            f"them from the manifest and does not generate those indices again; e.g. {plan.gone[0]}."
        )
    if plan.unrecorded:
        out.append(
            f"{len(plan.unrecorded)} synthetic-named file(s) are not in the manifest and are not this "
            f"augment's to adopt: left as they are, not counted as real images; e.g. {plan.unrecorded[0]}."
        )
    return out
