"""This worker's model: checked before serving, loaded by the service, reached per request.

:func:`preflight` runs once in the ``bentoml serve`` process (the service's
``@bentoml.on_deployment`` hook); :meth:`ModelState.load` runs in each worker (the service's
``__init__``), and the result lives on the service instance. The middleware and the request
validators reach it with :func:`current_state`, through BentoML's own handle on this worker's
instance (``bentoml.get_current_service()``), so no module here holds the model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import bentoml
from bentoml.exceptions import BentoMLException

from augment_gan.contracts.model_dir import (
    JUDGE_NAME,
    ONNX_NAME,
    SELECTION_NAME,
    promoted_models,
    read_card,
    resolve_model_dir,
    verify_file,
)
from augment_gan.errors import AugmentGanError
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.service.bento import looks_like_tag, model_dir_of, the_stored_model
from augment_gan.service.settings import Settings

log = logging.getLogger("augment_gan.service")


def locate_model(settings: Settings) -> Path:
    """The model dir ``settings`` name: a path, a name under the models root, or a BentoML model store tag."""
    if settings.model is None and not promoted_models(settings.models_dir):
        stored = the_stored_model()  # a served Bento: the model it packs
        if stored is not None:
            return model_dir_of(stored)
    ref = settings.model_ref()
    return model_dir_of(ref) if looks_like_tag(ref) else resolve_model_dir(ref, settings.models_dir)


def preflight(settings: Settings) -> Path:
    """Resolve the model dir, check its card and sha256 (no session); AugmentGanError if it cannot be served."""
    model_dir = resolve_model_dir(locate_model(settings))
    card = read_card(model_dir)
    for name in (ONNX_NAME, JUDGE_NAME, SELECTION_NAME):  # what the workers load
        if name == ONNX_NAME or (settings.select and name in card.get("files", {})):
            verify_file(model_dir, card, name)
    settings.check_gated(model_dir, card)
    return model_dir


def load_generator(settings: Settings) -> OnnxGenerator:
    """The model ``settings`` name, sha256-verified, its session open; AugmentGanError if it cannot be served."""
    gen = OnnxGenerator.load(
        locate_model(settings), intra_op_threads=settings.intra_op_threads(), allow_ungated=True, select=settings.select
    )
    settings.check_gated(gen.model_dir, gen.card)
    return gen


@dataclass(frozen=True)
class ModelState:
    """The loaded generator, or why there is none (``error``; neither: still loading)."""

    generator: OnnxGenerator | None = None
    error: str | None = None

    @classmethod
    def load(cls, settings: Settings) -> ModelState:
        """Load the model; never raises (BentoML would restart a failing worker forever): the error is kept."""
        try:
            gen = load_generator(settings)
        except Exception as e:
            user_error = isinstance(e, AugmentGanError)
            error = str(e) if user_error else f"{type(e).__name__}: {e}"
            # /readyz stays 503 and every request gets 503 with this message; the log has it
            # (with a traceback for anything but a user error).
            log.error("augment-gan service cannot serve: %s", error, exc_info=not user_error)
            return cls(error=error)
        log.info("augment-gan: serving %s on %s", gen.model_dir, ", ".join(gen.providers))
        return cls(generator=gen)

    @property
    def ready(self) -> bool:
        return self.generator is not None and self.generator.session_open

    def not_loaded_message(self) -> str:
        if self.error is not None:
            return f"the service cannot serve: {self.error}"
        return "the model is not loaded yet; retry when /readyz returns 200."

    def require(self) -> OnnxGenerator:
        """The generator; ValueError (a 400 inside validation; the middleware answers 503 first) if none."""
        if self.generator is None:
            raise ValueError(self.not_loaded_message())
        return self.generator


def current_state() -> ModelState:
    """This worker's model state: the service instance's, or an empty one before the instance exists."""
    try:
        instance = bentoml.get_current_service()
    except BentoMLException:  # not instantiated yet (or not in a worker at all)
        return ModelState()
    return getattr(instance, "state", None) or ModelState()
