"""HTTP inference service (BentoML 1.4): a thin layer over the onnxruntime generator.

No torch, no training code: each worker loads one model dir (``generator.onnx`` +
``card.json``) with :class:`augment_gan.runtime.generator.OnnxGenerator` in the service's
``__init__``; its generation runs on one inference thread that batches concurrent requests
(:mod:`augment_gan.service.batching`). Endpoints and examples: ``service/README.md``; configuration (environment
variables): :mod:`service.settings`; request limits: :mod:`service.schemas`; the error shape:
:mod:`service.middleware`.

Serve: ``bentoml serve augment_gan.service.app:AugmentGanService --host 127.0.0.1 --port 3000``
(or ``augment-gan serve``); the Bento's entry point is ``service/service.py``.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import bentoml
import numpy as np
from bentoml.exceptions import InvalidArgument
from starlette.responses import Response

from augment_gan.errors import AugmentGanError, ConfigError
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.service import bentoml_fixes
from augment_gan.service.batching import RequestBatcher
from augment_gan.service.encoding import batch_payload, encode_generate, grid_png, image_headers, negotiate
from augment_gan.service.middleware import ServiceMiddleware
from augment_gan.service.schemas import (
    BATCH_MAX_LATENCY_MS,
    BATCH_MAX_REQUESTS,
    MAX_BODY_BYTES,
    BatchItem,
    BatchRequest,
    GenerateRequest,
    GridRequest,
    check_label,
    draw_seed,
)
from augment_gan.service.settings import Settings
from augment_gan.service.state import ModelState, preflight

bentoml_fixes.apply()  # BentoML 1.4.39's per-request timer keeps every request's span for 120 s
try:
    SETTINGS = Settings.from_env()
    """Read once per process, at import: ``@bentoml.service`` below needs the workers and the GPU request."""
except ConfigError as e:  # an unreadable token file or thread count: one line, not a traceback
    raise SystemExit(f"augment-gan service: {e}") from None


@bentoml.service(name="augment_gan", **SETTINGS.service_config())
class AugmentGanService:
    """Class-conditional image generation from one augment-gan model dir (onnxruntime)."""

    @bentoml.on_deployment
    def refuse_unservable_model() -> None:
        """Fail fast, once, in the ``bentoml serve`` process before it starts any worker.

        ``bentoml serve`` exits 1 with the message instead of starting workers that cannot
        serve (a worker whose ``__init__`` raised would be restarted over and over). BentoML
        runs this hook only when serving (not on import, not in ``bentoml build``, not in
        the workers), so importing this module has no such side effect.
        """
        try:
            preflight(SETTINGS)
        except AugmentGanError as e:
            raise SystemExit(f"augment-gan service: {e}") from None

    def __init__(self) -> None:
        self.state = ModelState.load(SETTINGS)
        gen = self.state.generator
        self.batcher = RequestBatcher(gen) if gen is not None else None  # without a model the middleware answers 503
        cores = max(1, (os.cpu_count() or 1) // SETTINGS.workers)
        self.encoder = ThreadPoolExecutor(max_workers=cores, thread_name_prefix="augment-gan-encode")

    def __is_ready__(self) -> bool:
        return self.state.ready

    @property
    def generator(self) -> OnnxGenerator:
        return self.state.require()

    def _index(self, label: str | int) -> int:
        try:
            return check_label(self.generator, label)
        except ValueError as e:  # validated already; belt and braces
            raise InvalidArgument(str(e)) from None

    def _images(self, label: str | int, count: int, seed: int) -> tuple[int, np.ndarray]:
        index = self._index(label)
        assert self.batcher is not None
        return index, self.batcher.generate(index, count, seed)

    @bentoml.api(route="/generate", input_spec=GenerateRequest)
    async def generate(
        self, label: str | int, count: int, ctx: bentoml.Context, seed: int | None = None, format: str = "png"
    ) -> Any:
        """``count`` images of one class: JSON (base64 PNGs or ``.npy``), or raw ``.npy`` / a zip by ``Accept``.

        Async: the request waits for the inference thread without holding a thread, and the
        encoding runs on a pool of one thread per core of this worker (the hot path; no
        thread per request).
        """
        seed = draw_seed(seed)
        index = self._index(label)
        assert self.batcher is not None
        images = await asyncio.wrap_future(self.batcher.submit(index, count, seed))
        media = negotiate(ctx.request.headers.get("accept", ""))
        encoded = await asyncio.get_running_loop().run_in_executor(
            self.encoder, encode_generate, self.generator, index, seed, images, format, media
        )
        return Response(encoded.body, media_type=encoded.media_type, headers=encoded.headers)

    @bentoml.api(route="/generate_grid", input_spec=GridRequest)
    def generate_grid(self, label: str | int, count: int, seed: int | None = None, nrow: int | None = None) -> Any:
        """One PNG grid of ``count`` images of one class (image/png)."""
        seed = draw_seed(seed)
        index, images = self._images(label, count, seed)
        return Response(
            grid_png(images, nrow), media_type="image/png", headers=image_headers(self.generator, index, seed)
        )

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
        assert self.batcher is not None
        seeds = [draw_seed(item.seed) for item in items]
        indices = [gen.class_index(item.label) for item in items]  # validated per request already
        # item i is generate(label_i, 1, seed=seed_i): the same latent and candidates under per-sample selection
        futures = [self.batcher.submit(index, 1, seed) for index, seed in zip(indices, seeds, strict=True)]
        images = (
            np.concatenate([f.result() for f in futures])
            if futures
            else np.zeros((0, gen.resolution, gen.resolution, gen.channels), np.uint8)
        )
        return batch_payload(gen, indices, seeds, images)


AugmentGanService.add_asgi_middleware(ServiceMiddleware, max_body=MAX_BODY_BYTES, auth=SETTINGS.auth)
