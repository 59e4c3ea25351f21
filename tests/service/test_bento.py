"""BentoML's model store: save a promoted model under a tag, serve it by tag, and build a Bento with only it.

Every BentoML call runs in a child process with ``BENTOML_HOME`` in a temp dir (BentoML reads
it at import), through the CLI as a user would; nothing here touches ``~/bentoml`` or a network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from augment_gan.contracts.model_dir import set_promoted
from augment_gan.service.bento import bentofile_for, labels_and_metadata, looks_like_tag, tag_of
from tests.service.conftest import REPO, Server, free_port, requests, start_server, wait_ready

BENTOFILE = REPO / "service" / "bentofile.yaml"


def test_tags_and_paths_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert looks_like_tag("digits:v2") and looks_like_tag("digits:latest")
    assert not looks_like_tag("digits") and not looks_like_tag("models/digits/v2") and not looks_like_tag("Digits:v2")
    monkeypatch.chdir(tmp_path)
    assert looks_like_tag("a:b")
    (tmp_path / "a:b").mkdir()  # a model dir that happens to be named like a tag is a path
    assert not looks_like_tag("a:b")
    assert tag_of({"name": "digits", "version": 3}) == "digits:v3"


def test_labels_and_metadata_summarise_the_card():
    card = {
        "name": "m",
        "version": 2,
        "classes": ["a", "b"],
        "resolution": 32,
        "channels": 1,
        "latent_dim": 64,
        "gate": {
            "ran": True,
            "overall": {"passed": True},
            "per_class": {"a": {"passed": True}, "b": {"passed": False}},
        },
        "files": {"generator.onnx": {}, "judge.onnx": {}},
    }
    labels, metadata = labels_and_metadata(card)
    assert labels == {
        "project": "augment-gan",
        "model": "m",
        "version": "v2",
        "gate": "ran",
        "classes_passed": "1/2",
        "selection": "on",
    }
    assert metadata["classes_passed"] == ["a"] and metadata["gate_ran"] is True and len(metadata["card_sha256"]) == 64


def test_the_bentofile_packs_only_the_tag_it_is_given():
    config = yaml.safe_load(bentofile_for("digits:v3", BENTOFILE))
    assert config["models"] == ["digits:v3"]
    assert {"name": "AUGMENT_GAN_MODEL", "value": "digits:v3"} in config["envs"]
    assert config["python"]["lock_packages"] is False
    assert not any("models" in pattern for pattern in config["include"])


def cli(*args: str, home: Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    return subprocess.run(
        [sys.executable, "-m", "augment_gan.cli", "bento", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_save_serve_by_tag_and_build_only_the_promoted_version(gated_model: Path, tmp_path: Path):
    home, models = tmp_path / "bentoml", tmp_path / "models"
    for version in (1, 2):  # two versions; v2 is promoted
        shutil.copytree(gated_model, models / "tiny" / f"v{version}")
        card_path = models / "tiny" / f"v{version}" / "card.json"
        card = json.loads(card_path.read_text())
        card_path.write_text(json.dumps({**card, "version": version}))
    set_promoted(models, "tiny", 2)

    saved = cli("save", "tiny", "--models-dir", str(models), home=home)
    assert saved.returncode == 0 and "saved tiny:v2" in saved.stdout, saved.stdout + saved.stderr
    assert cli("save", "tiny", "--models-dir", str(models), home=home).returncode == 0  # again: a no-op
    stored = home / "models" / "tiny" / "v2"
    meta = yaml.safe_load((stored / "model.yaml").read_text())
    assert meta["labels"]["gate"] == "ran" and meta["labels"]["classes_passed"] == "2/3"
    assert meta["metadata"]["classes_passed"] == ["cat", "dog"]
    (models / "tiny" / "v2" / "card.json").write_text(json.dumps({**card, "version": 2, "created": "changed"}))
    clash = cli("save", "tiny", "--models-dir", str(models), home=home)
    assert clash.returncode == 1 and "already has tiny:v2 with other files" in clash.stderr

    srv = start_server(Path("."), tmp_path / "by-tag.log", AUGMENT_GAN_MODEL="tiny:v2", BENTOML_HOME=str(home))
    try:
        wait_ready(srv)
        info = requests.get(f"{srv.url}/model", timeout=10).json()
        assert (info["name"], info["version"]) == ("tiny", 2)
        r = requests.post(f"{srv.url}/generate", json={"label": 0, "count": 2, "seed": 1}, timeout=60)
        assert r.status_code == 200 and len(r.json()["images"]) == 2
    finally:
        srv.stop()
    missing = start_server(Path("."), tmp_path / "missing.log", AUGMENT_GAN_MODEL="tiny:v9", BENTOML_HOME=str(home))
    try:
        assert missing.proc.wait(60) != 0 and "model store has no tiny:v9" in missing.log_tail()
    finally:
        missing.stop()

    (models / "tiny" / "v2" / "card.json").write_text(json.dumps({**card, "version": 2}))
    built = cli("build", "tiny", "--models-dir", str(models), "--project", str(REPO), home=home)
    assert built.returncode == 0, built.stdout + built.stderr
    (bento_dir,) = [p for p in (home / "bentos" / "augment-gan").iterdir() if p.is_dir()]
    bento = yaml.safe_load((bento_dir / "bento.yaml").read_text())
    assert [m["tag"] for m in bento["models"]] == ["tiny:v2"]  # only the promoted version
    assert (
        not (bento_dir / "src" / "models").exists()
        and (bento_dir / "src" / "augment_gan" / "service" / "app.py").is_file()
    )

    # the Bento serves its packed model with no AUGMENT_GAN_MODEL and no models/ around
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUGMENT_GAN_")}
    env.update(BENTOML_HOME=str(home), BENTOML_DO_NOT_TRACK="True", AUGMENT_GAN_GPU="0", AUGMENT_GAN_THREADS="1")
    port = free_port()
    with open(tmp_path / "bento.log", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bentoml", "serve", "augment-gan:latest", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    bento_server = Server(proc, f"http://127.0.0.1:{port}", tmp_path / "bento.log")
    try:
        wait_ready(bento_server)
        assert requests.get(f"{bento_server.url}/model", timeout=10).json()["version"] == 2
        r = requests.post(f"{bento_server.url}/generate", json={"label": "cat", "count": 1, "seed": 4}, timeout=60)
        assert r.status_code == 200, r.text
    finally:
        bento_server.stop()
