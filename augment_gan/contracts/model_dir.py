"""Model dirs: ``models/<name>/v<k>/`` and ``models/<name>/PROMOTED``: every name and format.

::

    models/<name>/v<k>/generator.onnx   the exported generator (uint8 images out)
    models/<name>/v<k>/judge.onnx       the domain judge (per-sample selection; promote writes it)
    models/<name>/v<k>/selection.npz    per class: training pixels/features, support features, radii, tau
    models/<name>/v<k>/selection.png    per class: accepted samples beside rejected ones (colour = reason)
    models/<name>/v<k>/card.json        classes, resolution, metrics, gate decision, sha256 of each file
    models/<name>/v<k>/samples.png      the promoted step's sample grid
    models/<name>/v<k>/report.html      the run's report for that step
    models/<name>/PROMOTED              "v<k>": the version consumers load by name

The model dir is the one contract between training and every consumer (augment, the
service, the Python API). It is written whole into a hidden temp dir and renamed into
place, so a reader never sees a half-written version; loading verifies the sha256 of
each file the card lists. No torch here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from augment_gan.contracts.reports import ModelCard
from augment_gan.errors import AugmentGanError
from augment_gan.fileio import atomic_write_bytes, atomic_write_json, read_stamped_json

CARD_FORMAT = 1
CARD_NAME = "card.json"
ONNX_NAME = "generator.onnx"
JUDGE_NAME = "judge.onnx"  # the domain judge, for per-sample selection (runtime/selection.py)
SELECTION_NAME = "selection.npz"  # the reference arrays per-sample selection compares with
SELECTION_SHEET_NAME = "selection.png"  # accepted beside rejected samples, one row per class
SAMPLES_NAME = "samples.png"
REPORT_NAME = "report.html"
PROMOTED_NAME = "PROMOTED"
_VERSION_DIR = re.compile(r"^v(\d+)$")


class ModelError(AugmentGanError):
    """A model dir is missing, incomplete or tampered with."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def versions(models_dir: Path, name: str) -> list[int]:
    root = Path(models_dir) / name
    if not root.is_dir():
        return []
    return sorted(int(m.group(1)) for p in root.iterdir() if (m := _VERSION_DIR.match(p.name)) and p.is_dir())


def next_version(models_dir: Path, name: str) -> int:
    return (versions(models_dir, name) or [0])[-1] + 1


def write_model_dir(
    models_dir: Path | None,
    name: str,
    files: dict[str, bytes],
    card: dict[str, Any],
    *,
    out_dir: Path | None = None,
    promote: bool = False,
    version: int | None = None,
) -> Path:
    """Write a new model dir atomically and return its path.

    Into ``models_dir/name/v<k>`` (``version``, else the next free k) unless ``out_dir`` is
    given. ``files`` maps
    file names to contents; their sha256 go into the card's ``files``. With ``promote``,
    ``models_dir/name/PROMOTED`` then names the new version.
    """
    if out_dir is None:
        parent = Path(models_dir) / name
        version = version if version is not None else next_version(models_dir, name)
        target = parent / f"v{version}"
        if target.exists():
            raise ModelError(f"{target} already exists; model versions are never overwritten.")
    else:
        target = Path(out_dir)
        parent, version = target.parent, card.get("version", 1)
        if target.exists() and any(target.iterdir()):
            raise ModelError(f"{target} already exists and is not empty; choose a new --out folder.")
    parent.mkdir(parents=True, exist_ok=True)
    card = {
        "format": CARD_FORMAT,
        "name": name,
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **{k: v for k, v in card.items() if k not in ("format", "name", "version", "created")},
        "files": {
            fname: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for fname, data in files.items()
        },
    }
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        for fname, data in files.items():
            (tmp / fname).write_bytes(data)
        (tmp / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
        if target.exists():
            target.rmdir()  # empty --out folder
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if promote:
        set_promoted(Path(models_dir), name, version)
    return target


def set_promoted(models_dir: Path, name: str, version: int) -> None:
    atomic_write_bytes(Path(models_dir) / name / PROMOTED_NAME, f"v{version}\n".encode())


def promoted_version(models_dir: Path, name: str) -> str | None:
    path = Path(models_dir) / name / PROMOTED_NAME
    return path.read_text().strip() if path.is_file() else None


def resolve_model_dir(model: str | Path, models_dir: Path = Path("models")) -> Path:
    """A model dir path as given, or a model name -> its PROMOTED version under models_dir."""
    path = Path(model)
    if (path / CARD_NAME).is_file():
        return path
    if path.exists():
        raise ModelError(f"{path} is not a model dir (no {CARD_NAME}); pass a model dir or a model name.")
    version = promoted_version(models_dir, str(model))
    if version is None:
        raise ModelError(
            f"no model dir or promoted model named {model!r} under {models_dir}; "
            "run `augment-gan promote` first or pass the model dir's path."
        )
    return Path(models_dir) / str(model) / version


def promoted_models(models_dir: Path) -> list[str]:
    """Names of the models under ``models_dir`` that have a promoted version, sorted."""
    models_dir = Path(models_dir)
    return sorted(p.parent.name for p in models_dir.glob(f"*/{PROMOTED_NAME}")) if models_dir.is_dir() else []


def the_promoted_model(models_dir: Path, how_to_choose: str = "pass --model") -> str:
    """The name of the only promoted model under ``models_dir``; ModelError if none or several."""
    names = promoted_models(models_dir)
    if len(names) == 1:
        return names[0]
    found = f" ({', '.join(names)})" if names else ""
    raise ModelError(f"{'no' if not names else 'several'} promoted models under {models_dir}{found}; {how_to_choose}.")


def gate_ran(card: dict[str, Any]) -> bool:
    """Whether the card's model went through the quality gate (``augment-gan export`` skips it)."""
    return bool(card.get("gate", {}).get("ran", False))


def gate_passed(card: dict[str, Any], name: str) -> bool:
    """Whether the quality gate passed class ``name`` (False for an ungated model)."""
    return gate_ran(card) and bool(card["gate"].get("per_class", {}).get(name, {}).get("passed", False))


def gate_reasons(card: dict[str, Any], name: str) -> list[str]:
    """Why the gate did not pass class ``name`` ([] when it passed)."""
    if not gate_ran(card):
        return ["the model was exported without the quality gate"]
    entry = card["gate"].get("per_class", {}).get(name)
    if entry is None:
        return ["the gate has no decision for this class"]
    return [] if entry.get("passed") else list(entry.get("reasons", [])) or ["failed the gate"]


def require_gated(model_dir: Path, card: dict[str, Any], how_to_allow: str) -> None:
    """ModelError unless the model was gated; ``how_to_allow`` names this consumer's switch."""
    if not gate_ran(card):
        raise ModelError(
            f"model {model_dir} was exported without the quality gate (written by `augment-gan export`: card "
            f"gate.ran is false); promote a gated checkpoint with `augment-gan promote`, or pass {how_to_allow} "
            "to use every class unchecked."
        )


def read_card(model_dir: Path) -> ModelCard:
    return read_stamped_json(
        Path(model_dir) / CARD_NAME, CARD_FORMAT, ModelError, f"{model_dir} is not a model dir (no {CARD_NAME})."
    )


def verify_file(model_dir: Path, card: dict[str, Any], fname: str) -> Path:
    """The path of ``fname`` after checking its sha256 against the card."""
    path = Path(model_dir) / fname
    expected = card.get("files", {}).get(fname, {}).get("sha256")
    if expected is None:
        raise ModelError(f"{model_dir}/{CARD_NAME} lists no {fname}.")
    if not path.is_file():
        raise ModelError(f"{path} is missing.")
    if sha256_file(path) != expected:
        raise ModelError(f"{path} does not match the sha256 in {CARD_NAME}: the file was modified or truncated.")
    return path


def save_card(model_dir: Path, card: dict[str, Any]) -> None:
    atomic_write_json(Path(model_dir) / CARD_NAME, card)
