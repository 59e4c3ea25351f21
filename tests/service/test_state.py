"""The deployment check and the worker's model state, without a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from augment_gan.contracts.model_dir import ModelError, write_model_dir
from tests.export.helpers import CLASSES, gate
from tests.service.conftest import REPO

pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")

from augment_gan.service.settings import Settings  # noqa: E402
from augment_gan.service.state import ModelState, current_state, preflight  # noqa: E402

CARD = {"classes": CLASSES, "resolution": 32, "channels": 1, "latent_dim": 8}


def model_dir(root: Path, gate_block: dict, onnx: bytes = b"not onnx") -> Path:
    return write_model_dir(root, "m", {"generator.onnx": onnx}, {**CARD, "gate": gate_block}, promote=True)


def test_preflight_checks_card_sha_and_gate_without_opening_a_session(tmp_path: Path):
    gated = model_dir(tmp_path / "a", gate(CLASSES))
    assert preflight(Settings(model=str(gated))) == gated
    assert preflight(Settings(models_dir=tmp_path / "a")) == gated  # the only promoted model
    ungated = model_dir(tmp_path / "b", {"ran": False})
    with pytest.raises(ModelError, match="without the quality gate.*AUGMENT_GAN_ALLOW_UNGATED=1"):
        preflight(Settings(model=str(ungated)))
    assert preflight(Settings(model=str(ungated), allow_ungated=True)) == ungated
    (gated / "generator.onnx").write_bytes(b"tampered")
    with pytest.raises(ModelError, match="sha256"):
        preflight(Settings(model=str(gated)))


def test_a_model_that_cannot_load_leaves_the_worker_unready_with_why(tmp_path: Path):
    state = ModelState.load(Settings(models_dir=tmp_path))  # user error: no model at all
    assert state.generator is None and not state.ready and state.error.startswith("no promoted models")
    with pytest.raises(ValueError, match="^the service cannot serve: no promoted models"):
        state.require()
    broken = ModelState.load(Settings(model=str(model_dir(tmp_path, gate(CLASSES)))))  # onnxruntime cannot parse it
    assert broken.generator is None and broken.error and not broken.error.startswith("no promoted")


def test_no_state_outside_a_worker():
    assert current_state() == ModelState()
    assert "not loaded yet" in ModelState().not_loaded_message()


def test_importing_the_service_checks_no_model(tmp_path: Path):
    """Even as `bentoml serve` (argv) and with an unservable model, the import itself exits 0."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AUGMENT_GAN_MODEL": str(model_dir(tmp_path, {"ran": False})),
        "AUGMENT_GAN_GPU": "0",
        "BENTOML_DO_NOT_TRACK": "True",
    }
    code = "import sys; sys.argv = ['bentoml', 'serve']; import augment_gan.service.app as s; print(s.AugmentGanService.name)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "augment_gan", proc.stderr


def test_the_deployment_hook_refuses_an_unservable_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import augment_gan.service.app as svc

    hook = svc.AugmentGanService.inner.refuse_unservable_model
    assert getattr(hook, "__bentoml_deployment_hook__", False)  # BentoML runs it in `bentoml serve`, once
    monkeypatch.setattr(svc, "SETTINGS", Settings(model=str(model_dir(tmp_path, {"ran": False}))))
    with pytest.raises(SystemExit, match="^augment-gan service: model .* without the quality gate"):
        hook()
    monkeypatch.setattr(svc, "SETTINGS", Settings(model=str(model_dir(tmp_path / "ok", gate(CLASSES)))))
    hook()
