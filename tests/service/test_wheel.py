"""Installed as users install it: a wheel built from this checkout, installed outside it, serves.

The wheel is built from a copy of the package (the checkout gets no ``build/``), installed
with ``pip install --target`` into a temp dir that comes first on ``PYTHONPATH`` (the
dependencies come from this environment), and ``augment-gan serve`` runs from an
unrelated working dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.service.conftest import REPO, Server, free_port, requests, wait_ready

pytestmark = pytest.mark.slow


def build_wheel(out: Path) -> Path:
    src = out / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "augment_gan", src / "augment_gan", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("augment_gan-*.whl")
    return wheel


def test_the_wheel_carries_the_service_and_serves_outside_the_checkout(gated_model: Path, tmp_path: Path):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "augment_gan/service/app.py" in names and "augment_gan/service/launch.py" in names

    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(target),
        "AUGMENT_GAN_GPU": "0",
        "AUGMENT_GAN_THREADS": "1",
        "BENTOML_DO_NOT_TRACK": "True",
    }
    env.pop("AUGMENT_GAN_MODEL", None)
    where = subprocess.run(
        [sys.executable, "-c", "import augment_gan.service.app as a; print(a.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(target)  # the installed copy, not this checkout

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "augment_gan.cli", "serve", "--model", str(gated_model), "--port", str(port)],
            cwd=elsewhere,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(server)
        r = requests.post(f"{server.url}/generate", json={"label": 0, "count": 2, "seed": 1}, timeout=60)
        assert r.status_code == 200, r.text
        assert len(r.json()["images"]) == 2
    finally:
        server.stop()
