"""Models in BentoML's model store, and a Bento that packs only the promoted version.

- :func:`save`: a model dir (a path, or a name: its PROMOTED version) -> BentoML's model
  store as ``<name>:v<version>``; the card's files are checked against their sha256 first,
  and the card's gate and selection summary become the store entry's labels and metadata
  (``bentoml models list`` / ``get``). Saving the same version again is a no-op when the
  files are the same, an error when they differ.
- :func:`model_dir_of`: ``AUGMENT_GAN_MODEL=digits:v2`` (a tag) -> the stored model dir; the
  service reads it like any model dir (sha256 included). Without ``AUGMENT_GAN_MODEL`` and
  without a promoted model under the models root, the service serves the store's only
  augment-gan model (:func:`the_stored_model`): in a served Bento that is the one it packs.
- :func:`build`: ``service/bentofile.yaml`` + the saved tag -> a Bento (``bentoml build``)
  whose ``models:`` is that one tag and whose ``AUGMENT_GAN_MODEL`` names it.

The store lives under ``$BENTOML_HOME`` (default ``~/bentoml``); nothing here needs a network.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import bentoml
from bentoml.exceptions import NotFound

from augment_gan.contracts.model_dir import (
    CARD_NAME,
    ModelError,
    read_card,
    require_gated,
    resolve_model_dir,
    verify_file,
)

_TAG = re.compile(r"^[a-z0-9]([-._a-z0-9]*[a-z0-9])?:[A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?$")
BENTOFILE = "service/bentofile.yaml"


def looks_like_tag(ref: str | Path) -> bool:
    """``name:version`` that is not a path on disk (``digits:v2``, ``digits:latest``)."""
    return isinstance(ref, str) and bool(_TAG.match(ref)) and not Path(ref).exists()


def tag_of(card: dict[str, Any]) -> str:
    name = str(card["name"]).lower()
    if not re.match(r"^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$", name):
        raise ModelError(f"model name {card['name']!r} is not a valid BentoML model name (a-z, 0-9, '-', '_', '.').")
    return f"{name}:v{card['version']}"


def labels_and_metadata(card: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """What ``bentoml models get`` shows: labels (strings, to filter on) and metadata (the card's summary)."""
    gate = card.get("gate", {})
    per_class = gate.get("per_class", {})
    passed = [c for c in card["classes"] if per_class.get(c, {}).get("passed")]
    labels = {
        "project": "augment-gan",
        "model": str(card["name"]),
        "version": f"v{card['version']}",
        "gate": "ran" if gate.get("ran") else "not-run",
        "classes_passed": f"{len(passed)}/{len(card['classes'])}",
        "selection": "on" if "judge.onnx" in card.get("files", {}) else "off",
    }
    metadata = {
        "classes": list(card["classes"]),
        "classes_passed": passed,
        "resolution": card.get("resolution"),
        "channels": card.get("channels"),
        "latent_dim": card.get("latent_dim"),
        "created": card.get("created"),
        "gate_ran": bool(gate.get("ran")),
        "card_sha256": hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest(),
    }
    return labels, metadata


def _same_files(stored: Path, card: dict[str, Any]) -> bool:
    try:
        return all(verify_file(stored, card, name) for name in card.get("files", {}))
    except ModelError:
        return False


def save(model: str | Path, models_dir: Path = Path("models"), *, allow_ungated: bool = False) -> str:
    """Save the model dir to BentoML's model store; its tag (``name:vN``). ModelError if it cannot be saved."""
    model_dir = resolve_model_dir(model, Path(models_dir))
    card = read_card(model_dir)
    if not allow_ungated:
        require_gated(model_dir, card, "--allow-ungated")
    for name in card.get("files", {}):
        verify_file(model_dir, card, name)
    tag = tag_of(card)
    labels, metadata = labels_and_metadata(card)
    try:
        stored = bentoml.models.get(tag)
    except NotFound:
        stored = None
    if stored is not None:
        if _same_files(Path(stored.path), card) and read_card(Path(stored.path)) == card:
            return tag
        raise ModelError(
            f"BentoML's model store already has {tag} with other files; "
            f"remove it first (bentoml models delete {tag}) or promote a new version."
        )
    with bentoml.models.create(tag, labels=labels, metadata=metadata) as saved:
        for name in [CARD_NAME, *card.get("files", {})]:
            shutil.copy2(model_dir / name, Path(saved.path) / name)
    return tag


def model_dir_of(tag: str) -> Path:
    """The stored model dir of ``tag`` (``name:vN`` or ``name:latest``); ModelError if the store has none."""
    try:
        return Path(bentoml.models.get(tag).path)
    except NotFound:
        raise ModelError(
            f"BentoML's model store has no {tag}; save it with `augment-gan bento save MODEL` "
            "(or set AUGMENT_GAN_MODEL to a model dir or name)."
        ) from None
    except Exception as e:  # an unreachable remote after a local miss, a bad tag
        raise ModelError(f"cannot read {tag} from BentoML's model store: {e}") from None


def the_stored_model() -> str | None:
    """The tag of the only augment-gan model in the current model store (a served Bento's own); None if none.

    ModelError if there are several (``AUGMENT_GAN_MODEL`` must choose).
    """
    tags = sorted(str(m.tag) for m in bentoml.models.list() if m.info.labels.get("project") == "augment-gan")
    if len(tags) > 1:
        raise ModelError(
            f"BentoML's model store has several augment-gan models ({', '.join(tags)}); "
            "set AUGMENT_GAN_MODEL to one of them."
        )
    return tags[0] if tags else None


def bentofile_for(tag: str, template: Path) -> str:
    """``template`` (the repository's bentofile) with ``models: [tag]`` and ``AUGMENT_GAN_MODEL=tag``."""
    import yaml

    config = yaml.safe_load(template.read_text())
    config["models"] = [tag]
    envs = [e for e in config.get("envs", []) if e.get("name") not in ("AUGMENT_GAN_MODEL", "AUGMENT_GAN_MODELS_DIR")]
    config["envs"] = [{"name": "AUGMENT_GAN_MODEL", "value": tag}, *envs]
    return yaml.safe_dump(config, sort_keys=False)


def build(
    model: str | Path, models_dir: Path = Path("models"), *, project: Path = Path("."), allow_ungated: bool = False
) -> tuple[str, str]:
    """Save the model (if needed) and build a Bento that packs only it: (model tag, bento tag).

    ``project`` is the source checkout (its ``service/bentofile.yaml`` and code are packed).
    """
    tag = save(model, models_dir, allow_ungated=allow_ungated)
    template = Path(project) / BENTOFILE
    if not template.is_file():
        raise ModelError(f"{template} is missing: build from the source checkout (--project).")
    with tempfile.TemporaryDirectory(prefix="augment-gan-bento-") as tmp:
        bentofile = Path(tmp) / "bentofile.yaml"
        bentofile.write_text(bentofile_for(tag, template))
        bento = bentoml.bentos.build_bentofile(str(bentofile), build_ctx=str(Path(project).resolve()))
    return tag, str(bento.tag)
