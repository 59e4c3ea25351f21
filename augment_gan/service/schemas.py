"""The request bodies (pydantic): strict types, limits, and labels checked against the loaded model.

A label is a class name or a 0-based class index; an unknown class, or one the quality gate
rejected, fails validation, so it is a 400 for that request alone (before adaptive batching
merges requests). Unknown fields are refused. Integers are JSON Schema's: ``2`` and ``2.0``
are the same integer (what the OpenAPI document promises), ``2.5``, ``"2"`` and ``true`` are
not integers.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
)

from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.plan import PlannedClass, Requested, SkipKind, plan_classes
from augment_gan.service.state import current_state

MAX_COUNT = 64
"""Most images per ``/generate`` or ``/generate_grid`` request, and items per ``/generate_batch`` request."""
MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted (JSON requests are tiny); larger gets 413."""
MAX_SEED = 2**63 - 1
BATCH_MAX_REQUESTS = 32
"""Adaptive batching: most ``/generate_batch`` requests merged into one run."""
BATCH_MAX_LATENCY_MS = 5000
"""Adaptive batching: a queued request older than this gets 503 (server overloaded)."""


def servable(gen: OnnxGenerator) -> list[PlannedClass]:
    """The classes the service generates: those the gate passed (every class of an ungated model)."""
    return [c for c in plan_classes(gen, None, Requested(1)).classes if c.skip is None]


def check_label(gen: OnnxGenerator, label: str | int) -> int:
    """The class index for ``label``; ValueError (-> 400) for unknown or gate-rejected classes."""
    plan = plan_classes(gen, None, Requested({label: 1}))  # UnknownClassError is a ValueError
    (asked,) = (c for c in plan.classes if c.wanted)
    if asked.skip is SkipKind.GATE_FAILED:
        raise ValueError(
            f"class {asked.name!r} failed the quality gate ({asked.detail}), so this model does not generate it; "
            f"classes that passed: {[c.name for c in servable(gen)]}."
        )
    return asked.index  # type: ignore[return-value]


def draw_seed(seed: int | None) -> int:
    """The request's seed, or a fresh one the response returns (so the images can be made again)."""
    return secrets.randbits(63) if seed is None else int(seed)


def _whole(value: Any) -> Any:
    """A JSON number with no fractional part (``2.0``) is the integer 2; anything else is left to validation."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _label_type(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        # ValueError, not TypeError: pydantic turns only ValueError into a validation error (a 400).
        raise ValueError(f"label must be a class name (string) or a class index (integer), got {value!r}")  # noqa: TRY004
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"label must be a class name (string) or a class index (integer), got {value!r}")
    return _whole(value)


Label = Annotated[
    StrictInt | StrictStr,
    BeforeValidator(_label_type),
    Field(description="Class name, or class index (0-based) as an integer.", examples=["3"]),
]
Count = Annotated[
    StrictInt, BeforeValidator(_whole), Field(ge=1, le=MAX_COUNT, description=f"Number of images, 1-{MAX_COUNT}.")
]
Seed = Annotated[
    Annotated[StrictInt, BeforeValidator(_whole), Field(ge=0, le=MAX_SEED)] | None,
    Field(
        description="Non-negative seed; the same seed gives the same pixels. Omitted: the server draws one and returns it."
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("label", check_fields=False)
    @classmethod
    def _known_class(cls, value: str | int) -> str | int:
        check_label(current_state().require(), value)
        return value


class GenerateRequest(_Strict):
    label: Label
    count: Count
    seed: Seed = None
    format: Literal["png", "npy"] = Field(
        "png", description="png: base64 PNGs; npy: base64 of np.save bytes (uint8 N,H,W,C)."
    )


class GridRequest(_Strict):
    label: Label
    count: Count
    seed: Seed = None
    nrow: Annotated[StrictInt, BeforeValidator(_whole), Field(ge=1, le=MAX_COUNT)] | None = Field(
        None, description="Images per row (default ceil(sqrt(count)))."
    )


class BatchItem(_Strict):
    label: Label
    seed: Seed = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[BatchItem], Field(min_length=1, max_length=MAX_COUNT, description=f"1-{MAX_COUNT} images.")]
