"""The service's configuration: environment variables, read once into a frozen :class:`Settings`.

- ``AUGMENT_GAN_MODEL``: a model dir path or a model name (its PROMOTED version under the
  models root). Default: the one model name under the models root that has a PROMOTED
  version (an error names them when there are several).
- ``AUGMENT_GAN_MODELS_DIR``: the models root (default ``models``, relative to the
  working dir).
- ``AUGMENT_GAN_ALLOW_UNGATED=1``: serve a model dir written by ``augment-gan export``
  (its card says the gate did not run). Without it such a model is refused at startup:
  ``bentoml serve`` exits 1 with a message before starting workers (a worker that still
  meets such a model, or any model it cannot load, stays unready and answers 503 with why).
- ``AUGMENT_GAN_SELECT`` (default 1): per-sample selection when the model dir has a judge
  (:mod:`augment_gan.runtime.selection`); ``0`` serves unselected samples.
- ``AUGMENT_GAN_WORKERS`` (default 1) and ``AUGMENT_GAN_THREADS`` (onnxruntime intra-op
  threads per worker; default: onnxruntime's choice with 1 worker, else cores / workers).
- ``AUGMENT_GAN_API_TOKEN_FILE`` (or ``AUGMENT_GAN_API_TOKEN``): require ``Authorization:
  Bearer <token>`` on the generation and model endpoints (:mod:`augment_gan.service.auth`);
  ``AUGMENT_GAN_TOKEN_PROBES=1`` requires it on ``/livez``, ``/readyz`` and ``/metrics`` too.
- ``AUGMENT_GAN_GPU``: ``1`` requests a GPU from BentoML (``resources={"gpu": 1}``), ``0``
  never; unset: requested only when an NVIDIA GPU is present. onnxruntime uses CUDA when
  it really starts, else CPU (the runtime's own selection).

Flags accept 1/true/yes/on and 0/false/no/off; an unreadable ``AUGMENT_GAN_WORKERS`` means 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment_gan.contracts.model_dir import require_gated, the_promoted_model
from augment_gan.errors import ConfigError
from augment_gan.runtime.providers import cuda_plausible
from augment_gan.service.auth import ApiToken, read_token_file

ALLOW_UNGATED_HINT = "AUGMENT_GAN_ALLOW_UNGATED=1 (augment-gan serve --allow-ungated)"
"""How to serve an ungated model anyway, as the refusal message names it."""
TRAFFIC_TIMEOUT_S = 120


def env_flag(value: str | None) -> bool | None:
    """``"1"``/``"true"``/... -> True, ``"0"``/``"false"``/... -> False, anything else (unset) -> None."""
    value = (value or "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def _workers(value: str | None) -> int:
    try:
        return max(1, int(value or "1"))
    except ValueError:
        return 1


def _token(environ: Mapping[str, str]) -> ApiToken:
    path = environ.get("AUGMENT_GAN_API_TOKEN_FILE")
    token = read_token_file(path) if path else (environ.get("AUGMENT_GAN_API_TOKEN") or "").strip() or None
    return ApiToken(token, protect_probes=bool(env_flag(environ.get("AUGMENT_GAN_TOKEN_PROBES"))))


def _threads(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return max(1, int(value))
    except ValueError:
        raise ConfigError(f"AUGMENT_GAN_THREADS must be a whole number of threads, got {value!r}.") from None


@dataclass(frozen=True)
class Settings:
    """What the environment asks of the service (see the module docstring)."""

    model: str | None = None
    models_dir: Path = Path("models")
    allow_ungated: bool = False
    select: bool = True
    workers: int = 1
    threads: int | None = None
    gpu: bool | None = None
    """True/False: request a GPU or not; None: request one when an NVIDIA GPU seems present."""
    auth: ApiToken = ApiToken()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the ``AUGMENT_GAN_*`` variables; ConfigError for an unreadable ``AUGMENT_GAN_THREADS`` or token file."""
        return cls(
            model=environ.get("AUGMENT_GAN_MODEL") or None,
            models_dir=Path(environ.get("AUGMENT_GAN_MODELS_DIR", "models")),
            allow_ungated=bool(env_flag(environ.get("AUGMENT_GAN_ALLOW_UNGATED"))),
            select=env_flag(environ.get("AUGMENT_GAN_SELECT")) is not False,
            workers=_workers(environ.get("AUGMENT_GAN_WORKERS")),
            threads=_threads(environ.get("AUGMENT_GAN_THREADS")),
            gpu=env_flag(environ.get("AUGMENT_GAN_GPU")),
            auth=_token(environ),
        )

    def model_ref(self) -> str:
        """``AUGMENT_GAN_MODEL``, else the only promoted model's name (ModelError if none or several)."""
        return self.model or the_promoted_model(
            self.models_dir,
            "set AUGMENT_GAN_MODEL to a model dir or name (or AUGMENT_GAN_MODELS_DIR to the models root)",
        )

    def check_gated(self, model_dir: Path, card: dict[str, Any]) -> None:
        """ModelError for an ungated model unless ``AUGMENT_GAN_ALLOW_UNGATED`` is set."""
        if not self.allow_ungated:
            require_gated(model_dir, card, ALLOW_UNGATED_HINT)

    def intra_op_threads(self, cpu_count: int | None = None) -> int | None:
        """onnxruntime threads per worker: as set, else None (its choice) for 1 worker, else cores / workers."""
        if self.threads is not None:
            return self.threads
        if self.workers == 1:
            return None
        cores = cpu_count if cpu_count is not None else os.cpu_count()
        return max(1, (cores or 1) // self.workers)

    def use_gpu(self) -> bool:
        return cuda_plausible() if self.gpu is None else self.gpu

    def service_config(self) -> dict[str, Any]:
        """The ``@bentoml.service`` options: workers, traffic timeout, and a GPU when one is used."""
        config: dict[str, Any] = {"workers": self.workers, "traffic": {"timeout": TRAFFIC_TIMEOUT_S}}
        if self.use_gpu():
            config["resources"] = {"gpu": 1}
        return config
