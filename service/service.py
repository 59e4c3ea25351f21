"""HTTP inference service (BentoML 1.4): a thin layer over the onnxruntime generator.

No torch, no training code: the service loads one model dir (``generator.onnx`` +
``card.json``) with :class:`augment_gan.runtime.generator.Generator` once per worker.

Configuration (environment variables, read when a worker starts):

- ``AUGMENT_GAN_MODEL``: a model dir path or a model name (its PROMOTED version under the
  models root). Default: the one model name under the models root that has a PROMOTED
  version (an error names them when there are several).
- ``AUGMENT_GAN_MODELS_DIR``: the models root (default ``models``, relative to the
  working dir).
- ``AUGMENT_GAN_ALLOW_UNGATED=1``: serve a model dir written by ``augment-gan export``
  (its card says the gate did not run). Without it such a model is refused at startup:
  ``bentoml serve`` exits 1 with a message before starting workers (a worker that still
  meets such a model, or any model it cannot load, stays unready and answers 503 with why).
- ``AUGMENT_GAN_WORKERS`` (default 1) and ``AUGMENT_GAN_THREADS`` (onnxruntime intra-op
  threads per worker; default: onnxruntime's choice with 1 worker, else cores / workers).
- ``AUGMENT_GAN_GPU``: ``1`` requests a GPU from BentoML (``resources={"gpu": 1}``), ``0``
  never; unset: requested only when an NVIDIA GPU is present. onnxruntime uses CUDA when
  it really starts, else CPU (the runtime's own selection).

Endpoints (JSON in; limits: ``MAX_COUNT`` images per request, ``MAX_BODY_BYTES`` body):

- ``POST /generate`` ``{"label": name|index, "count": 1..64, "seed"?: int >= 0,
  "format"?: "png"|"npy"}``. ``png`` (default) returns ``{"label", "class_index", "seed",
  "count", "format", "height", "width", "channels", "images": [{"index", "label", "seed",
  "png": <base64 PNG>}]}``; ``npy`` returns the same fields with ``"npy"``: base64 of the
  ``np.save`` bytes of the uint8 array (count, H, W, C), plus ``shape`` and ``dtype``
  (``np.load(io.BytesIO(base64.b64decode(r["npy"])))``). Without ``seed`` the server draws
  one and returns it; the same seed gives the same pixels (image k of a request is row k
  of ``OnnxGenerator.generate(label, count, seed=seed)``).
- ``POST /generate_grid`` ``{"label", "count": 1..64, "seed"?, "nrow"?: 1..64}`` -> one PNG
  grid (``image/png``, ``nrow`` images per row, default ceil(sqrt(count))); headers
  ``X-Augment-Gan-Seed`` and ``X-Augment-Gan-Label``.
- ``POST /generate_batch`` ``{"items": [{"label", "seed"?}, ...]}`` (1..64 items) -> a JSON
  list, one ``{"label", "class_index", "seed", "png"}`` per item, in order. Adaptive
  batching merges items from concurrent requests (different classes are fine) into one
  onnxruntime run. An item's image equals ``/generate`` with ``count: 1`` and that seed.
- ``GET /model``: name, version, classes, resolution, channels, latent_dim, providers,
  limits, and the gate from card.json (ran, thresholds, overall, and per class: passed,
  reasons and the class's metrics).
- BentoML's own ``/livez``, ``/readyz`` (503 until the model is loaded), ``/metrics``.

Errors: bad input gets a 4xx, never a 5xx, and the body is always ``{"error": "<what to
fix>"}`` (validation errors also keep BentoML's ``"detail"`` list). 400 for unknown
classes, a class the quality gate rejected, counts out of range, wrong types, missing or
unknown fields, invalid JSON; 413 for a body over ``MAX_BODY_BYTES``; 503 while the model
is not loaded.

Serve: ``bentoml serve service.service:AugmentGanService --host 127.0.0.1 --port 3000``
from the repository root (or ``augment-gan serve``).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import bentoml
import numpy as np
from bentoml.exceptions import InvalidArgument
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
)

with bentoml.importing():
    from augment_gan.errors import AugmentGanError
    from augment_gan.runtime.providers import cuda_plausible
    from augment_gan.runtime.generator import OnnxGenerator, UnknownClassError
    from augment_gan.runtime.images import grid, npy_bytes, png_bytes
    from augment_gan.contracts.model_dir import (
        ONNX_NAME,
        read_card,
        require_gated,
        resolve_model_dir,
        the_promoted_model,
        verify_file,
    )

MAX_COUNT = 64
"""Most images per ``/generate`` or ``/generate_grid`` request, and items per ``/generate_batch`` request."""
MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted (JSON requests are tiny); larger gets 413."""
MAX_SEED = 2**63 - 1
BATCH_MAX_REQUESTS = 32
"""Adaptive batching: most ``/generate_batch`` requests merged into one run."""
BATCH_MAX_LATENCY_MS = 5000
"""Adaptive batching: a queued request older than this gets 503 (server overloaded)."""

_GENERATOR: OnnxGenerator | None = None
"""This worker's loaded model (set by the service's ``__init__``)."""
_LOAD_ERROR: str | None = None
"""Why this worker could not load the model (every request then gets 503 with it)."""
log = logging.getLogger("augment_gan.service")


# --- configuration --------------------------------------------------------------------
def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def _workers() -> int:
    try:
        return max(1, int(os.environ.get("AUGMENT_GAN_WORKERS", "1")))
    except ValueError:
        return 1


def _intra_op_threads() -> int | None:
    value = os.environ.get("AUGMENT_GAN_THREADS")
    if value:
        return max(1, int(value))
    workers = _workers()
    return None if workers == 1 else max(1, (os.cpu_count() or 1) // workers)


def _use_gpu() -> bool:
    flag = _env_flag("AUGMENT_GAN_GPU")
    return cuda_plausible() if flag is None else flag


def _default_model(models_dir: Path) -> str:
    return the_promoted_model(models_dir, "set AUGMENT_GAN_MODEL to a model dir or name (or AUGMENT_GAN_MODELS_DIR "
                                          "to the models root)")


def _model_ref() -> tuple[str, Path]:
    models_dir = Path(os.environ.get("AUGMENT_GAN_MODELS_DIR", "models"))
    return os.environ.get("AUGMENT_GAN_MODEL") or _default_model(models_dir), models_dir


def _check_gated(model_dir: Path, card: dict[str, Any]) -> None:
    if not _env_flag("AUGMENT_GAN_ALLOW_UNGATED"):
        require_gated(model_dir, card, "AUGMENT_GAN_ALLOW_UNGATED=1 (augment-gan serve --allow-ungated)")


def preflight() -> Path:
    """Resolve the model dir, check its card and sha256 (no session); AugmentGanError if it cannot be served."""
    model, models_dir = _model_ref()
    model_dir = resolve_model_dir(model, models_dir)
    card = read_card(model_dir)
    verify_file(model_dir, card, ONNX_NAME)
    _check_gated(model_dir, card)
    return model_dir


def load_generator() -> OnnxGenerator:
    """The model the environment names (see the module docstring), sha256-verified."""
    model, models_dir = _model_ref()
    gen = OnnxGenerator.load(model, models_dir=models_dir, intra_op_threads=_intra_op_threads(), allow_ungated=True)
    _check_gated(gen.model_dir, gen.card)
    return gen


def _in_serve_cli() -> bool:
    """True in the ``bentoml serve`` process itself (not in its workers, not in ``bentoml build``)."""
    return len(sys.argv) > 1 and sys.argv[1] == "serve" and Path(sys.argv[0]).name in ("bentoml", "__main__.py")


# --- validation -----------------------------------------------------------------------
def _not_loaded_message() -> str:
    if _LOAD_ERROR is not None:
        return f"the service cannot serve: {_LOAD_ERROR}"
    return "the model is not loaded yet; retry when /readyz returns 200."


def _loaded() -> OnnxGenerator:
    if _GENERATOR is None:
        raise ValueError(_not_loaded_message())
    return _GENERATOR


def check_label(label: str | int) -> int:
    """The class index for ``label``; ValueError (-> 400) for unknown or gate-rejected classes."""
    gen = _loaded()
    index = gen.class_index(label)  # UnknownClassError is a ValueError
    if gen.gate_ran and not gen.gate_passed(index):
        reasons = "; ".join(gen.gate_reasons(index))
        raise ValueError(
            f"class {gen.classes[index]!r} failed the quality gate ({reasons}), so this model does not generate it; "
            f"classes that passed: {[c for c in gen.classes if gen.gate_passed(c)]}."
        )
    return index


def _label_type(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        # ValueError, not TypeError: pydantic turns only ValueError into a validation error (a 400).
        raise ValueError(f"label must be a class name (string) or a class index (integer), got {value!r}")  # noqa: TRY004
    return value


Label = Annotated[
    StrictInt | StrictStr,
    BeforeValidator(_label_type),
    Field(description="Class name, or class index (0-based) as an integer.", examples=["3"]),
]
Count = Annotated[StrictInt, Field(ge=1, le=MAX_COUNT, description=f"Number of images, 1-{MAX_COUNT}.")]
Seed = Annotated[
    StrictInt | None,
    Field(ge=0, le=MAX_SEED, description="Non-negative seed; the same seed gives the same pixels. Omitted: the server draws one and returns it."),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("label", check_fields=False)
    @classmethod
    def _known_class(cls, value: str | int) -> str | int:
        check_label(value)
        return value


class GenerateRequest(_Strict):
    label: Label
    count: Count
    seed: Seed = None
    format: Literal["png", "npy"] = Field("png", description="png: base64 PNGs; npy: base64 of np.save bytes (uint8 N,H,W,C).")


class GridRequest(_Strict):
    label: Label
    count: Count
    seed: Seed = None
    nrow: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] | None = Field(None, description="Images per row (default ceil(sqrt(count))).")


class BatchItem(_Strict):
    label: Label
    seed: Seed = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[BatchItem], Field(min_length=1, max_length=MAX_COUNT, description=f"1-{MAX_COUNT} images.")]


# --- encoding -------------------------------------------------------------------------
def _seed(seed: int | None) -> int:
    return secrets.randbits(63) if seed is None else int(seed)


# --- ASGI middleware: body limit, GET /model, one error shape ---------------------------
def _json_response(status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None):
    body = json.dumps(payload).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])],
    }
    return start, {"type": "http.response.body", "body": body}


def _loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request body"


def error_message(payload: Any) -> Any:
    """BentoML's error bodies ({"error", "detail"} or [{"error"}]) -> {"error": "...", ["detail"]}."""
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], dict):
        payload = payload[0]
    if not isinstance(payload, dict):
        return {"error": str(payload)}
    detail = payload.get("detail")
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        parts = []
        for d in detail:
            msg = str(d.get("msg", "invalid value")).removeprefix("Value error, ")
            parts.append(f"{_loc(list(d.get('loc', [])))}: {msg}")
        return {"error": "; ".join(parts), "detail": detail}
    if "error" in payload:
        return payload
    return {"error": json.dumps(payload)}


def model_info(gen: OnnxGenerator) -> dict[str, Any]:
    card = gen.card
    gate = card.get("gate", {})
    per_class_metrics = card.get("metrics", {}).get("per_class", {})
    per_gate = gate.get("per_class", {})
    return {
        "name": card.get("name"),
        "version": card.get("version"),
        "created": card.get("created"),
        "classes": gen.classes,
        "resolution": gen.resolution,
        "channels": gen.channels,
        "latent_dim": gen.latent_dim,
        "providers": gen.providers,
        "max_count": MAX_COUNT,
        "gate": {
            "ran": gen.gate_ran,
            "thresholds": gate.get("thresholds"),
            "overall": gate.get("overall"),
            "per_class": {
                c: {
                    "passed": gen.gate_passed(c),
                    "reasons": list(per_gate.get(c, {}).get("reasons", [])) if gen.gate_ran else gen.gate_reasons(c),
                    "metrics": per_class_metrics.get(c, {}),
                }
                for c in gen.classes
            },
        },
        "metrics_overall": card.get("metrics", {}).get("overall"),
    }


class ServiceMiddleware:
    """Pure ASGI: 413 for bodies over ``max_body``, ``GET /model``, and ``{"error"}`` for every 4xx."""

    def __init__(self, app: Any, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/") == "/model":
            await self._model(scope, receive, send)
            return
        if scope.get("method") == "POST" and _GENERATOR is None:
            await self._send(send, *_json_response(503, {"error": _not_loaded_message()}))
            return
        if scope.get("method") == "POST":
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length")
            if not headers.get(b"content-type", b"").startswith(b"application/json"):
                # JSON is the only input: curl -d's form type or none at all is read as JSON too.
                scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"content-type"]
                         + [(b"content-type", b"application/json")]}
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await self._send(send, *_json_response(413, {"error": f"request body over {self.max_body} bytes; send at most {MAX_COUNT} images per request."}))
                return
            chunks, size, more = [], 0, True
            while more:  # chunked bodies: read (bounded) before the app sees them
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
                if size > self.max_body:
                    await self._send(send, *_json_response(413, {"error": f"request body over {self.max_body} bytes; send at most {MAX_COUNT} images per request."}))
                    return
            body = b"".join(chunks)
            sent = False

            async def replay() -> dict:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, self._errors(send))
            return
        await self.app(scope, receive, self._errors(send))

    @staticmethod
    async def _send(send: Any, start: dict, body: dict) -> None:
        await send(start)
        await send(body)

    def _errors(self, send: Any) -> Any:
        state: dict[str, Any] = {}

        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                if 400 <= message["status"] < 500:  # every 4xx, JSON or plain text (404, 405): {"error": ...}
                    state["start"], state["chunks"] = message, []
                    return
                await send(message)
            elif message["type"] == "http.response.body" and "start" in state:
                state["chunks"].append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                raw = b"".join(state["chunks"])
                try:
                    payload = error_message(json.loads(raw))
                except ValueError:
                    payload = {"error": raw.decode("utf-8", "replace")}
                start = state.pop("start")
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")]
                await self._send(send, *_json_response(start["status"], payload, headers))
            else:
                await send(message)

        return wrapped

    async def _model(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await self._send(send, *_json_response(405, {"error": "use GET /model."}, [(b"allow", b"GET")]))
            return
        if _GENERATOR is None:
            await self._send(send, *_json_response(503, {"error": _not_loaded_message()}))
            return
        await self._send(send, *_json_response(200, model_info(_GENERATOR)))


# --- the service ----------------------------------------------------------------------
if _in_serve_cli():
    # Fail fast: `bentoml serve` exits 1 with this message instead of starting workers that
    # cannot serve (a worker whose __init__ raised would be restarted over and over).
    try:
        preflight()
    except AugmentGanError as _e:
        raise SystemExit(f"augment-gan service: {_e}") from None

_CONFIG: dict[str, Any] = {"workers": _workers(), "traffic": {"timeout": 120}}
if _use_gpu():
    _CONFIG["resources"] = {"gpu": 1}


@bentoml.service(name="augment_gan", **_CONFIG)
class AugmentGanService:
    """Class-conditional image generation from one augment-gan model dir (onnxruntime)."""

    def __init__(self) -> None:
        global _GENERATOR, _LOAD_ERROR
        try:
            self.generator = load_generator()
        except Exception as e:
            # Not raised: BentoML would restart the worker forever. /readyz stays 503 and
            # every request gets 503 with this message; the log has it (with a traceback
            # for anything but a user error).
            _LOAD_ERROR = str(e) if isinstance(e, AugmentGanError) else f"{type(e).__name__}: {e}"
            log.error("augment-gan service cannot serve: %s", _LOAD_ERROR, exc_info=not isinstance(e, AugmentGanError))
            return
        _GENERATOR = self.generator
        log.info("augment-gan: serving %s on %s", self.generator.model_dir, ", ".join(self.generator.providers))

    def __is_ready__(self) -> bool:
        return _GENERATOR is not None and _GENERATOR.session_open

    def _images(self, label: str | int, count: int, seed: int) -> tuple[int, np.ndarray]:
        try:
            index = check_label(label)
        except (UnknownClassError, ValueError) as e:  # validated already; belt and braces
            raise InvalidArgument(str(e)) from None
        return index, self.generator.generate(index, count, seed=seed)

    @bentoml.api(route="/generate", input_spec=GenerateRequest)
    def generate(self, label: str | int, count: int, seed: int | None = None, format: str = "png") -> dict[str, Any]:
        """``count`` images of one class as base64 PNGs (or one base64 ``.npy`` array)."""
        seed = _seed(seed)
        index, images = self._images(label, count, seed)
        name = self.generator.classes[index]
        out: dict[str, Any] = {
            "label": name, "class_index": index, "seed": seed, "count": count, "format": format,
            "height": self.generator.resolution, "width": self.generator.resolution, "channels": self.generator.channels,
        }
        if format == "npy":
            out.update(shape=list(images.shape), dtype="uint8", npy=base64.b64encode(npy_bytes(images)).decode("ascii"))
        else:
            out["images"] = [
                {"index": k, "label": name, "seed": seed, "png": base64.b64encode(png_bytes(image)).decode("ascii")}
                for k, image in enumerate(images)
            ]
        return out

    @bentoml.api(route="/generate_grid", input_spec=GridRequest)
    def generate_grid(self, label: str | int, count: int, seed: int | None = None, nrow: int | None = None) -> Any:
        """One PNG grid of ``count`` images of one class (image/png)."""
        from starlette.responses import Response

        seed = _seed(seed)
        index, images = self._images(label, count, seed)
        nrow = nrow or math.ceil(math.sqrt(count))
        headers = {"X-Augment-Gan-Seed": str(seed), "X-Augment-Gan-Label": self.generator.classes[index]}
        return Response(png_bytes(grid(images, min(nrow, count))), media_type="image/png", headers=headers)

    @bentoml.api(
        route="/generate_batch",
        input_spec=BatchRequest,
        batchable=True,
        max_batch_size=BATCH_MAX_REQUESTS,
        max_latency_ms=BATCH_MAX_LATENCY_MS,
    )
    def generate_batch(self, items: list[BatchItem]) -> list[dict[str, Any]]:
        """One PNG per item ``{"label", "seed"?}``; items of concurrent requests run together."""
        gen = self.generator
        seeds = [_seed(item.seed) for item in items]
        indices = [gen.class_index(item.label) for item in items]  # validated per request already
        z = np.concatenate([gen.latents(1, s) for s in seeds]) if items else np.zeros((0, gen.latent_dim), np.float32)
        images = gen.generate_from_latents(z, np.asarray(indices, dtype=np.int64))
        return [
            {"label": gen.classes[i], "class_index": i, "seed": s, "png": base64.b64encode(png_bytes(image)).decode("ascii")}
            for i, s, image in zip(indices, seeds, images)
        ]


AugmentGanService.add_asgi_middleware(ServiceMiddleware, max_body=MAX_BODY_BYTES)
