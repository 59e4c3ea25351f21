"""augment_gan.service.launch: the model, command and environment it plans, and how it runs the server."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from augment_gan.contracts.model_dir import ModelError
from augment_gan.errors import ConfigError
from augment_gan.service.launch import SERVICE, ServePlan, plan, run, serve
from tests.service.conftest import card_only_model


def test_plan_names_the_model_and_configures_the_service(tmp_path: Path):
    model = card_only_model(tmp_path)
    environ = {"PATH": "/bin", "AUGMENT_GAN_ALLOW_UNGATED": "1", "AUGMENT_GAN_THREADS": "9"}
    p = plan(None, tmp_path, host="0.0.0.0", port=8080, workers=2, environ=environ)
    assert p.model_dir == model.resolve() and p.url == "http://0.0.0.0:8080" and p.workers == 2
    assert p.env == {
        "PATH": "/bin",
        "AUGMENT_GAN_MODEL": str(model.resolve()),
        "AUGMENT_GAN_WORKERS": "2",
        "AUGMENT_GAN_THREADS": "9",
        "AUGMENT_GAN_SELECT": "1",
    }  # an inherited ALLOW_UNGATED is dropped
    assert p.cmd == [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", "0.0.0.0", "--port", "8080"]
    assert plan("m", tmp_path, threads=3, environ={}).env["AUGMENT_GAN_THREADS"] == "3"


def test_plan_refuses_an_ungated_model_unless_allowed(tmp_path: Path):
    model = card_only_model(tmp_path, gate_ran=False)
    with pytest.raises(ModelError, match="--allow-ungated"):
        plan(model, environ={})
    assert plan(model, allow_ungated=True, environ={}).env["AUGMENT_GAN_ALLOW_UNGATED"] == "1"
    assert plan(model, allow_ungated=True, select=False, environ={}).env["AUGMENT_GAN_SELECT"] == "0"


def test_serve_needs_a_promoted_model(tmp_path: Path):
    with pytest.raises(ModelError, match="no promoted models"):
        serve(None, tmp_path / "empty", on_start=lambda p: pytest.fail("started"))


def child(code: str) -> ServePlan:
    return ServePlan(Path("."), "http://x", 1, [sys.executable, "-c", code], dict(os.environ))


def test_run_returns_the_server_exit_code():
    assert run(child("raise SystemExit(3)")) == 3
    assert run(child("pass")) == 0


def test_run_forwards_sigterm_and_counts_it_as_a_clean_stop():
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        ours = signal.getsignal(signal.SIGTERM)
        timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM))
        timer.start()
        assert run(child("import time; time.sleep(60); raise SystemExit(5)")) == 0  # terminated, not 5
        timer.join()
        assert received == [] and signal.getsignal(signal.SIGTERM) is ours  # handled by run, then restored
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_plan_passes_the_token_file_not_the_token(tmp_path: Path):
    model = card_only_model(tmp_path)
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    p = plan(model, token_file=token, environ={"AUGMENT_GAN_API_TOKEN": "old"})
    assert p.env["AUGMENT_GAN_API_TOKEN_FILE"] == str(token.resolve()) and "AUGMENT_GAN_API_TOKEN" not in p.env
    assert not any("s3cret" in part for part in [*p.cmd, *p.env.values()])
    token.write_text("  \n")
    with pytest.raises(ConfigError, match="is empty"):
        plan(model, token_file=token, environ={})
    with pytest.raises(ConfigError, match="cannot read"):
        plan(model, token_file=tmp_path / "missing", environ={})
