"""Concurrent ``/generate`` requests share onnxruntime runs: one inference thread, batches across requests.

Each request thread hands its ``(class, count, seed)`` to :class:`RequestBatcher` and waits;
the inference thread takes every request queued at that moment (up to ``max_images``
images), runs them as one :meth:`OnnxGenerator.selected` call and hands each request its
rows. So at most one onnxruntime run uses the cores at a time (no oversubscription when 32
requests arrive together), runs get larger as load grows, and the request threads encode
PNG / JSON while the next batch runs.

Pixels do not depend on the company a request keeps: request *r*'s rows are its own
latents (``OnnxGenerator.latents(count, seed)``) and its own retry candidates
(``retry_latent(seed, class, row, attempt, stream=1)``), exactly what
``OnnxGenerator.generate(class, count, seed=seed)`` uses, and every row is generated and
checked on its own (``tests/service/test_batching.py`` compares them).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.latents import retry_latent

MAX_BATCH_IMAGES = 256
"""Most images in one shared run (a larger single request still runs alone, in one piece)."""


@dataclass
class _Job:
    index: int
    count: int
    seed: int
    done: Future = field(default_factory=Future)


_STOP = _Job(-1, 0, 0)


class RequestBatcher:
    """``submit(index, count, seed)`` from any thread; the work runs batched on one inference thread."""

    def __init__(self, gen: OnnxGenerator, max_images: int = MAX_BATCH_IMAGES) -> None:
        self.gen = gen
        self.max_images = max_images
        self.batches = 0
        self.requests = 0
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="augment-gan-inference", daemon=True)
        self._thread.start()

    def submit(self, index: int, count: int, seed: int) -> Future:
        """A future of what ``gen.generate(index, count, seed=seed)`` returns, computed on the inference thread."""
        job = _Job(index, count, seed)
        self._queue.put(job)
        return job.done

    def generate(self, index: int, count: int, seed: int) -> np.ndarray:
        return self.submit(index, count, seed).result()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        carried: _Job | None = None
        while True:
            job = carried or self._queue.get()
            carried = None
            if job is _STOP:
                return
            jobs, images = [job], job.count
            while images < self.max_images:  # everything already waiting, up to max_images
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP or images + nxt.count > self.max_images:
                    carried = nxt  # first in the next batch (or the stop, after this batch)
                    break
                jobs.append(nxt)
                images += nxt.count
            self._run(jobs)

    def _run(self, jobs: list[_Job]) -> None:
        gen = self.gen
        try:
            z = np.concatenate([gen.latents(j.count, j.seed) for j in jobs])
            labels = np.concatenate([np.full(j.count, j.index, dtype=np.int64) for j in jobs])
            owner = [(j, row) for j in jobs for row in range(j.count)]

            def retry(row: int, attempt: int) -> np.ndarray:
                job, local = owner[row]
                return retry_latent(job.seed, job.index, local, attempt, gen.latent_dim, stream=1)

            images = gen.selected(z, labels, retry)
        except BaseException as e:  # every waiting request gets the error (a 500), the thread lives on
            for j in jobs:
                j.done.set_exception(e)
            return
        self.batches += 1
        self.requests += len(jobs)
        start = 0
        for j in jobs:
            j.done.set_result(images[start : start + j.count])
            start += j.count
