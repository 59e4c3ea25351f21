"""The service's settings: the AUGMENT_GAN_* variables, read once into a frozen Settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from augment_gan.contracts.model_dir import ModelError
from augment_gan.errors import ConfigError
from tests.service.conftest import card_only_model

pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")

from augment_gan.service.auth import ApiToken  # noqa: E402
from augment_gan.service.settings import Settings, env_flag  # noqa: E402


def test_defaults_when_nothing_is_set():
    assert Settings.from_env({}) == Settings(
        model=None, models_dir=Path("models"), allow_ungated=False, workers=1, threads=None, gpu=None, select=True
    )


def test_every_variable_is_read():
    settings = Settings.from_env(
        {
            "AUGMENT_GAN_MODEL": "digits",
            "AUGMENT_GAN_MODELS_DIR": "/srv/models",
            "AUGMENT_GAN_ALLOW_UNGATED": "yes",
            "AUGMENT_GAN_WORKERS": "4",
            "AUGMENT_GAN_THREADS": "3",
            "AUGMENT_GAN_GPU": "off",
            "AUGMENT_GAN_SELECT": "0",
            "AUGMENT_GAN_API_TOKEN": " t0k ",
            "AUGMENT_GAN_TOKEN_PROBES": "1",
        }
    )
    assert settings == Settings(
        model="digits",
        models_dir=Path("/srv/models"),
        allow_ungated=True,
        workers=4,
        threads=3,
        gpu=False,
        select=False,
        auth=ApiToken("t0k", protect_probes=True),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.workers = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" on ", True),
        ("0", False),
        ("no", False),
        ("", None),
        ("maybe", None),
        (None, None),
    ],
)
def test_env_flag(value, expected):
    assert env_flag(value) is expected


def test_the_token_file_wins_over_the_variable(tmp_path: Path):
    (tmp_path / "token").write_text("from-file\n")
    environ = {"AUGMENT_GAN_API_TOKEN": "from-env", "AUGMENT_GAN_API_TOKEN_FILE": str(tmp_path / "token")}
    assert Settings.from_env(environ).auth.token == "from-file"
    with pytest.raises(ConfigError, match="cannot read the API token file"):
        Settings.from_env({"AUGMENT_GAN_API_TOKEN_FILE": str(tmp_path / "missing")})


def test_unreadable_numbers():
    assert Settings.from_env({"AUGMENT_GAN_WORKERS": "many"}).workers == 1
    assert Settings.from_env({"AUGMENT_GAN_WORKERS": "0"}).workers == 1
    assert Settings.from_env({"AUGMENT_GAN_THREADS": "0"}).threads == 1
    with pytest.raises(ConfigError, match="AUGMENT_GAN_THREADS"):
        Settings.from_env({"AUGMENT_GAN_THREADS": "two"})


def test_intra_op_threads():
    assert Settings(threads=3, workers=4).intra_op_threads(cpu_count=16) == 3
    assert Settings(workers=1).intra_op_threads(cpu_count=16) is None  # onnxruntime's own choice
    assert Settings(workers=4).intra_op_threads(cpu_count=16) == 4
    assert Settings(workers=32).intra_op_threads(cpu_count=16) == 1


def test_service_config_requests_a_gpu_only_when_used():
    assert Settings(workers=3, gpu=False).service_config() == {"workers": 3, "traffic": {"timeout": 120}}
    assert Settings(gpu=True).service_config()["resources"] == {"gpu": 1}


def test_model_ref_is_the_variable_or_the_only_promoted_model(tmp_path: Path):
    assert Settings(model="explicit", models_dir=tmp_path).model_ref() == "explicit"
    with pytest.raises(ModelError, match="no promoted models.*AUGMENT_GAN_MODEL"):
        Settings(models_dir=tmp_path).model_ref()
    card_only_model(tmp_path, "digits")
    assert Settings(models_dir=tmp_path).model_ref() == "digits"
    card_only_model(tmp_path, "faces")
    with pytest.raises(ModelError, match="several promoted models.*digits, faces"):
        Settings(models_dir=tmp_path).model_ref()


def test_check_gated_refuses_an_ungated_card_unless_allowed(tmp_path: Path):
    card = {"gate": {"ran": False}}
    with pytest.raises(ModelError, match="AUGMENT_GAN_ALLOW_UNGATED=1"):
        Settings().check_gated(tmp_path, card)
    Settings(allow_ungated=True).check_gated(tmp_path, card)
    Settings().check_gated(tmp_path, {"gate": {"ran": True}})
